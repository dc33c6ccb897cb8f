package org.corral.core.access;

import java.util.Set;

/**
 * One caller's privileges, fixed for as long as the access configuration it was made from
 * (user.cfg: users, groups, tokens, pools, ACLs) does not change, so that a listing of many guests
 * asks one object instead of evaluating each guest's ACL path. Equal answers for equal paths as
 * {@link PermissionChecker#privileges}; callers may use the view's identity as a cache key, since
 * a change of the access configuration gives a new view.
 */
public interface PermissionView {
    /** The privileges on an ACL path, as {@link PermissionChecker#privileges} answers them. */
    Set<Privilege> privileges(String path);

    /** The privileges on {@code /vms/{vmid}}; a map lookup, not a path evaluation. */
    default Set<Privilege> guest(int vmid) {
        return privileges("/vms/" + vmid);
    }

    default boolean hasAny(String path, Privilege... wanted) {
        Set<Privilege> held = privileges(path);
        for (Privilege privilege : wanted) {
            if (held.contains(privilege)) {
                return true;
            }
        }
        return false;
    }

    default boolean hasAll(String path, Privilege... wanted) {
        Set<Privilege> held = privileges(path);
        for (Privilege privilege : wanted) {
            if (!held.contains(privilege)) {
                return false;
            }
        }
        return true;
    }
}
