package org.corral.access.realm;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.corral.access.AuthenticationException;
import org.corral.access.Realm;
import org.corral.access.config.RealmConfig;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code pam} realm: the host's own accounts, checked through libpam with service name
 * {@code corral} (Debian falls back to /etc/pam.d/other, which includes common-auth). Password
 * changes apply to this node's host only, as in Proxmox VE.
 */
public final class PamRealm implements Realm {
    public static final String DEFAULT_SERVICE = "corral";
    private static final Logger log = LoggerFactory.getLogger(PamRealm.class);
    private static final Duration CHPASSWD_TIMEOUT = Duration.ofSeconds(30);

    private final String service;

    public PamRealm() {
        this(DEFAULT_SERVICE);
    }

    public PamRealm(String service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public String type() {
        return "pam";
    }

    @Override
    public Set<String> options() {
        return Set.of("default", "tfa");
    }

    @Override
    public void authenticate(RealmConfig realm, String username, String password, String clientAddress) {
        if (password.isEmpty()) {
            throw new AuthenticationException("no password");
        }
        if (password.indexOf('\0') >= 0) {
            throw new AuthenticationException("password contains a NUL character");
        }
        Optional<String> error;
        try {
            error = Pam.authenticate(service, username, password, clientAddress);
        } catch (LinkageError e) {
            throw new AuthenticationException("PAM is not available: " + e.getMessage());
        }
        if (error.isPresent()) {
            throw new AuthenticationException(error.get());
        }
    }

    @Override
    public void storePassword(RealmConfig realm, String username, String password) {
        if (password.indexOf('\n') >= 0 || password.indexOf('\0') >= 0 || username.indexOf(':') >= 0) {
            throw new IllegalArgumentException("password must not contain line breaks or NUL characters");
        }
        ProcessResult result = ProcessRunner.of("chpasswd")
                .stdin((username + ":" + password + "\n").getBytes(StandardCharsets.UTF_8))
                .timeout(CHPASSWD_TIMEOUT)
                .run();
        if (!result.ok()) {
            throw new IllegalStateException("change password failed: " + result.describeFailure());
        }
        log.info("Changed the host password of PAM user {}", username);
    }
}
