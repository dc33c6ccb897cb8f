package org.corral.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.corral.cluster.tls.CertificateAuthority;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.cluster.tls.Pem;

/**
 * TLS for the config store's client and quorum ports. Each cluster has its own store CA, made
 * when its first node starts and handed to each joining node with the store secret; each member
 * holds a key and certificate from it. Members and the node daemons' clients authenticate each
 * other with these certificates (mutual TLS), and only certificates of the store CA are trusted.
 * The store CA is not the cluster CA of the HTTPS API: that one lives inside the store.
 *
 * <p>Files, in {@code zookeeper/tls/} (directory 0700, files 0600): {@code ca.pem} (the store CA's
 * certificate), {@code ca.key} (its key, so that any member can admit the next node) and
 * {@code member.pem} (this member's private key followed by its certificate chain).
 */
public final class StoreTls {
    static final String DIRECTORY = "tls";
    private static final String CA = "ca.pem";
    private static final String CA_KEY = "ca.key";
    private static final String MEMBER = "member.pem";
    private static final String KEY_END = "-----END PRIVATE KEY-----";

    private final Path directory;
    private final X509Certificate ca;
    private final CertifiedKey member;

    private StoreTls(Path directory, X509Certificate ca, CertifiedKey member) {
        this.directory = directory;
        this.ca = ca;
        this.member = member;
    }

    /** The store TLS files in {@code directory}, made with a new store CA when there are none. */
    public static StoreTls loadOrCreate(Path directory, String memberName) {
        requireNonNull(directory, "directory is null");
        requireNonNull(memberName, "memberName is null");
        try {
            if (!Files.exists(directory.resolve(CA))) {
                CertificateAuthority authority = CertificateAuthority.generate(Clock.systemUTC());
                write(directory, authority, memberName);
            } else if (!Files.exists(directory.resolve(MEMBER))) {
                write(directory, authority(directory), memberName);
            }
            return load(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("can't read or create the store TLS files in " + directory, e);
        }
    }

    /**
     * Writes the files of a member of the cluster whose store CA is given (PEM certificate and key),
     * with a new member certificate from it, replacing whatever {@code directory} held.
     */
    public static StoreTls install(Path directory, String caPem, String caKeyPem, String memberName) {
        requireNonNull(memberName, "memberName is null");
        CertificateAuthority authority = CertificateAuthority.fromPem(caPem, caKeyPem, Clock.systemUTC());
        try {
            write(directory, authority, memberName);
            return load(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("can't write the store TLS files in " + directory, e);
        }
    }

    private static StoreTls load(Path directory) throws IOException {
        List<X509Certificate> cas = Pem.parseCertificates(Files.readString(directory.resolve(CA), UTF_8));
        if (cas.size() != 1) {
            throw new IllegalStateException("expected one store CA certificate in " + directory.resolve(CA) + ", found " + cas.size());
        }
        // one file, as ZooKeeper's PEM key store reads it: the private key, then the chain
        String memberPem = Files.readString(directory.resolve(MEMBER), UTF_8);
        int keyEnd = memberPem.indexOf(KEY_END);
        if (keyEnd < 0) {
            throw new IllegalStateException("no private key in " + directory.resolve(MEMBER));
        }
        keyEnd += KEY_END.length();
        CertifiedKey member = CertifiedKey.fromPem(memberPem.substring(keyEnd), memberPem.substring(0, keyEnd));
        return new StoreTls(directory, cas.getFirst(), member);
    }

    private static CertificateAuthority authority(Path directory) throws IOException {
        return CertificateAuthority.fromPem(Files.readString(directory.resolve(CA), UTF_8),
                Files.readString(directory.resolve(CA_KEY), UTF_8), Clock.systemUTC());
    }

    private static void write(Path directory, CertificateAuthority authority, String memberName) throws IOException {
        Files.createDirectories(directory);
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        CertifiedKey member = authority.issueStoreMember(memberName);
        writePrivate(directory.resolve(CA_KEY), authority.privateKeyPem());
        writePrivate(directory.resolve(MEMBER), member.privateKeyPem() + member.chainPem());
        // last: its presence marks a complete set
        writePrivate(directory.resolve(CA), authority.certificatePem());
    }

    private static void writePrivate(Path file, String text) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, text, UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public Path directory() {
        return directory;
    }

    /** The store CA's certificate. */
    public X509Certificate ca() {
        return ca;
    }

    /** This member's key and certificate chain. */
    public CertifiedKey member() {
        return member;
    }

    /** The store CA as PEM certificate, for a joining node. */
    public String caPem() {
        return Pem.certificate(ca);
    }

    /** The store CA's private key as PEM, for a joining node. Never log it. */
    public String caKeyPem() {
        try {
            return Files.readString(directory.resolve(CA_KEY), UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("can't read the store CA key in " + directory, e);
        }
    }

    /**
     * A ZooKeeper client configuration that connects over TLS with this member's certificate and
     * trusts only the store CA. The CA is pinned, so host names are not checked: members are
     * addressed by IP and a certificate only exists for members.
     */
    public ZKClientConfig clientConfig() {
        ZKClientConfig config = new ZKClientConfig();
        try (ClientX509Util names = new ClientX509Util()) {
            config.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
            config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNetty");
            config.setProperty(names.getSslKeystoreLocationProperty(), directory.resolve(MEMBER).toString());
            config.setProperty(names.getSslKeystoreTypeProperty(), "PEM");
            config.setProperty(names.getSslTruststoreLocationProperty(), directory.resolve(CA).toString());
            config.setProperty(names.getSslTruststoreTypeProperty(), "PEM");
            config.setProperty(names.getSslHostnameVerificationEnabledProperty(), "false");
        }
        return config;
    }

    /** A TLS 1.3 client context with this member's certificate that trusts only the store CA. */
    public SSLContext sslContext() {
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            char[] none = new char[0];
            keys.setKeyEntry("member", member.privateKey(), none, member.chain().toArray(X509Certificate[]::new));
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keys, none);
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry("store-ca", ca);
            TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trustManagers.init(trusted);
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("can't make a TLS context from " + directory, e);
        }
    }

    @Override
    public String toString() {
        return "StoreTls[" + directory + " " + ca.getSubjectX500Principal() + "]";
    }
}
