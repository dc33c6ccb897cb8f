package org.corral.server.tls;

import org.corral.cluster.tls.CertificateAuthority;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.cluster.tls.SubjectAltNames;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.server.tls.TestCertificates.address;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real handshakes against Jetty configured by {@link NodeTls}, on 127.0.0.1. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CertificateTlsIT {
    private final CertificateAuthority ca = CertificateAuthority.generate(Clock.systemUTC());
    private final CertifiedKey node = ca.issue("node1", new SubjectAltNames(
            List.of("node1", "localhost"), List.of(address("127.0.0.1"), address("::1"))));
    private final SslContextFactory.Server tls =
            NodeTls.sslContextFactory(new PemPair(node.chainPem(), node.privateKeyPem()));
    private final TestHttpsServer server = new TestHttpsServer(tls, NodeTls.secureRequestCustomizer());
    private final SSLContext client = TestCertificates.trusting(ca.certificate());

    CertificateTlsIT() throws Exception {}

    @AfterAll
    void stop() {
        server.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void handshakeSucceedsAndServesTheNodeCertificate(String protocol) throws IOException {
        try (SSLSocket socket = socket(server.port())) {
            socket.setEnabledProtocols(new String[] {protocol});
            socket.startHandshake();

            assertThat(socket.getSession().getProtocol()).isEqualTo(protocol);
            assertThat(socket.getSession().getCipherSuite()).containsAnyOf("_GCM_", "_CHACHA20_");
            assertThat(socket.getSession().getPeerCertificates()).containsExactly(node.certificate());
            assertThat(get(socket, "node1")).startsWith("HTTP/1.1 200 ").endsWith("ok");
        }
    }

    @Test
    void httpsClientVerifiesTheNodeByAddressAndByName() throws Exception {
        HttpClient https = HttpClient.newBuilder().sslContext(client).build();

        for (String host : List.of("127.0.0.1", "localhost")) {
            HttpResponse<String> response = https.send(
                    HttpRequest.newBuilder(URI.create("https://" + host + ":" + server.port() + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).as(host).isEqualTo(200);
            assertThat(response.body()).isEqualTo("ok");
        }
    }

    @Test
    void hostNamesOutsideTheCertificateAreServed() throws Exception {
        try (SSLSocket socket = socket(server.port())) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName("pve.other.example")));
            socket.setSSLParameters(parameters);

            assertThat(get(socket, "pve.other.example")).startsWith("HTTP/1.1 200 ");
        }
    }

    @Test
    void jettysDefaultCustomizerWouldRefuseThoseHostNames() throws Exception {
        try (TestHttpsServer strict =
                        new TestHttpsServer(NodeTls.sslContextFactory(node), new SecureRequestCustomizer());
                SSLSocket socket = socket(strict.port())) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName("pve.other.example")));
            socket.setSSLParameters(parameters);

            assertThat(get(socket, "pve.other.example")).startsWith("HTTP/1.1 400 ").contains("Invalid SNI");
        }
    }

    @Test
    void serverEnablesOnlyTls12And13WithAeadSuites() {
        assertThat(tls.getSelectedProtocols()).containsExactlyInAnyOrder("TLSv1.3", "TLSv1.2");
        assertThat(tls.getSelectedCipherSuites())
                .contains("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
                // a signalling value (RFC 5746), not a cipher
                .filteredOn(suite -> !suite.equals("TLS_EMPTY_RENEGOTIATION_INFO_SCSV"))
                .allMatch(suite -> suite.contains("_GCM_") || suite.contains("_CHACHA20_"), "AEAD")
                .noneMatch(suite -> suite.startsWith("TLS_RSA_"), "RSA key exchange")
                .noneMatch(suite -> suite.startsWith("TLS_DHE_DSS_"), "DSA");
    }

    @Test
    void jdkClientCannotEvenOfferTls11() throws IOException {
        // the JDK's own policy (jdk.tls.disabledAlgorithms) stops a TLS 1.1 client before it sends a byte,
        // which proves nothing about the server; the child JVM below lifts that policy
        try (SSLSocket socket = socket(server.port())) {
            socket.setEnabledProtocols(new String[] {"TLSv1.1"});

            assertThatThrownBy(socket::startHandshake).hasMessageContaining("No appropriate protocol");
        }
    }

    @Test
    void tls11IsRefusedEvenWhereTheJdkPolicyAllowsIt(@TempDir Path temp) throws Exception {
        // the JDK default minus TLSv1, TLSv1.1 and the SHA-1 handshake signatures that TLS 1.1 needs
        Path security = temp.resolve("legacy-tls.security");
        Files.writeString(security, "jdk.tls.disabledAlgorithms=SSLv3, DTLSv1.0, RC4, DES, MD5withRSA,"
                + " DH keySize < 1024, EC keySize < 224, 3DES_EDE_CBC, anon, NULL\n");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process probe = new ProcessBuilder(java, "-Djava.security.properties=" + security,
                        "-cp", System.getProperty("java.class.path"), LegacyTlsProbe.class.getName())
                .redirectErrorStream(true)
                .start();

        String output = new String(probe.getInputStream().readAllBytes(), US_ASCII);

        assertThat(probe.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(probe.exitValue()).as(output).isZero();
        assertThat(output).as("a TLS 1.1 handshake works in this JVM").contains("control: accepted TLSv1.1");
        assertThat(output).containsPattern("corral: refused .*protocol_version");
    }

    private SSLSocket socket(int port) throws IOException {
        return (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", port);
    }

    private static String get(SSLSocket socket, String host) throws IOException {
        String request = "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(US_ASCII));
        socket.getOutputStream().flush();
        return new String(socket.getInputStream().readAllBytes(), US_ASCII);
    }
}
