package org.corral.core.access;

import java.util.Set;

/** Answers which privileges an authenticated caller holds on an ACL path ({@code /vms/100}). */
public interface PermissionChecker {
    Set<Privilege> privileges(AuthContext auth, String path);

    /**
     * The caller's privileges as one object for filtering long lists. This default evaluates each
     * path when asked; an implementation that can precompute does better.
     */
    default PermissionView view(AuthContext auth) {
        return path -> privileges(auth, path);
    }

    default boolean hasAll(AuthContext auth, String path, Set<Privilege> wanted) {
        return privileges(auth, path).containsAll(wanted);
    }

    default boolean hasAny(AuthContext auth, String path, Set<Privilege> wanted) {
        Set<Privilege> held = privileges(auth, path);
        return wanted.stream().anyMatch(held::contains);
    }
}
