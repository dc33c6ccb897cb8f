package org.corral.access;

import java.util.List;
import java.util.Set;
import org.corral.access.config.RealmConfig;

/**
 * One type of authentication realm ({@code pve}, {@code pam}, {@code ldap}, {@code ad},
 * {@code openid}): checks passwords of the users of realms of its type, and stores them where it
 * can. One class per type, registered in {@link Realms}.
 */
public interface Realm {
    /** The section type in domains.cfg. */
    String type();

    /** The options a realm of this type may have in domains.cfg besides {@code comment}. */
    Set<String> options();

    /**
     * Checks {@code password} of {@code username} (the part before '@'). Throws
     * {@link AuthenticationException} saying why when it does not match.
     */
    void authenticate(RealmConfig realm, String username, String password, String clientAddress);

    /** The options a realm of this type can't be without. */
    default List<String> requiredOptions() {
        return List.of();
    }

    /** Whether the realm binds to its server with a password kept in priv/ (the {@code password} parameter). */
    default boolean keepsBindPassword() {
        return false;
    }

    /** Whether the realm signs in at an OpenID provider with a client key kept in priv/ (the {@code client-key} parameter). */
    default boolean keepsClientKey() {
        return false;
    }

    /** Sets the password of {@code username}; realms that keep no passwords refuse. */
    default void storePassword(RealmConfig realm, String username, String password) {
        throw new UnsupportedOperationException("can't set password on auth type '" + type() + "'");
    }

    /** Forgets what the realm keeps about a deleted user (its password hash, for pve). */
    default void deleteUser(RealmConfig realm, String username) {
    }
}
