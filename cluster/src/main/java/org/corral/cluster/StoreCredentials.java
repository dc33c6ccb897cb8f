package org.corral.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/**
 * What the node daemons present to ZooKeeper: a {@code digest} identity whose secret lives in a
 * root-only file. Every znode Corral creates carries an ACL that grants everything to this
 * identity and nothing to anyone else, so a client without the secret (a local user connecting
 * to the client port) reads nothing.
 */
public record StoreCredentials(String user, String secret) {
    public static final String USER = "corral";

    public StoreCredentials {
        requireNonNull(user, "user is null");
        requireNonNull(secret, "secret is null");
        if (user.contains(":") || secret.isEmpty()) {
            throw new IllegalArgumentException("invalid store credentials");
        }
    }

    /** The credentials in {@code file}, created with a fresh random secret (mode 0600) if missing. */
    public static StoreCredentials loadOrCreate(Path file) {
        try {
            if (!Files.exists(file)) {
                Files.createDirectories(file.getParent());
                byte[] random = new byte[32];
                SecureRandom.getInstanceStrong().nextBytes(random);
                Path tmp = Files.createTempFile(file.getParent(), ".store-key", ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(tmp, HexFormat.of().formatHex(random) + "\n", UTF_8);
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException e) {
                    Files.deleteIfExists(tmp);
                }
            }
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            return new StoreCredentials(USER, Files.readString(file, UTF_8).trim());
        } catch (IOException e) {
            throw new UncheckedIOException("can't read or create the store credentials " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no strong random source", e);
        }
    }

    /** What the client sends with {@code addauth digest}. */
    public byte[] authBytes() {
        return (user + ":" + secret).getBytes(UTF_8);
    }

    /** The ACL of every Corral znode: all permissions to this identity, none to anyone else. */
    public List<ACL> acl() {
        try {
            // not List.of: ZooKeeper asks the list whether it contains null
            return Collections.singletonList(new ACL(ZooDefs.Perms.ALL, new Id("digest", DigestAuthenticationProvider.generateDigest(user + ":" + secret))));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-1 for ZooKeeper digests", e);
        }
    }

    @Override
    public String toString() {
        return "StoreCredentials[" + user + "]"; // never the secret
    }
}
