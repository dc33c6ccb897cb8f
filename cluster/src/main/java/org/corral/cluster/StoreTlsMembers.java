package org.corral.cluster;

import static java.util.Objects.requireNonNull;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.security.auth.x500.X500Principal;
import org.apache.zookeeper.server.auth.X509AuthenticationProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of the store's TLS. ZooKeeper reads its server TLS settings from JVM-wide
 * system properties, once per JVM, while Corral may run several nodes in one JVM (that is how
 * the cluster tests run). So every running member registers its {@link StoreTls} here, and one
 * key manager and one trust manager serve them all:
 * <ul>
 * <li>a server picks the member whose store CA the client named in its hello, or else the member
 * that owns the local port (quorum and election ports), or else the only one. The JDK names its
 * trusted CAs only with {@code -Djdk.tls.client.enableCAExtension=true}, read once per JVM: JVMs that
 * run several nodes (the tests) set it on the command line. A daemon runs one node and needs nothing;
 * <li>a peer is trusted when its chain leads to the CA of the member that serves it, or, where
 * that member is unknown (outgoing quorum connections), to the CA of a registered member.
 * </ul>
 * With one node per JVM, as in production, there is one member and every choice is exact.
 */
public final class StoreTlsMembers {
    private static final Logger log = LoggerFactory.getLogger(StoreTlsMembers.class);
    /** The ZooKeeper auth scheme of {@link Provider}, named by {@code zookeeper.ssl.authProvider}. */
    public static final String SCHEME = "corraltls";

    private static final List<Entry> members = new CopyOnWriteArrayList<>();
    private static final AtomicLong ids = new AtomicLong();

    private record Entry(String alias, StoreTls tls, Set<Integer> ports) {
        X509Certificate[] chain() {
            return tls.member().chain().toArray(X509Certificate[]::new);
        }
    }

    private StoreTlsMembers() {
    }

    /** Serves {@code tls} on the member's {@code ports} until the returned handle is closed. */
    static AutoCloseable register(StoreTls tls, int... ports) {
        requireNonNull(tls, "tls is null");
        Set<Integer> own = new HashSet<>();
        Arrays.stream(ports).forEach(own::add);
        Entry entry = new Entry("store-member-" + ids.incrementAndGet(), tls, Set.copyOf(own));
        members.add(entry);
        return () -> members.remove(entry);
    }

    static X509ExtendedKeyManager keyManager() {
        return KEY_MANAGER;
    }

    static X509ExtendedTrustManager trustManager() {
        return TRUST_MANAGER;
    }

    private static Entry choose(String keyType, Principal[] issuers, int localPort) {
        List<Entry> all = List.copyOf(members);
        List<Entry> candidates = all;
        if (issuers != null && issuers.length > 0) {
            Set<Principal> named = Set.of(issuers);
            candidates = all.stream().filter(e -> named.contains(e.tls().ca().getSubjectX500Principal())).toList();
        }
        if (candidates.size() > 1 && localPort > 0) {
            List<Entry> byPort = candidates.stream().filter(e -> e.ports().contains(localPort)).toList();
            if (!byPort.isEmpty()) {
                candidates = byPort;
            }
        }
        if (keyType != null) {
            candidates = candidates.stream().filter(e -> matchesKeyType(e.tls().member().privateKey(), keyType)).toList();
        }
        if (candidates.isEmpty()) {
            return null;
        }
        if (candidates.size() > 1) {
            log.debug("{} store TLS members fit a handshake; using the newest", candidates.size());
        }
        return candidates.getLast();
    }

    private static boolean matchesKeyType(PrivateKey key, String keyType) {
        String algorithm = key.getAlgorithm();
        return keyType.equals(algorithm) || keyType.startsWith(algorithm + "_");
    }

    private static Entry byAlias(String alias) {
        return members.stream().filter(e -> e.alias().equals(alias)).findFirst().orElse(null);
    }

    private static Entry byCertificate(java.security.cert.Certificate[] local) {
        if (local == null || local.length == 0) {
            return null;
        }
        return members.stream().filter(e -> e.tls().member().certificate().equals(local[0])).findFirst().orElse(null);
    }

