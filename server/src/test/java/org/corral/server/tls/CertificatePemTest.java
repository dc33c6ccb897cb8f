package org.corral.server.tls;

import org.corral.cluster.tls.CertificateAuthority;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.cluster.tls.KeyType;
import org.corral.cluster.tls.Pem;
import org.corral.cluster.tls.SubjectAltNames;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CertificatePemTest {
    private final CertificateAuthority ca = CertificateAuthority.generate(KeyType.EC_P256, Clock.systemUTC());
    private final CertifiedKey node = ca.issue("node1", new SubjectAltNames(List.of(), List.of()));
    private final KeyPair ecKeys = KeyType.EC_P384.generate(new SecureRandom());

    @Test
    void certificateChainSurvivesRoundTrip() {
        String pem = Pem.certificates(List.of(node.certificate(), ca.certificate()));

        assertThat(Pem.parseCertificates(pem)).containsExactly(node.certificate(), ca.certificate());
    }

    @Test
    void pemLinesAreSixtyFourCharactersLikeOpenSsl() {
        List<String> lines = Pem.certificate(node.certificate()).lines().toList();

        assertThat(lines.getFirst()).isEqualTo("-----BEGIN CERTIFICATE-----");
        assertThat(lines.getLast()).isEqualTo("-----END CERTIFICATE-----");
        assertThat(lines.subList(1, lines.size() - 2)).allMatch(line -> line.length() == 64);
        assertThat(lines.get(lines.size() - 2).length()).isBetween(1, 64);
    }

    @Test
    void parsingSkipsSurroundingTextAndAcceptsCrLf() {
        String pem = "Bag Attributes\r\n    friendlyName: node\r\nsubject=CN=node1\r\n"
                + Pem.certificate(node.certificate()).replace("\n", "\r\n") + "trailing words\r\n";

        assertThat(Pem.parseCertificates(pem)).containsExactly(node.certificate());
    }

    @Test
    void pkcs8KeySurvivesRoundTrip() {
        String pem = node.privateKeyPem();

        assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----\n");
        assertThat(Pem.parsePrivateKey(pem)).isEqualTo(node.privateKey());
    }

    @Test
    void readsPkcs1RsaKey() throws Exception {
        String pem = TestCertificates.pkcs1(node.privateKey());

        assertThat(pem).startsWith("-----BEGIN RSA PRIVATE KEY-----\n");
        assertThat(Pem.parsePrivateKey(pem).getEncoded()).isEqualTo(node.privateKey().getEncoded());
    }

    @Test
    void readsSec1EcKeyAlsoAfterAnEcParametersBlock() throws Exception {
        ECPrivateKey key = (ECPrivateKey) ecKeys.getPrivate();
        String sec1 = TestCertificates.sec1(key, ecKeys.getPublic());

        assertThat(sec1).startsWith("-----BEGIN EC PRIVATE KEY-----\n");
        assertThat(((ECPrivateKey) Pem.parsePrivateKey(sec1)).getS()).isEqualTo(key.getS());
        assertThat(((ECPrivateKey) Pem.parsePrivateKey(TestCertificates.ecParameters(key) + sec1)).getS())
                .isEqualTo(key.getS());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "  \n",
        "hello world",
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nMIIB\n"
    })
    void refusesTextWithoutAReadableCertificate(String text) {
        assertThatThrownBy(() -> Pem.parseCertificates(text))
                .isInstanceOf(IllegalArgumentException.class)
                .message()
                .containsAnyOf("no certificate given", "no PEM certificate found", "not a valid PEM certificate",
                        "not a valid X.509 certificate");
    }

    @Test
    void refusesTwoKeysAndKeysInTheCertificateText() {
        String key = node.privateKeyPem();

        assertThatThrownBy(() -> Pem.parsePrivateKey(key + key)).hasMessage("expected one private key, found 2");
        assertThatThrownBy(() -> Pem.parseCertificates(node.chainPem() + key))
                .hasMessageStartingWith("expected only CERTIFICATE blocks, found a private key (block 2)");
        assertThatThrownBy(() -> Pem.parsePrivateKey(node.chainPem()))
                .hasMessage("expected a private key, found a certificate");
    }
}
