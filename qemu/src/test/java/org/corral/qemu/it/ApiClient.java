package org.corral.qemu.it;

import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionChecker;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;
import org.corral.qemu.QemuService;

/**
 * Calls the qemu API in process through the real dispatcher (routing, validation, permission
 * check). root@pam holds every privilege; other users what {@link #grant} gave them.
 */
public final class ApiClient {
    public static final AuthContext ROOT = AuthContext.user("root@pam", "127.0.0.1");

    private final ApiDispatcher dispatcher;
    private final Map<String, Map<String, Set<Privilege>>> grants = new ConcurrentHashMap<>();

    public ApiClient(QemuService service) {
        PermissionChecker checker = (auth, path) -> {
            if (auth.isRoot()) {
                return EnumSet.allOf(Privilege.class);
            }
            Map<String, Set<Privilege>> byPath = grants.getOrDefault(auth.authid(), Map.of());
            Set<Privilege> held = EnumSet.noneOf(Privilege.class);
            byPath.forEach((granted, privileges) -> {
                // ACLs propagate to paths below
                if (path.equals(granted) || granted.equals("/") || path.startsWith(granted + "/")) {
                    held.addAll(privileges);
                }
            });
            return held;
        };
        this.dispatcher = new ApiDispatcher(new ApiRegistry(service.apiModules()), checker);
    }

    public ApiClient grant(String user, String path, Privilege... privileges) {
        grants.computeIfAbsent(user, u -> new ConcurrentHashMap<>()).merge(path, EnumSet.of(privileges[0], privileges),
                (a, b) -> {
                    Set<Privilege> all = EnumSet.copyOf(a);
                    all.addAll(b);
                    return all;
                });
        return this;
    }

    public Object call(HttpVerb verb, String path, Map<String, String> params) throws Exception {
        return call(ROOT, verb, path, params);
    }

    public Object call(AuthContext auth, HttpVerb verb, String path, Map<String, String> params) throws Exception {
        return dispatcher.dispatch(verb, path, new LinkedHashMap<>(params), auth);
    }

    public Object get(String path, Map<String, String> params) throws Exception {
        return call(HttpVerb.GET, path, params);
    }

    public Object post(String path, Map<String, String> params) throws Exception {
        return call(HttpVerb.POST, path, params);
    }

    public Object put(String path, Map<String, String> params) throws Exception {
        return call(HttpVerb.PUT, path, params);
    }

    public Object delete(String path, Map<String, String> params) throws Exception {
        return call(HttpVerb.DELETE, path, params);
    }

    public static AuthContext user(String name) {
        return AuthContext.user(name, "127.0.0.1");
    }
}