    private static final X509ExtendedKeyManager KEY_MANAGER = new X509ExtendedKeyManager() {
        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return aliases(keyType);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return aliases(keyType);
        }

        @Override
        public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
            for (String keyType : keyTypes) {
                Entry entry = choose(keyType, issuers, -1);
                if (entry != null) {
                    return entry.alias();
                }
            }
            return null;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
            return chooseClientAlias(keyTypes, issuers, null);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            Entry entry = choose(keyType, issuers, socket == null ? -1 : socket.getLocalPort());
            return entry == null ? null : entry.alias();
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            if ((issuers == null || issuers.length == 0) && members.size() > 1) {
                log.warn("A store client named no trusted CA and {} store members run in this JVM;"
                        + " start the JVM with -Djdk.tls.client.enableCAExtension=true", members.size());
            }
            Entry entry = choose(keyType, issuers, -1);
            return entry == null ? null : entry.alias();
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            Entry entry = byAlias(alias);
            return entry == null ? null : entry.chain();
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            Entry entry = byAlias(alias);
            return entry == null ? null : entry.tls().member().privateKey();
        }

        private String[] aliases(String keyType) {
            return members.stream().filter(e -> keyType == null || matchesKeyType(e.tls().member().privateKey(), keyType))
                    .map(Entry::alias).toArray(String[]::new);
        }
    };

    private static final X509ExtendedTrustManager TRUST_MANAGER = new X509ExtendedTrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain, null);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain, null);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            check(chain, socket instanceof SSLSocket ssl ? ssl.getHandshakeSession() : null);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            check(chain, null);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            check(chain, engine == null ? null : engine.getHandshakeSession());
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            check(chain, null);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return members.stream().map(e -> e.tls().ca()).distinct().toArray(X509Certificate[]::new);
        }
    };

    /**
     * Validates {@code chain} against the store CA of the member that serves this handshake (known on
     * the server side from the certificate it sent), or against every registered store CA.
     */
    private static void check(X509Certificate[] chain, SSLSession handshake) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("no certificate from the store peer");
        }
        Entry serving = handshake == null ? null : byCertificate(handshake.getLocalCertificates());
        List<X509Certificate> anchors = serving != null ? List.of(serving.tls().ca())
                : members.stream().map(e -> e.tls().ca()).distinct().toList();
        if (anchors.isEmpty()) {
            throw new CertificateException("no store member runs in this JVM");
        }
        try {
            Set<TrustAnchor> trust = new HashSet<>();
            anchors.forEach(ca -> trust.add(new TrustAnchor(ca, null)));
            PKIXParameters parameters = new PKIXParameters(trust);
            parameters.setRevocationEnabled(false);
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(Arrays.asList(chain)), parameters);
        } catch (GeneralSecurityException e) {
            X500Principal subject = chain[0].getSubjectX500Principal();
            throw new CertificateException("store peer " + subject + " is not a member of this cluster: " + e.getMessage(), e);
        }
    }

    /**
     * ZooKeeper's TLS authentication provider for the client port ({@code zookeeper.ssl.authProvider}
     * = {@value #SCHEME}), with the shared key and trust managers. ZooKeeper loads it by class name.
     */
    public static final class Provider extends X509AuthenticationProvider {
        public Provider() {
            super(TRUST_MANAGER, KEY_MANAGER);
        }

        @Override
        public String getScheme() {
            return SCHEME;
        }
    }

    /**
     * The SSL context of the quorum and election ports ({@code zookeeper.ssl.quorum.context.supplier.class}).
     * ZooKeeper instantiates it by class name.
     */
    public static final class QuorumContext implements Supplier<SSLContext> {
        @Override
        public SSLContext get() {
            try {
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(new KeyManager[] {KEY_MANAGER}, new TrustManager[] {TRUST_MANAGER}, null);
                return context;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("can't make the store's quorum TLS context", e);
            }
        }
    }
}
