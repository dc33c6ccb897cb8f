package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
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
 */
public record AccessSettings(LoginThrottle.Settings throttle, Duration ticketLifetime, String pamService,
        Supplier<Optional<String>> clusterName, PoolMembers poolMembers, PasswordHasher.Argon2 argon2, boolean watchStore) {
    public AccessSettings {
        requireNonNull(throttle, "throttle is null");
        requireNonNull(ticketLifetime, "ticketLifetime is null");
        requireNonNull(pamService, "pamService is null");
        requireNonNull(clusterName, "clusterName is null");
        requireNonNull(poolMembers, "poolMembers is null");
        requireNonNull(argon2, "argon2 is null");
    }

    public static AccessSettings defaults() {
        return new AccessSettings(LoginThrottle.Settings.defaults(), Tickets.LIFETIME, PamRealm.DEFAULT_SERVICE,
                Optional::empty, PoolMembers.IDS_ONLY, PasswordHasher.DEFAULT, true);
    }

    public AccessSettings withThrottle(LoginThrottle.Settings value) {
        return new AccessSettings(value, ticketLifetime, pamService, clusterName, poolMembers, argon2, watchStore);
    }

    public AccessSettings withTicketLifetime(Duration value) {
        return new AccessSettings(throttle, value, pamService, clusterName, poolMembers, argon2, watchStore);
    }

    public AccessSettings withPamService(String value) {
        return new AccessSettings(throttle, ticketLifetime, value, clusterName, poolMembers, argon2, watchStore);
    }

    public AccessSettings withClusterName(Supplier<Optional<String>> value) {
        return new AccessSettings(throttle, ticketLifetime, pamService, value, poolMembers, argon2, watchStore);
    }

    public AccessSettings withPoolMembers(PoolMembers value) {
        return new AccessSettings(throttle, ticketLifetime, pamService, clusterName, value, argon2, watchStore);
    }

    public AccessSettings withArgon2(PasswordHasher.Argon2 value) {
        return new AccessSettings(throttle, ticketLifetime, pamService, clusterName, poolMembers, value, watchStore);
    }

    public AccessSettings withWatchStore(boolean value) {
        return new AccessSettings(throttle, ticketLifetime, pamService, clusterName, poolMembers, argon2, value);
    }
}
