package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.corral.access.realm.PamRealm;

/**
 * Tunables of access control. {@link #defaults()} is what a node runs with; tests shorten the
 * login delays and cheapen password hashing.
 *
 * @param throttle failed-login delays and lockouts
 * @param ticketLifetime how long a ticket and its CSRF token stay valid (Proxmox: 2 hours)
 * @param pamService the PAM service name the pam realm authenticates with
 * @param clusterName the cluster's name for the login answer, empty when the node is not clustered
 * @param poolMembers how the pool API describes guests and storages
 * @param argon2 the cost of new password hashes
 * @param watchStore whether to keep parsed files current through store watches (else check versions on each read)
 * @param outboundTls the TLS setup of the node's calls to OpenID providers (its trust decides which providers are believed)
 */
public record AccessSettings(LoginThrottle.Settings throttle, Duration ticketLifetime, String pamService,
        Supplier<Optional<String>> clusterName, PoolMembers poolMembers, PasswordHasher.Argon2 argon2, boolean watchStore,
        SSLContext outboundTls) {
    public AccessSettings {
        requireNonNull(throttle, "throttle is null");
        requireNonNull(ticketLifetime, "ticketLifetime is null");
        requireNonNull(pamService, "pamService is null");
        requireNonNull(clusterName, "clusterName is null");
        requireNonNull(poolMembers, "poolMembers is null");
        requireNonNull(argon2, "argon2 is null");
        requireNonNull(outboundTls, "outboundTls is null");
    }

    /** The JVM's default TLS setup: its trust store decides which OpenID providers are believed. */
    private static SSLContext defaultTls() {
        try {
            return SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no default TLS context", e);
        }
    }

    public static AccessSettings defaults() {
        return new AccessSettings(LoginThrottle.Settings.defaults(), Tickets.LIFETIME, PamRealm.DEFAULT_SERVICE,
                Optional::empty, PoolMembers.IDS_ONLY, PasswordHasher.DEFAULT, true, defaultTls());
    }

    public AccessSettings withThrottle(LoginThrottle.Settings value) {
        return new AccessSettings(value, ticketLifetime, pamService, clusterName, poolMembers, argon2, watchStore, outboundTls);
    }

    public AccessSettings withTicketLifetime(Duration value) {
        return new AccessSettings(throttle, value, pamService, clusterName, poolMembers, argon2, watchStore, outboundTls);
    }

    public AccessSettings withPamService(String value) {
        return new AccessSettings(throttle, ticketLifetime, value, clusterName, poolMembers, argon2, watchStore, outboundTls);
    }

    public AccessSettings withClusterName(Supplier<Optional<String>> value) {
        return new AccessSettings(throttle, ticketLifetime, pamService, value, poolMembers, argon2, watchStore, outboundTls);
    }

    public AccessSettings withPoolMembers(PoolMembers value) {
        return new AccessSettings(throttle, ticketLifetime, pamService, clusterName, value, argon2, watchStore, outboundTls);
    }

    public AccessSettings withArgon2(PasswordHasher.Argon2 value) {
        return new AccessSettings(throttle, ticketLifetime, pamService, clusterName, poolMembers, value, watchStore, outboundTls);
    }

    public AccessSettings withWatchStore(boolean value) {
        return new AccessSettings(throttle, ticketLifetime, pamService, clusterName, poolMembers, argon2, value, outboundTls);
    }

    public AccessSettings withOutboundTls(SSLContext value) {
        return new AccessSettings(throttle, ticketLifetime, pamService, clusterName, poolMembers, argon2, watchStore, value);
    }
}
