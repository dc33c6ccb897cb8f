package org.corral.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.ServerAuthenticationProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ZooKeeper authentication scheme {@value #SCHEME}: a client that presents the node daemons'
 * store credentials ({@link StoreCredentials#authBytes()}) becomes ZooKeeper's super user on that
 * connection, which {@code reconfig} needs (only super may write {@code /zookeeper/config}). Each
 * server compares with the {@code store.key} next to its own data, so several members in one JVM
 * each check their own secret. ZooKeeper loads the class by name from {@code zoo.cfg}.
 */
public final class StoreAdministrator extends ServerAuthenticationProvider {
    public static final String SCHEME = "corral";
    private static final Logger log = LoggerFactory.getLogger(StoreAdministrator.class);

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public KeeperException.Code handleAuthentication(ServerObjs serverObjs, byte[] authData) {
        try {
            // the member's directory holds log/version-2 and store.key
            File logDir = serverObjs.getZks().getTxnLogFactory().getDataLogDir();
            Path key = logDir.toPath().getParent().getParent().resolve(EmbeddedZooKeeper.CREDENTIALS);
            if (!Files.exists(key)) {
                return KeeperException.Code.AUTHFAILED;
            }
            byte[] expected = new StoreCredentials(StoreCredentials.USER, Files.readString(key, UTF_8).trim()).authBytes();
            if (!MessageDigest.isEqual(expected, authData)) {
                return KeeperException.Code.AUTHFAILED;
            }
            serverObjs.getCnxn().addAuthInfo(new Id("super", ""));
            return KeeperException.Code.OK;
        } catch (Exception e) {
            log.warn("Can't check store administrator credentials", e);
            return KeeperException.Code.AUTHFAILED;
        }
    }

    @Override
    public boolean matches(ServerObjs serverObjs, MatchValues matchValues) {
        // never named in an ACL: it only grants super
        return false;
    }

    @Override
    public boolean isAuthenticated() {
        return true;
    }

    @Override
    public boolean isValid(String id) {
        return false;
    }
}
