package org.corral.access.config;

import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.core.access.Privilege;
import org.corral.core.access.Privilege.Category;

/**
 * The roles Proxmox VE creates from its privilege groups: per category an Admin role (admin, user
 * and audit privileges) and, where the category has user privileges, a User role (user and
 * audit); PVEAdmin (every admin, user and audit privilege but Mapping.Modify), PVEAuditor (every
 * audit privilege), PVETemplateUser, Administrator (everything) and NoAccess (nothing).
 * Root-level privileges are only in Administrator. None of them is stored in user.cfg.
 */
public final class BuiltinRoles {
    private static final Map<String, Role> ROLES = create();

    private BuiltinRoles() {}

    private static Map<String, Role> create() {
        Map<String, EnumSet<Privilege>> roles = new LinkedHashMap<>();
        roles.put("Administrator", EnumSet.allOf(Privilege.class));
        roles.put("NoAccess", EnumSet.noneOf(Privilege.class));
        EnumSet<Privilege> pveAdmin = EnumSet.noneOf(Privilege.class);
        EnumSet<Privilege> auditor = EnumSet.noneOf(Privilege.class);
        for (Category category : Category.values()) {
            if (category == Category.NONE) {
                continue;
            }
            EnumSet<Privilege> admin = EnumSet.noneOf(Privilege.class);
            EnumSet<Privilege> user = EnumSet.noneOf(Privilege.class);
            EnumSet<Privilege> audit = EnumSet.noneOf(Privilege.class);
            for (Privilege privilege : Privilege.values()) {
                if (privilege.category() != category) {
                    continue;
                }
                switch (privilege.level()) {
                    case ROOT -> { }
                    case ADMIN -> admin.add(privilege);
                    case USER -> user.add(privilege);
                    case AUDIT -> audit.add(privilege);
                }
            }
            // Proxmox lists Pool.Audit as both a user and an audit privilege, so auditors get it too
            if (category == Category.POOL) {
                audit.add(Privilege.POOL_AUDIT);
            }
            EnumSet<Privilege> categoryAdmin = EnumSet.copyOf(admin);
            categoryAdmin.addAll(user);
            categoryAdmin.addAll(audit);
            if (!categoryAdmin.isEmpty()) {
                roles.put("PVE" + category.roleName() + "Admin", categoryAdmin);
                pveAdmin.addAll(categoryAdmin);
            }
            if (!user.isEmpty()) {
                EnumSet<Privilege> categoryUser = EnumSet.copyOf(user);
                categoryUser.addAll(audit);
                roles.put("PVE" + category.roleName() + "User", categoryUser);
            }
            auditor.addAll(audit);
        }
        // only Administrator, root@pam and PVEMappingAdmin may modify mappings
        pveAdmin.remove(Privilege.MAPPING_MODIFY);
        roles.put("PVEAdmin", pveAdmin);
        roles.put("PVEAuditor", auditor);
        roles.put("PVETemplateUser", EnumSet.of(Privilege.VM_CLONE, Privilege.VM_AUDIT));
        Map<String, Role> result = new LinkedHashMap<>();
        roles.forEach((name, privileges) -> result.put(name, new Role(name, privileges)));
        return Collections.unmodifiableMap(result);
    }

    /** Every built-in role by name. */
    public static Map<String, Role> all() {
        return ROLES;
    }

    public static Optional<Role> get(String roleid) {
        return Optional.ofNullable(ROLES.get(roleid));
    }

    public static boolean isBuiltin(String roleid) {
        return ROLES.containsKey(roleid);
    }

    public static Set<String> names() {
        return ROLES.keySet();
    }
}
