package org.corral.server.tls;

import org.corral.cluster.tls.CertificateAuthority;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.cluster.tls.KeyType;
import org.corral.cluster.tls.SubjectAltNames;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.corral.server.tls.TestCertificates.address;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CertificateAuthorityTest {
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

    private final Clock clock = Clock.systemUTC();
    private final CertificateAuthority ca = CertificateAuthority.generate(clock);
    private final SubjectAltNames names = new SubjectAltNames(
            List.of("node1", "node1.example.com", "localhost"),
            List.of(address("127.0.0.1"), address("192.0.2.10"), address("::1")));
    private final CertifiedKey node = ca.issue("node1", names);

    @Test
    void caIsSelfSignedEcP384CertificateAuthorityValidForTenYears() throws Exception {
        X509Certificate certificate = ca.certificate();

        certificate.verify(certificate.getPublicKey());
        assertThat(certificate.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(certificate.getKeyUsage()[5]).as("keyCertSign").isTrue();
        assertThat(certificate.getPublicKey()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey) certificate.getPublicKey()).getParams().getOrder().bitLength()).isEqualTo(384);
        assertThat(certificate.getSigAlgName()).isEqualTo("SHA384withECDSA");
        assertThat(certificate.getSubjectX500Principal().getName())
                .startsWith("O=Corral Cluster Manager CA,OU=")
                .endsWith(",CN=Corral Virtual Environment");
        assertThat(Duration.between(clock.instant(), certificate.getNotAfter().toInstant()).toDays())
                .isCloseTo(3650, within(1L));
    }

    @Test
    void twoCasNeverShareTheirSubject() {
        CertificateAuthority other = CertificateAuthority.generate(clock);

        assertThat(other.certificate().getSubjectX500Principal())
                .isNotEqualTo(ca.certificate().getSubjectX500Principal());
    }

    @Test
    void nodeCertificateValidatesAgainstTheCaForTlsServers() throws Exception {
        X509Certificate leaf = node.certificate();

        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca.certificate(), null)));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), parameters);
        assertThat(leaf.getExtendedKeyUsage()).containsExactly(SERVER_AUTH);
        assertThat(leaf.getBasicConstraints()).as("not a CA").isEqualTo(-1);
        assertThat(leaf.getKeyUsage()[0]).as("digitalSignature").isTrue();
        assertThat(leaf.getKeyUsage()[2]).as("keyEncipherment").isTrue();
        assertThat(leaf.getPublicKey()).isInstanceOf(RSAPublicKey.class);
        assertThat(((RSAPublicKey) leaf.getPublicKey()).getModulus().bitLength()).isEqualTo(2048);
        assertThat(Duration.between(clock.instant(), leaf.getNotAfter().toInstant()).toDays())
                .isCloseTo(730, within(1L));
        assertThat(leaf.getNotBefore().toInstant()).isBefore(clock.instant());
        assertThat(node.chain()).containsExactly(leaf);
    }

    @Test
    void nodeCertificateNamesTheNodeAndItsAddresses() throws Exception {
        X509Certificate leaf = node.certificate();

        assertThat(leaf.getSubjectX500Principal().getName())
                .isEqualTo("CN=node1,O=Corral Virtual Environment,OU=Corral Cluster Node");
        assertThat(sans(leaf)).containsExactly(
                List.of(2, "node1"),
                List.of(2, "node1.example.com"),
                List.of(2, "localhost"),
                List.of(7, "127.0.0.1"),
                List.of(7, "192.0.2.10"),
                List.of(7, "0:0:0:0:0:0:0:1"));
    }

    @Test
    void nodeNameLeadsTheSansEvenWhenNotListed() throws Exception {
        CertifiedKey issued = ca.issue("pve2", new SubjectAltNames(List.of("localhost"), List.of()), KeyType.EC_P256);

        assertThat(sans(issued.certificate())).containsExactly(List.of(2, "pve2"), List.of(2, "localhost"));
    }

    @Test
    void nodeCertificateNeverOutlivesItsCa() {
        Clock longAgo = Clock.fixed(clock.instant().minus(3600, ChronoUnit.DAYS), ZoneOffset.UTC);
        CertificateAuthority old = CertificateAuthority.generate(KeyType.EC_P256, longAgo);
        CertificateAuthority reloaded = CertificateAuthority.fromPem(old.certificatePem(), old.privateKeyPem(), clock);

        CertifiedKey issued = reloaded.issue("node1", names, KeyType.EC_P256);

        assertThat(issued.certificate().getNotAfter()).isEqualTo(old.certificate().getNotAfter());
    }

    @Test
    void caSurvivesPemRoundTripAndKeepsIssuing() throws Exception {
        String certificatePem = ca.certificatePem();
        String keyPem = ca.privateKeyPem();

        CertificateAuthority reloaded = CertificateAuthority.fromPem(certificatePem, keyPem, clock);
        CertifiedKey issued = reloaded.issue("node2", names, KeyType.EC_P256);

        assertThat(certificatePem).startsWith("-----BEGIN CERTIFICATE-----\n").endsWith("-----END CERTIFICATE-----\n");
        assertThat(keyPem).startsWith("-----BEGIN PRIVATE KEY-----\n").endsWith("-----END PRIVATE KEY-----\n");
        assertThat(reloaded.certificate()).isEqualTo(ca.certificate());
        assertThat(reloaded.privateKeyPem()).isEqualTo(keyPem);
        issued.certificate().verify(ca.certificate().getPublicKey());
    }

    @Test
    void fromPemRefusesTheKeyOfAnotherCa() {
        CertificateAuthority other = CertificateAuthority.generate(KeyType.EC_P384, clock);

        assertThatThrownBy(() -> CertificateAuthority.fromPem(ca.certificatePem(), other.privateKeyPem(), clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("private key does not match CA");
    }

    @Test
    void fromPemRefusesANodeCertificate() {
        assertThatThrownBy(() -> CertificateAuthority.fromPem(node.chainPem(), node.privateKeyPem(), clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a CA certificate");
    }

    @ParameterizedTest
    @CsvSource({
        "EC_P384, RSA_2048, SHA384withECDSA, RSA",
        "RSA_2048, EC_P256, SHA256withRSA, EC",
        "EC_P256, EC_P384, SHA256withECDSA, EC",
    })
    void signsWithTheAlgorithmOfTheCaKey(KeyType caKey, KeyType nodeKey, String signature, String nodeAlgorithm)
            throws Exception {
        CertificateAuthority authority = CertificateAuthority.generate(caKey, clock);

        X509Certificate leaf = authority.issue("node1", names, nodeKey).certificate();

        assertThat(leaf.getSigAlgName()).isEqualTo(signature);
        assertThat(leaf.getPublicKey().getAlgorithm()).isEqualTo(nodeAlgorithm);
        assertThat(leaf.getKeyUsage()[2]).as("keyEncipherment only for RSA").isEqualTo(nodeAlgorithm.equals("RSA"));
        leaf.verify(authority.certificate().getPublicKey());
    }

    @Test
    void serialNumbersArePositiveAndNeverRepeat() {
        X509Certificate first = ca.issue("node1", names, KeyType.EC_P256).certificate();
        X509Certificate second = ca.issue("node1", names, KeyType.EC_P256).certificate();

        assertThat(first.getSerialNumber()).isPositive().isNotEqualTo(second.getSerialNumber());
        assertThat(ca.certificate().getSerialNumber()).isPositive();
    }

    @Test
    void discoveredNamesHoldNodeNameLocalhostAndEveryHostAddressButLinkLocal() throws Exception {
        String host = InetAddress.getLocalHost().getHostName();

        SubjectAltNames discovered = SubjectAltNames.discover(host);

        assertThat(discovered.dnsNames().getFirst()).isEqualTo(host);
        assertThat(discovered.dnsNames()).contains("localhost").doesNotHaveDuplicates();
        assertThat(discovered.ipAddresses()).contains(address("127.0.0.1")).doesNotHaveDuplicates();
        List<InetAddress> hostAddresses = NetworkInterface.networkInterfaces()
                .flatMap(NetworkInterface::inetAddresses)
                .filter(a -> !(a.isLinkLocalAddress() && a.getAddress().length == 16))
                .map(a -> address(a.getHostAddress().replaceFirst("%.*$", "")))
                .toList();
        assertThat(discovered.ipAddresses()).containsAll(hostAddresses);
        assertThat(discovered.ipAddresses()).noneMatch(a -> a.isLinkLocalAddress() && a.getAddress().length == 16);
        assertThat(discovered.ipAddresses())
                .as("IPv4 first")
                .isSortedAccordingTo((a, b) -> Integer.compare(a.getAddress().length, b.getAddress().length));
    }

    private static List<List<?>> sans(X509Certificate certificate) throws Exception {
        Collection<List<?>> names = certificate.getSubjectAlternativeNames();
        return List.copyOf(names);
    }
}
