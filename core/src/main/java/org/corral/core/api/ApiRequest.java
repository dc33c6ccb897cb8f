package org.corral.core.api;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionChecker;
import org.corral.core.access.PermissionView;
import org.corral.core.access.Privilege;

/** A validated call: typed parameter values and the caller. */
public final class ApiRequest {
    private final ApiMethod method;
    private final Map<String, Object> params;
    private final AuthContext auth;
    private final PermissionChecker permissions;
    private final Optional<Upload> upload;
    private PermissionView view;

    public ApiRequest(ApiMethod method, Map<String, Object> params, AuthContext auth, PermissionChecker permissions) {
        this(method, params, auth, permissions, Optional.empty());
    }

    public ApiRequest(ApiMethod method, Map<String, Object> params, AuthContext auth, PermissionChecker permissions,
            Optional<Upload> upload) {
        this.method = requireNonNull(method, "method is null");
        this.params = Map.copyOf(params);
        this.auth = requireNonNull(auth, "auth is null");
        this.permissions = requireNonNull(permissions, "permissions is null");
        this.upload = requireNonNull(upload, "upload is null");
    }

    /** The file sent with an upload method, if the caller sent one. */
    public Optional<Upload> upload() {
        return upload;
    }

    public ApiMethod method() {
        return method;
    }

    public AuthContext auth() {
        return auth;
    }

    public Map<String, Object> params() {
        return params;
    }

    public boolean has(String name) {
        return params.containsKey(name);
    }

    private Object value(String name) {
        Object value = params.get(name);
        if (value == null) {
            Object fallback = method.parameters().containsKey(name)
                    ? method.parameters().get(name).defaultValue().orElse(null) : null;
            if (fallback == null) {
                throw new IllegalStateException(method + ": parameter '" + name + "' has no value and no default");
            }
            return fallback;
        }
        return value;
    }

    public String string(String name) {
        return String.valueOf(value(name));
    }

    public Optional<String> optionalString(String name) {
        return Optional.ofNullable(params.get(name)).map(String::valueOf);
    }

    public long integer(String name) {
        return ((Number) value(name)).longValue();
    }

    public Optional<Long> optionalLong(String name) {
        return Optional.ofNullable((Number) params.get(name)).map(Number::longValue);
    }

    public Optional<Integer> optionalInt(String name) {
        return Optional.ofNullable((Number) params.get(name)).map(Number::intValue);
    }

    public int vmId(String name) {
        return (int) integer(name);
    }

    public boolean bool(String name) {
        Object value = params.get(name);
        if (value == null) {
            value = method.parameters().containsKey(name)
                    ? method.parameters().get(name).defaultValue().orElse(false) : false;
        }
        return value instanceof Boolean b ? b : value instanceof Number n && n.longValue() != 0;
    }

    /** Whether the caller holds all {@code privileges} on {@code path}; for handlers that filter lists. */
    public boolean can(String path, Privilege... privileges) {
        return permissions.hasAll(auth, path, Set.of(privileges));
    }

    public boolean canAny(String path, Privilege... privileges) {
        return permissions.hasAny(auth, path, Set.of(privileges));
    }

    public PermissionChecker permissions() {
        return permissions;
    }

    /** The caller's privileges as one object, for filtering many objects in one pass; made once per request. */
    public PermissionView permissionView() {
        PermissionView known = view;
        if (known == null) {
            known = permissions.view(auth);
            view = known;
        }
        return known;
    }
}
