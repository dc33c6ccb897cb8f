package org.corral.server.tls;

import org.corral.cluster.tls.CertificateAuthority;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.cluster.tls.KeyType;
import org.corral.cluster.tls.SubjectAltNames;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * Run in a child JVM whose security policy allows TLS 1.1 (see {@link CertificateTlsIT}): a TLS 1.1 client
 * tries a plain JDK server that enables TLS 1.1 (the control, which must succeed), then Corral's Jetty
 * settings. Prints one line per attempt: {@code control: ...} and {@code corral: ...}.
 */
final class LegacyTlsProbe {
    private static final String[] TLS_1_1 = {"TLSv1.1"};

    private LegacyTlsProbe() {}

    public static void main(String[] args) throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        CertificateAuthority ca = CertificateAuthority.generate(KeyType.EC_P256, Clock.systemUTC());
        CertifiedKey key = ca.issue("localhost", new SubjectAltNames(List.of("localhost"), List.of(loopback)));
        SSLContext client = TestCertificates.trusting(ca.certificate());

        try (SSLServerSocket control = (SSLServerSocket)
                NodeTls.sslContext(key).getServerSocketFactory().createServerSocket(0, 1, loopback)) {
            control.setEnabledProtocols(TLS_1_1);
            Thread acceptor = Thread.ofPlatform().start(() -> {
                try (SSLSocket socket = (SSLSocket) control.accept()) {
                    socket.startHandshake();
                } catch (IOException e) {
                    System.out.println("control server: " + e);
                }
            });
            System.out.println("control: " + handshake(client, control.getLocalPort()));
            acceptor.join();
        }

        try (TestHttpsServer server =
                new TestHttpsServer(NodeTls.sslContextFactory(key), NodeTls.secureRequestCustomizer())) {
            System.out.println("corral: " + handshake(client, server.port()));
        }
    }

    private static String handshake(SSLContext client, int port) {
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setEnabledProtocols(TLS_1_1);
            socket.startHandshake();
            return "accepted " + socket.getSession().getProtocol();
        } catch (IOException e) {
            return "refused " + e;
        }
    }
}
