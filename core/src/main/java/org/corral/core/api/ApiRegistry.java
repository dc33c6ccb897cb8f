package org.corral.core.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Every declared method, checked once at start-up: a duplicate verb and path, an undeclared
 * path variable or a missing permission stops the daemon. Also the router that matches a
 * concrete path to its declaration.
 */
public final class ApiRegistry {
    private final List<ApiMethod> methods;
    private final Map<HttpVerb, Map<Integer, List<Route>>> routes = new HashMap<>();
    private final Map<HttpVerb, List<Route>> restOfPathRoutes = new HashMap<>();

    public ApiRegistry(List<? extends ApiModule> modules) {
        List<ApiMethod> all = new ArrayList<>();
        modules.forEach(m -> all.addAll(m.methods()));
        List<String> errors = new ArrayList<>();
        Map<String, ApiMethod> seen = new HashMap<>();
        for (ApiMethod method : all) {
            errors.addAll(method.declarationErrors());
            // {node} and {name} at the same place are the same route
            String key = method.verb() + " " + method.path().replaceAll("\\{[^}]+}", "{}");
            ApiMethod earlier = seen.putIfAbsent(key, method);
            if (earlier != null) {
                errors.add("duplicate API method " + method + " (also " + earlier + ")");
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalStateException("invalid API declarations:\n  " + String.join("\n  ", errors));
        }
        all.sort(Comparator.comparing(ApiMethod::path).thenComparing(ApiMethod::verb));
        this.methods = List.copyOf(all);
        for (ApiMethod method : methods) {
            Route route = new Route(method, segments(method.path()));
            routes.computeIfAbsent(method.verb(), v -> new HashMap<>())
                    .computeIfAbsent(route.segments.length, n -> new ArrayList<>()).add(route);
            if (method.lastVariableTakesRest()) {
                restOfPathRoutes.computeIfAbsent(method.verb(), v -> new ArrayList<>()).add(route);
            }
            method.indexKey().ifPresent(key -> method.indexChildren(children(method.path()).stream()
                    .filter(name -> !name.startsWith("{"))
                    .toList()));
        }
        // literal segments win over variables, left to right
        routes.values().forEach(bySize -> bySize.values().forEach(list -> list.sort(Route::compareSpecificity)));
        restOfPathRoutes.values().forEach(list -> list.sort(Route::compareSpecificity));
    }

    public List<ApiMethod> methods() {
        return methods;
    }

    /** A matched method and the values of its path variables. */
    public record Match(ApiMethod method, Map<String, String> pathValues) {}

    public Optional<Match> match(HttpVerb verb, String path) {
        String[] parts = segments(path);
        List<Route> candidates = routes.getOrDefault(verb, Map.of()).getOrDefault(parts.length, List.of());
        for (Route route : candidates) {
            Map<String, String> values = route.bind(parts);
            if (values != null) {
                return Optional.of(new Match(route.method, values));
            }
        }
        for (Route route : restOfPathRoutes.getOrDefault(verb, List.of())) {
            if (parts.length > route.segments.length) {
                Map<String, String> values = route.bindRest(parts);
                if (values != null) {
                    return Optional.of(new Match(route.method, values));
                }
            }
        }
        return Optional.empty();
    }

    /** Whether any verb is declared for the path. */
    public boolean pathExists(String path) {
        for (HttpVerb verb : HttpVerb.values()) {
            if (match(verb, path).isPresent()) {
                return true;
            }
        }
        return false;
    }

    /** The next path segments below {@code path} that some declaration has (what {@code ls} shows). */
    public List<String> children(String path) {
        String[] parts = segments(path);
        TreeSet<String> names = new TreeSet<>();
        for (ApiMethod method : methods) {
            String[] template = segments(method.path());
            if (template.length <= parts.length) {
                continue;
            }
            boolean prefix = true;
            for (int i = 0; i < parts.length && prefix; i++) {
                prefix = template[i].startsWith("{") || template[i].equals(parts[i]);
            }
            if (prefix) {
                names.add(template[parts.length]);
            }
        }
        return List.copyOf(names);
    }

    /** The non-empty parts between slashes; by hand, since it runs on every call. */
    static String[] segments(String path) {
        List<String> parts = new ArrayList<>(8);
        int start = 0;
        int length = path.length();
        while (start < length) {
            int slash = path.indexOf('/', start);
            int end = slash < 0 ? length : slash;
            if (end > start) {
                parts.add(path.substring(start, end));
            }
            start = end + 1;
        }
        return parts.toArray(new String[0]);
    }

    private record Route(ApiMethod method, String[] segments) {
        Map<String, String> bind(String[] parts) {
            Map<String, String> values = null;
            for (int i = 0; i < segments.length; i++) {
                String template = segments[i];
                if (template.startsWith("{")) {
                    if (parts[i].isEmpty()) {
                        return null;
                    }
                    if (values == null) {
                        values = new LinkedHashMap<>();
                    }
                    values.put(template.substring(1, template.length() - 1), parts[i]);
                } else if (!template.equals(parts[i])) {
                    return null;
                }
            }
            return values == null ? Map.of() : values;
        }

        /** Binds a longer path: the last variable takes the remaining segments joined by '/'. */
        Map<String, String> bindRest(String[] parts) {
            int last = segments.length - 1;
            String[] head = Arrays.copyOf(parts, segments.length);
            head[last] = String.join("/", Arrays.asList(parts).subList(last, parts.length));
            return bind(head);
        }

        static int compareSpecificity(Route a, Route b) {
            for (int i = 0; i < a.segments.length; i++) {
                boolean va = a.segments[i].startsWith("{");
                boolean vb = b.segments[i].startsWith("{");
                if (va != vb) {
                    return va ? 1 : -1;
                }
            }
            return 0;
        }
    }
}
