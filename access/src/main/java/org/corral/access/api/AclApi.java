package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.corral.access.AccessService;
import org.corral.access.AclEvaluator;
import org.corral.access.Ids;
import org.corral.access.config.AclEntry;
import org.corral.access.config.AclPaths;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.Role;
import org.corral.access.config.UserConfig;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;

/** /access/acl: read and change the access control list. */
public final class AclApi implements ApiModule {
    private final AccessService access;

    public AclApi(AccessService access) {
        this.access = requireNonNull(access, "access is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/access/acl")
                        .name("read_acl")
                        .description("Get Access Control List (ACLs).\nThe returned list is restricted to objects where you "
                                + "have rights to modify permissions.")
                        .permission(Check.authenticated())
                        .returns(Schema.array(Schema.object()
                                .property("path", Schema.string().description("Access control path"))
                                .property("type", Schema.string().enumValues("user", "group", "token"))
                                .property("ugid", Schema.string())
                                .property("roleid", Schema.string())
                                .property("propagate", Schema.bool().optional())))
                        .handler(this::read),
                ApiMethod.put("/access/acl")
                        .name("update_acl")
                        .description("Update Access Control List (add or remove permissions).\nRequires 'Permissions.Modify' "
                                + "on the path, or 'VM.Allocate' on /vms/..., 'Datastore.Allocate' on /storage/..., "
                                + "'Pool.Allocate' on /pool/... (then only roles whose privileges the caller holds).")
                        .permission(Check.authenticated())
                        .parameter("path", Schema.string().maxLength(4096).description("Access control path"))
                        .parameter("roles", Schema.string().format(Formats.PVE_ROLEID + "-list").maxLength(65536)
                                .description("List of roles."))
                        .parameter("users", Schema.string().format(Formats.PVE_USERID + "-list").maxLength(65536).optional()
                                .description("List of users."))
                        .parameter("groups", Schema.string().format(Formats.PVE_GROUPID + "-list").maxLength(65536).optional()
                                .description("List of groups."))
                        .parameter("tokens", Schema.string().maxLength(65536).optional().description("List of API tokens."))
                        .parameter("propagate", Schema.bool().defaultValue(true).description("Allow to propagate (inherit) permissions."))
                        .parameter("delete", Schema.bool().optional().description("Remove permissions (instead of adding it)."))
                        .parameter("digest", Schemas.digest())
                        .handler(this::update));
    }

    private Object read(ApiRequest r) {
        AuthContext auth = r.auth();
        boolean audit = access.has(auth, "/access", Privilege.SYS_AUDIT);
        List<Map<String, Object>> result = new ArrayList<>();
        Map<String, Boolean> visible = new LinkedHashMap<>();
        for (AclEntry entry : access.users().acl()) {
            boolean show = audit || visible.computeIfAbsent(entry.path(), p -> Guards.mayModifyPermissions(access, auth, p));
            if (!show) {
                continue;
            }
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("path", entry.path());
            item.put("type", entry.kind().apiName());
            item.put("ugid", entry.ugid());
            item.put("roleid", entry.roleid());
            item.put("propagate", entry.propagate() ? 1 : 0);
            result.add(item);
        }
        return result;
    }

    private Object update(ApiRequest r) {
        AuthContext auth = r.auth();
        List<String> users = ProxmoxText.splitList(r.optionalString("users").orElse(""));
        List<String> groups = ProxmoxText.splitList(r.optionalString("groups").orElse(""));
        List<String> tokens = ProxmoxText.splitList(r.optionalString("tokens").orElse(""));
        if (users.isEmpty() && groups.isEmpty() && tokens.isEmpty()) {
            String message = "either 'users', 'groups' or 'tokens' is required.";
            Map<String, String> errors = new LinkedHashMap<>();
            errors.put("users", message);
            errors.put("groups", message);
            errors.put("tokens", message);
            throw new ParameterError(errors);
        }
        for (String token : tokens) {
            if (Ids.token(token).isEmpty()) {
                throw new ParameterError("tokens", "value '" + token + "' does not look like a valid token ID");
            }
        }
        String raw = r.string("path");
        String path = AclPaths.normalize(raw).orElseThrow(() -> new ParameterError("path", "invalid ACL path '" + raw + "'"));
        boolean delete = r.has("delete") && r.bool("delete");
        if (!delete && !AclPaths.isValid(path)) {
            throw new ParameterError("path", "invalid ACL path '" + raw + "'");
        }
        Guards.permModify(access, auth, path);
        boolean propagate = r.bool("propagate");
        List<String> roles = ProxmoxText.splitList(r.string("roles"));
        AclEvaluator.Privileges held = access.privileges(AccessService.authid(auth), path);
        access.updateUsers(r.optionalString("digest"), config -> {
            List<AclEntry> entries = new ArrayList<>(config.acl());
            for (String roleid : roles) {
                Role role = config.role(roleid).orElseThrow(() -> new ParameterError("roles", "role '" + roleid + "' does not exist"));
                checkDelegation(held, role, delete, propagate);
                for (String group : groups) {
                    if (config.group(group).isEmpty()) {
                        throw new ParameterError("groups", "group '" + group + "' does not exist");
                    }
                    change(entries, new AclEntry(path, AclEntry.Kind.GROUP, group, roleid, propagate), delete);
                }
                for (String user : users) {
                    if (config.user(user).isEmpty()) {
                        throw new ParameterError("users", "user '" + user + "' does not exist");
                    }
                    change(entries, new AclEntry(path, AclEntry.Kind.USER, user, roleid, propagate), delete);
                }
                for (String token : tokens) {
                    Ids.TokenId id = Ids.token(token).orElseThrow();
                    checkToken(config, id);
                    change(entries, new AclEntry(path, AclEntry.Kind.TOKEN, token, roleid, propagate), delete);
                }
            }
            return config.withAcl(entries);
        });
        return null;
    }

    /**
     * Without Permissions.Modify (VM.Allocate on /vms/..., say) a caller may only hand out roles
     * whose privileges it holds itself, propagating only what propagates for it.
     */
    private static void checkDelegation(AclEvaluator.Privileges held, Role role, boolean delete, boolean propagate) {
        if (held.set().contains(Privilege.PERMISSIONS_MODIFY)) {
            return;
        }
        String verb = delete ? "remove" : "add";
        for (Privilege privilege : role.privileges()) {
            Boolean heldPropagate = held.flags().get(privilege);
            if (heldPropagate == null) {
                throw new ParameterError("role", "Cannot " + verb + " role '" + role.roleid()
                        + "' - requires 'Permissions.Modify' or superset of privileges.");
            }
            if (propagate && !heldPropagate && !delete) {
                throw new ParameterError("role", "Cannot " + verb + " role '" + role.roleid()
                        + "' with propagation - requires 'Permissions.Modify' or propagated superset of privileges.");
            }
        }
        if (role.roleid().equals("NoAccess")) {
            throw new ParameterError("role", "Cannot " + verb + " role '" + role.roleid() + "' - requires 'Permissions.Modify'");
        }
    }

    private static void checkToken(UserConfig config, Ids.TokenId id) {
        if (config.user(id.userid()).isEmpty()) {
            throw new ParameterError("tokens", "no such user ('" + id.userid() + "')");
        }
        if (config.token(id.userid(), id.name()).isEmpty()) {
            throw new ParameterError("tokens", "no such token '" + id.name() + "' for user '" + id.userid() + "'");
        }
    }

    private static void change(List<AclEntry> entries, AclEntry entry, boolean delete) {
        entries.removeIf(entry::sameGrant);
        if (!delete) {
            entries.add(entry);
        }
    }
}
