package org.corral.core.api;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionChecker;
import org.corral.core.error.ApiException;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.error.Unauthorized;
import org.corral.core.schema.Schema;
import org.corral.core.schema.Validator;

/**
 * Runs one call through the declared pipeline, as Proxmox's REST handler does: route, refuse the
 * unauthenticated, check the path variables, check privileges, validate every parameter, then call
 * the handler. Transport-neutral: the HTTPS server and in-process callers share it.
 */
public final class ApiDispatcher {
    private final ApiRegistry registry;
    private final PermissionChecker permissions;
    private final BooleanSupplier quorate;

    /** A dispatcher for a store that always has its quorum (in-process callers, tests). */
    public ApiDispatcher(ApiRegistry registry, PermissionChecker permissions) {
        this(registry, permissions, () -> true);
    }

    /** {@code quorate} tells whether the config store reaches a quorum now (see {@link ApiMethod#needsQuorum()}). */
    public ApiDispatcher(ApiRegistry registry, PermissionChecker permissions, BooleanSupplier quorate) {
        this.registry = requireNonNull(registry, "registry is null");
        this.permissions = requireNonNull(permissions, "permissions is null");
        this.quorate = requireNonNull(quorate, "quorate is null");
    }

    public ApiRegistry registry() {
        return registry;
    }

    public ApiRegistry.Match route(HttpVerb verb, String path) {
        return registry.match(verb, path).orElseThrow(() ->
                new ApiException(501, "Method '" + verb + " " + path + "' not implemented"));
    }

    public Object dispatch(HttpVerb verb, String path, Map<String, String> raw, AuthContext auth) throws Exception {
        return dispatch(route(verb, path), raw, auth);
    }

    public Object dispatch(ApiRegistry.Match match, Map<String, String> raw, AuthContext auth) throws Exception {
        return dispatch(match, raw, auth, java.util.Optional.empty());
    }

    /** As above, with the file of an upload method; the file is only read by the handler, after every check. */
    public Object dispatch(ApiRegistry.Match match, Map<String, String> raw, AuthContext auth,
            java.util.Optional<Upload> upload) throws Exception {
        ApiMethod method = match.method();
        Map<String, Object> values = authorize(match, raw, auth);
        if (upload.isPresent() && method.uploadPart().isEmpty()) {
            throw new ParameterError(upload.get().filename(), "this method takes no file upload");
        }
        if (method.needsQuorum() && !quorate.getAsBoolean()) {
            // Proxmox's words: its clients and scripts recognize them
            throw new ApiException(500, "cluster not ready - no quorum?");
        }
        return method.handler().handle(new ApiRequest(method, values, auth, permissions, upload));
    }

    /** Every check of a call short of running it: authentication, path variables, privileges, parameters. */
    public Map<String, Object> authorize(ApiRegistry.Match match, Map<String, String> raw, AuthContext auth) {
        ApiMethod method = match.method();
        Check check = method.check();
        if (auth.isAnonymous() && !(check instanceof Check.Anonymous)) {
            throw new Unauthorized("authentication failure");
        }
        if (auth.tokenid().isPresent() && !method.allowsToken()) {
            throw new PermissionDenied("API tokens cannot be used for this call");
        }
        Map<String, String> params = new LinkedHashMap<>(raw);
        Map<String, Schema> pathSchemas = new LinkedHashMap<>();
        Map<String, String> pathErrors = new LinkedHashMap<>();
        match.pathValues().forEach((name, value) -> {
            String given = params.put(name, value);
            if (given != null && !given.equals(value)) {
                pathErrors.put(name, "value differs from the one in the path ('" + value + "')");
            }
            pathSchemas.put(name, method.parameters().get(name));
        });
        if (!pathErrors.isEmpty()) {
            throw new ParameterError(pathErrors);
        }
        // path variables end up in ACL paths, so they are checked before the permission check
        Validator.validate(pathSchemas, match.pathValues());
        if (!check.allows(auth, permissions, params)) {
            throw new PermissionDenied("Permission check failed (" + check.describe(params) + ")");
        }
        return Validator.validate(method.parameters(), params);
    }
}
