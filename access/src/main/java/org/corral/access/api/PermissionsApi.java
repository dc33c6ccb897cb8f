package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.access.AccessService;
import org.corral.access.Ids;
import org.corral.access.config.AclPaths;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Schema;

/** GET /access/permissions: effective privileges of a user or token. */
public final class PermissionsApi implements ApiModule {
    private final AccessService access;

    public PermissionsApi(AccessService access) {
        this.access = requireNonNull(access, "access is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(ApiMethod.get("/access/permissions")
                .name("permissions")
                .description("Retrieve effective permissions of given user/token.\nEach user/token is allowed to dump their own "
                        + "permissions (or that of owned tokens). A user can dump the permissions of another user or their "
                        + "tokens if they have 'Sys.Audit' permission on /access.")
                .permission(Check.authenticated())
                .parameter("userid", Schema.string().maxLength(192).optional()
                        .pattern(Ids.USER_REGEX + "@" + Ids.REALM_REGEX + "(?:!" + Ids.TOKEN_SUBID_REGEX + ")?")
                        .description("User ID or full API token ID"))
                .parameter("path", Schema.string().maxLength(4096).optional()
                        .description("Only dump this specific path, not the whole tree."))
                .returns(Schema.object().description("Map of \"path\" => (Map of \"privilege\" => \"propagate boolean\")."))
                .handler(this::permissions));
    }

    private Object permissions(ApiRequest r) {
        AuthContext auth = r.auth();
        String caller = AccessService.authid(auth);
        String authid = r.optionalString("userid").orElse(caller);
        Optional<Ids.TokenId> token = Ids.token(authid);
        boolean self = authid.equals(caller);
        boolean ownedToken = token.isPresent() && token.get().userid().equals(caller);
        if (!self && !ownedToken && !access.has(auth, "/access", Privilege.SYS_AUDIT)) {
            throw Guards.denied("/access, " + Privilege.SYS_AUDIT.proxmoxName());
        }
        Optional<String> path = r.optionalString("path").filter(p -> !p.isEmpty());
        if (path.isPresent()) {
            String normalized = AclPaths.normalize(path.get())
                    .orElseThrow(() -> new ParameterError("path", "invalid ACL path '" + path.get() + "'"));
            Map<String, Object> result = new LinkedHashMap<>();
            result.put(path.get(), AccessService.flags(access.privileges(authid, normalized)));
            return result;
        }
        return access.effectivePermissions(authid);
    }
}
