package org.corral.server.tls;

import org.corral.cluster.tls.CertificateAuthority;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.cluster.tls.KeyType;
import org.corral.cluster.tls.SubjectAltNames;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Which certificate a node serves: an upload ({@code pveproxy-ssl.pem}) over the cluster-issued one. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CertificateSelectionTest {
    private final Clock clock = Clock.systemUTC();
    private final SubjectAltNames names = new SubjectAltNames(List.of("localhost"), List.of());
    private final CertificateAuthority cluster = CertificateAuthority.generate(KeyType.EC_P256, clock);
    private final CertifiedKey issued = cluster.issue("node1", names, KeyType.EC_P256);
    private final PemPair issuedPem = new PemPair(issued.chainPem(), issued.privateKeyPem());
    private final CertificateAuthority foreign = CertificateAuthority.generate(KeyType.EC_P256, clock);
    private final CertifiedKey uploaded = foreign.issue("pve.example.com", names, KeyType.EC_P256);

    @Test
    void servesTheClusterIssuedCertificateWithoutUpload() {
        assertThat(NodeTls.choose(Optional.empty(), issuedPem, clock)).isEqualTo(issued);
    }

    @Test
    void uploadedCertificateTakesPrecedence() {
        PemPair upload = new PemPair(uploaded.chainPem(), uploaded.privateKeyPem());

        assertThat(NodeTls.choose(Optional.of(upload), issuedPem, clock)).isEqualTo(uploaded);
    }

    @Test
    void expiredUploadIsStillServed() {
        Clock later = Clock.fixed(clock.instant().plus(800, ChronoUnit.DAYS), ZoneOffset.UTC);
        PemPair upload = new PemPair(uploaded.chainPem(), uploaded.privateKeyPem());

        assertThat(NodeTls.choose(Optional.of(upload), issuedPem, later)).isEqualTo(uploaded);
    }

    @Test
    void uploadWithForeignKeyFallsBackToTheClusterIssuedCertificate() {
        PemPair broken = new PemPair(uploaded.chainPem(), issued.privateKeyPem());

        assertThat(NodeTls.choose(Optional.of(broken), issuedPem, clock)).isEqualTo(issued);
    }

    @Test
    void unreadableIssuedCertificateIsAnError() {
        assertThatThrownBy(() -> NodeTls.choose(Optional.empty(), new PemPair("", issued.privateKeyPem()), clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no certificate given");
    }

    @Test
    void secretsStayOutOfToString() {
        assertThat(issued.toString())
                .isEqualTo("CertifiedKey[CN=node1, O=Corral Virtual Environment, OU=Corral Cluster Node,"
                        + " 1 certificate(s), EC 256-bit key]");
        assertThat(issuedPem.toString()).doesNotContain("PRIVATE");
    }
}
