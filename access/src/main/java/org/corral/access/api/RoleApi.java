package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.corral.access.AccessService;
import org.corral.access.config.BuiltinRoles;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.Role;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;

/** /access/roles: the built-in roles and custom ones; only custom roles can be changed. */
public final class RoleApi implements ApiModule {
    private final AccessService access;

    public RoleApi(AccessService access) {
        this.access = requireNonNull(access, "access is null");
    }

    private static Schema privs() {
        return Schema.string().format(Formats.PVE_PRIV + "-list").maxLength(65536).optional()
                .description("The privileges of the role, comma separated.");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/access/roles")
                        .name("index")
                        .description("Role index.")
                        .permission(Check.authenticated())
                        .returns(Schema.array(Schema.object().property("roleid", Schema.string())
                                .property("privs", Schema.string()).property("special", Schema.bool().optional())))
                        .handler(this::index),
                ApiMethod.post("/access/roles")
                        .name("create_role")
                        .description("Create new role.")
                        .permission(Check.path("/access", Privilege.SYS_MODIFY))
                        .parameter("roleid", Schemas.roleid())
                        .parameter("privs", privs())
                        .handler(this::create),
                ApiMethod.get("/access/roles/{roleid}")
                        .name("read_role")
                        .description("Get role configuration.")
                        .permission(Check.authenticated())
                        .parameter("roleid", Schemas.roleid())
                        .returns(Schema.object().description("Each privilege of the role with value 1."))
                        .handler(this::read),
                ApiMethod.put("/access/roles/{roleid}")
                        .name("update_role")
                        .description("Update an existing role.")
                        .permission(Check.path("/access", Privilege.SYS_MODIFY))
                        .parameter("roleid", Schemas.roleid())
                        .parameter("privs", privs())
                        .parameter("append", Schema.bool().optional()
                                .description("Add the privileges passed instead of replacing them. Requires 'privs'."))
                        .parameter("digest", Schemas.digest())
                        .handler(this::update),
                ApiMethod.delete("/access/roles/{roleid}")
                        .name("delete_role")
                        .description("Delete role.")
                        .permission(Check.path("/access", Privilege.SYS_MODIFY))
                        .parameter("roleid", Schemas.roleid())
                        .handler(this::delete));
    }

    private Object index(ApiRequest r) {
        List<Map<String, Object>> result = new ArrayList<>();
        new TreeMap<>(access.users().allRoles()).values().forEach(role -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("roleid", role.roleid());
            entry.put("privs", names(role));
            entry.put("special", BuiltinRoles.isBuiltin(role.roleid()) ? 1 : 0);
            result.add(entry);
        });
        return result;
    }

    private static String names(Role role) {
        return String.join(",", role.privileges().stream().map(Privilege::proxmoxName).sorted(ProxmoxText.BYTE_ORDER).toList());
    }

    private static EnumSet<Privilege> parse(Optional<String> privs) {
        EnumSet<Privilege> result = EnumSet.noneOf(Privilege.class);
        for (String name : ProxmoxText.splitList(privs.orElse(""))) {
            result.add(Privilege.byName(name).orElseThrow(() -> new ParameterError("privs", "invalid privilege '" + name + "'")));
        }
        return result;
    }

    private Object create(ApiRequest r) {
        String roleid = r.string("roleid");
        if (roleid.toUpperCase(Locale.ROOT).startsWith("PVE")) {
            throw new ParameterError("roleid", "cannot use role ID starting with the (case-insensitive) 'PVE' namespace");
        }
        EnumSet<Privilege> privileges = parse(r.optionalString("privs"));
        access.updateUsers(Optional.empty(), users -> {
            if (users.role(roleid).isPresent()) {
                throw new Conflict("create role failed: role '" + roleid + "' already exists");
            }
            return users.withRole(new Role(roleid, privileges));
        });
        return null;
    }

    private Object read(ApiRequest r) {
        String roleid = r.string("roleid");
        Role role = access.users().role(roleid).orElseThrow(() -> new NotFound("role '" + roleid + "' does not exist"));
        Map<String, Object> result = new TreeMap<>(ProxmoxText.BYTE_ORDER);
        role.privileges().forEach(p -> result.put(p.proxmoxName(), 1));
        return result;
    }

    private Object update(ApiRequest r) {
        String roleid = r.string("roleid");
        if (r.has("append") && !r.has("privs")) {
            throw new ParameterError("append", "parameter 'append' requires 'privs'");
        }
        if (BuiltinRoles.isBuiltin(roleid)) {
            throw new ParameterError("roleid", "auto-generated role '" + roleid + "' cannot be modified");
        }
        EnumSet<Privilege> privileges = parse(r.optionalString("privs"));
        boolean append = r.has("append") && r.bool("append");
        access.updateUsers(r.optionalString("digest"), users -> {
            Role role = users.role(roleid).orElseThrow(() -> new NotFound("update role failed: role '" + roleid + "' does not exist"));
            EnumSet<Privilege> next = EnumSet.copyOf(privileges);
            if (append) {
                next.addAll(role.privileges());
            }
            return users.withRole(new Role(roleid, next));
        });
        return null;
    }

    private Object delete(ApiRequest r) {
        String roleid = r.string("roleid");
        if (BuiltinRoles.isBuiltin(roleid)) {
            throw new ParameterError("roleid", "auto-generated role '" + roleid + "' cannot be deleted");
        }
        access.updateUsers(Optional.empty(), users -> {
            if (users.role(roleid).isEmpty()) {
                throw new NotFound("delete role failed: role '" + roleid + "' does not exist");
            }
            return users.withoutRole(roleid);
        });
        return null;
    }
}
