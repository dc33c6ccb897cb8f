package org.corral.server.tls;

import org.corral.cluster.tls.CertifiedKey;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for the node's HTTPS API on port 8006: which certificate to serve, and the Jetty settings to serve it
 * with (TLS 1.2 and 1.3 only, forward-secret AEAD cipher suites, any host name accepted).
 *
 * <p>Wire a connector as
 * {@code new ServerConnector(server, NodeTls.sslContextFactory(key), new HttpConnectionFactory(config))} with
 * {@code config.addCustomizer(NodeTls.secureRequestCustomizer())}: Jetty's default customizer answers 400
 * "Invalid SNI" to every request whose host is not in the certificate, and Proxmox clients reach nodes by
 * addresses and names that the cluster-issued certificate cannot know.
 */
public final class NodeTls {
    private static final Logger log = LoggerFactory.getLogger(NodeTls.class);

    /** The protocols served, best first. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** Alias of the node's key in {@link #keyStore}. */
    public static final String ALIAS = "node";

    /** Password of {@link #keyStore} and its key entry; no secret, since the store never leaves memory. */
    public static final String KEY_STORE_PASSWORD = "corral";

    private NodeTls() {}

    /**
     * The uploaded certificate ({@code pveproxy-ssl.pem}) when there is one and its key belongs to it, else the
     * cluster-issued one ({@code pve-ssl.pem}). An expired upload is still served, as Proxmox does, so that the
     * GUI shows the problem instead of the node changing identity.
     */
    public static CertifiedKey choose(Optional<PemPair> custom, PemPair issued, Clock clock) {
        requireNonNull(custom, "custom is null");
        requireNonNull(issued, "issued is null");
        requireNonNull(clock, "clock is null");
        if (custom.isPresent()) {
            try {
                CertifiedKey uploaded = CertifiedKey.fromPem(custom.get().certificates(), custom.get().key());
                Instant notAfter = uploaded.certificate().getNotAfter().toInstant();
                if (notAfter.isBefore(clock.instant())) {
                    log.warn("Serving the uploaded certificate {} although it expired on {}",
                            uploaded.certificate().getSubjectX500Principal(), notAfter);
                }
                return uploaded;
            } catch (IllegalArgumentException e) {
                log.warn("Ignoring the uploaded certificate, serving the cluster-issued one: {}", e.getMessage());
            }
        }
        return CertifiedKey.fromPem(issued.certificates(), issued.key());
    }

    /** A PKCS#12 key store in memory holding the key and its chain under {@link #ALIAS}. */
    public static KeyStore keyStore(CertifiedKey key) {
        requireNonNull(key, "key is null");
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(ALIAS, key.privateKey(), KEY_STORE_PASSWORD.toCharArray(),
                    key.chain().toArray(Certificate[]::new));
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a key store for " + key, e);
        }
    }

    /**
     * An SSL context presenting the key, for servers other than Jetty. The context does not restrict
     * protocols: enable {@link #PROTOCOLS} on each server socket or engine.
     */
    public static SSLContext sslContext(CertifiedKey key) {
        try {
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keyStore(key), KEY_STORE_PASSWORD.toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build an SSL context for " + key, e);
        }
    }

    public static SslContextFactory.Server sslContextFactory(PemPair pem) {
        requireNonNull(pem, "pem is null");
        return sslContextFactory(CertifiedKey.fromPem(pem.certificates(), pem.key()));
    }

    /** Jetty's TLS settings for port 8006; Jetty builds the SSL context when the connector starts. */
    public static SslContextFactory.Server sslContextFactory(CertifiedKey key) {
        SslContextFactory.Server factory = new SslContextFactory.Server();
        factory.setKeyStore(keyStore(key));
        factory.setKeyStorePassword(KEY_STORE_PASSWORD);
        factory.setKeyManagerPassword(KEY_STORE_PASSWORD);
        factory.setCertAlias(ALIAS);
        factory.setIncludeProtocols(PROTOCOLS.toArray(String[]::new));
        // named as well, so that a JDK whose policy re-enables them still refuses them here
        factory.addExcludeProtocols("TLSv1", "TLSv1.1");
        // Jetty already drops SHA-1 MACs, RSA key exchange, NULL and anonymous suites; CBC and
        // static (EC)DH go too, leaving forward-secret AEAD suites (Mozilla's "intermediate" profile)
        factory.addExcludeCipherSuites("^.*_CBC_.*$", "^TLS_DH_.*$", "^TLS_ECDH_.*$", "^TLS_DHE_DSS_.*$");
        // one certificate serves every name and address the node is reached by
        factory.setSniRequired(false);
        // client-initiated TLS 1.2 renegotiation only costs the server CPU
        factory.setRenegotiationAllowed(false);
        return factory;
    }

    /** Marks requests secure without Jetty's check that the Host header is named in the certificate. */
    public static SecureRequestCustomizer secureRequestCustomizer() {
        SecureRequestCustomizer customizer = new SecureRequestCustomizer();
        customizer.setSniHostCheck(false);
        customizer.setSniRequired(false);
        return customizer;
    }
}
