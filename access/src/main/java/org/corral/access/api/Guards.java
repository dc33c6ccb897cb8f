package org.corral.access.api;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.corral.access.AccessService;
import org.corral.access.AuthenticationException;
import org.corral.access.Realm;
import org.corral.access.config.RealmConfig;
import org.corral.core.error.ParameterError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.corral.access.Ids;
import org.corral.access.config.Group;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.UserConfig;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.error.PermissionDenied;

/**
 * Proxmox's permission checks that depend on more than one path: {@code userid-group} (privileges
 * on /access/groups or on a group of the user), {@code userid-param} (the caller itself, or
 * Realm.AllocateUser on the user's realm) and {@code perm-modify} (who may change ACLs on a path).
 */
final class Guards {
    private static final Logger log = LoggerFactory.getLogger(Guards.class);

    /** How the {@code groups} parameter takes part in a userid-group check. */
    enum GroupsParam { NONE, CREATE, UPDATE }

    private Guards() {}

    static PermissionDenied denied(String detail) {
        return new PermissionDenied("Permission check failed (" + detail + ")");
    }

    static PermissionDenied denied() {
        return new PermissionDenied("Permission check failed");
    }

    /** The caller is the user itself, logged in as that user (not through a token). */
    static boolean isSelf(AuthContext auth, String userid) {
        return !auth.isAnonymous() && auth.tokenid().isEmpty() && auth.userid().equals(userid);
    }

    private static String names(Set<Privilege> privileges) {
        return privileges.stream().map(Privilege::proxmoxName).sorted().collect(Collectors.joining("|"));
    }

    /**
     * Any of {@code privileges} on /access/groups, or else on every group named in {@code groups}
     * (for CREATE and UPDATE) and on some group {@code userid} is a member of (unless CREATE).
     */
    static void userGroup(AccessService access, AuthContext auth, String userid, Set<Privilege> privileges,
            GroupsParam mode, Optional<String> groups) {
        if (access.hasAny(auth, "/access/groups", privileges)) {
            return;
        }
        UserConfig users = access.users();
        if (mode != GroupsParam.CREATE && users.user(userid).isEmpty()) {
            throw denied();
        }
        Set<String> allowed = users.groups().keySet().stream()
                .filter(group -> access.hasAny(auth, "/access/groups/" + group, privileges))
                .collect(Collectors.toSet());
        if (mode != GroupsParam.NONE) {
            List<String> named = ProxmoxText.splitList(groups.orElse(""));
            if (named.isEmpty()) {
                throw denied("/access/groups, " + names(privileges));
            }
            for (String group : named) {
                if (!allowed.contains(group)) {
                    throw denied("/access/groups/" + group + ", " + names(privileges));
                }
            }
        }
        if (mode != GroupsParam.CREATE) {
            boolean member = allowed.stream().map(users::group).flatMap(Optional::stream)
                    .map(Group::members).anyMatch(m -> m.contains(userid));
            if (!member) {
                throw denied();
            }
        }
    }

    /** Realm.AllocateUser on /access/realm/REALM of {@code userid}. */
    static void realmAllocateUser(AccessService access, AuthContext auth, String userid) {
        String path = "/access/realm/" + Ids.realmOf(userid);
        if (!access.has(auth, path, Privilege.REALM_ALLOCATE_USER)) {
            throw denied(path + ", " + Privilege.REALM_ALLOCATE_USER.proxmoxName());
        }
    }

    /** The user itself, or else User.Modify through {@link #userGroup}. */
    static void selfOrUserModify(AccessService access, AuthContext auth, String userid) {
        if (!isSelf(auth, userid)) {
            userGroup(access, auth, userid, EnumSet.of(Privilege.USER_MODIFY), GroupsParam.NONE, Optional.empty());
        }
    }

    /** The privileges that let a caller change ACLs on {@code path} (normalized). */
    static Set<Privilege> modifyPrivileges(String path) {
        EnumSet<Privilege> privileges = EnumSet.of(Privilege.PERMISSIONS_MODIFY);
        if (path.startsWith("/storage/")) {
            privileges.add(Privilege.DATASTORE_ALLOCATE);
        } else if (path.startsWith("/vms/")) {
            privileges.add(Privilege.VM_ALLOCATE);
        } else if (path.startsWith("/pool/")) {
            privileges.add(Privilege.POOL_ALLOCATE);
        }
        return privileges;
    }

    static boolean mayModifyPermissions(AccessService access, AuthContext auth, String path) {
        return access.hasAny(auth, path, modifyPrivileges(path));
    }

    /** Proxmox's {@code check_perm_modify}. */
    static void permModify(AccessService access, AuthContext auth, String path) {
        if (!mayModifyPermissions(access, auth, path)) {
            throw denied(path + ", " + names(modifyPrivileges(path)));
        }
    }

    /** The caller confirms a change with its own password (throttled like a login); names {@code param} on failure. */
    static void confirmPassword(AccessService access, AuthContext auth, String param, Optional<String> password, String missing) {
        if (password.isEmpty()) {
            throw new ParameterError(param, missing);
        }
        Ids.UserId caller = Ids.user(auth.userid()).orElseThrow(Guards::denied);
        access.throttle().checkAllowed(auth.userid(), auth.clientAddress());
        try {
            RealmConfig realm = access.domains().realm(caller.realm())
                    .orElseThrow(() -> new AuthenticationException("auth domain '" + caller.realm() + "' does not exist"));
            Realm type = access.realmOf(realm)
                    .orElseThrow(() -> new AuthenticationException("realm type '" + realm.type() + "' is not supported"));
            type.authenticate(realm, caller.name(), password.get(), auth.clientAddress());
        } catch (AuthenticationException e) {
            log.warn("password confirmation failed; rhost={} user={} msg={}", auth.clientAddress(), auth.userid(), e.getMessage());
            access.throttle().failed(auth.userid(), auth.clientAddress());
            throw new ParameterError(param, "authentication failure");
        }
        access.throttle().succeeded(auth.userid(), auth.clientAddress());
    }
}
