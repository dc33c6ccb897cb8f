package org.corral.server.tls;

import org.corral.cluster.tls.CertificateAuthority;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.cluster.tls.KeyType;
import org.corral.cluster.tls.Pem;
import org.corral.cluster.tls.SubjectAltNames;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.server.tls.TestCertificates.address;

import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import org.corral.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CertificateInfoTest {
    private final CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());
    private final CertifiedKey node = ca.issue("node1", new SubjectAltNames(
            List.of("node1", "node1.example.com", "localhost"),
            List.of(address("127.0.0.1"), address("192.0.2.10"), address("::1"), address("2001:db8::5"))));
    private final CertificateInfo info = CertificateInfo.of("pve-ssl.pem", node.chainPem());

    @Test
    void fingerprintIsSha256InUpperCaseHexPairs() throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(node.certificate().getEncoded());

        assertThat(info.fingerprint()).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
        assertThat(info.fingerprint().replace(":", "")).isEqualTo(HexFormat.of().withUpperCase().formatHex(digest));
        assertThat(CertificateInfo.fingerprint(node.certificate())).isEqualTo(info.fingerprint());
    }

    @Test
    void sanListsDnsNamesAndAddressesAsProxmoxDoes() {
        assertThat(info.san()).containsExactly(
                "node1",
                "node1.example.com",
                "localhost",
                "127.0.0.1",
                "192.0.2.10",
                "0000:0000:0000:0000:0000:0000:0000:0001",
                "2001:0db8:0000:0000:0000:0000:0000:0005");
    }

    @Test
    void namesAreOpenSslOneLinersInEncodedOrder() {
        assertThat(info.subject()).isEqualTo("/OU=Corral Cluster Node/O=Corral Virtual Environment/CN=node1");
        assertThat(info.issuer())
                .matches("/CN=Corral Virtual Environment/OU=[0-9a-f-]{36}/O=Corral Cluster Manager CA");
    }

    @Test
    void namesEscapeBytesOutsidePrintableAscii() {
        KeyPair keys = KeyType.EC_P256.generate(new SecureRandom());
        Instant now = Instant.now();
        X509Certificate certificate = TestCertificates.certificate("C=AT,L=Wien,O=Grüne Wiese,CN=pve.example.com",
                keys.getPublic(), null, keys.getPrivate(), now, now.plus(1, ChronoUnit.DAYS), false, List.of());

        CertificateInfo custom = CertificateInfo.of("pveproxy-ssl.pem", certificate);

        assertThat(custom.subject()).isEqualTo("/C=AT/L=Wien/O=Gr\\xC3\\xBCne Wiese/CN=pve.example.com");
        assertThat(custom.san()).isEmpty();
        assertThat(custom.publicKeyType()).isEqualTo("id-ecPublicKey");
        assertThat(custom.publicKeyBits()).isEqualTo(256);
    }

    @Test
    void validityIsInEpochSeconds() {
        assertThat(info.notbefore()).isEqualTo(node.certificate().getNotBefore().toInstant().getEpochSecond());
        assertThat(info.notafter()).isEqualTo(node.certificate().getNotAfter().toInstant().getEpochSecond());
        assertThat(info.notafter() - info.notbefore()).isEqualTo(730L * 86400 + 3600);
    }

    @Test
    void publicKeyIsDescribedWithOpenSslNames() {
        CertificateInfo caInfo = CertificateInfo.of("pve-root-ca.pem", ca.certificatePem());

        assertThat(info.publicKeyType()).isEqualTo("rsaEncryption");
        assertThat(info.publicKeyBits()).isEqualTo(2048);
        assertThat(caInfo.publicKeyType()).isEqualTo("id-ecPublicKey");
        assertThat(caInfo.publicKeyBits()).isEqualTo(384);
    }

    @Test
    void pemHoldsOnlyTheFirstCertificateOfAChain() {
        CertificateInfo chainInfo = CertificateInfo.of("pveproxy-ssl.pem", node.chainPem() + ca.certificatePem());

        assertThat(chainInfo.pem()).isEqualTo(Pem.certificate(node.certificate()));
        assertThat(chainInfo.filename()).isEqualTo("pveproxy-ssl.pem");
        assertThat(chainInfo.subject()).isEqualTo(info.subject());
    }

    @Test
    void jsonUsesProxmoxFieldNames() {
        JsonNode json = Json.tree(info);

        assertThat(json.propertyNames()).containsExactlyInAnyOrder("filename", "fingerprint", "subject", "issuer",
                "notbefore", "notafter", "san", "public-key-type", "public-key-bits", "pem");
        assertThat(json.get("public-key-bits").asInt()).isEqualTo(2048);
        assertThat(json.get("san").get(3).asString()).isEqualTo("127.0.0.1");
    }

    @Test
    void refusesTextWithoutCertificate() {
        assertThatThrownBy(() -> CertificateInfo.of("pve-ssl.pem", "garbage"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no PEM certificate found");
    }
}
