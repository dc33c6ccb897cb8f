package org.corral.server.api;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.corral.core.api.ApiRegistry;

/** Directory answers ({@code [{"name": "status"}, ...]}) derived from the declared paths below. */
public final class ApiIndex {
    private final Supplier<ApiRegistry> registry;

    public ApiIndex(Supplier<ApiRegistry> registry) {
        this.registry = registry;
    }

    public List<Map<String, String>> children(String path, String key) {
        return registry.get().children(path).stream()
                .filter(name -> !name.startsWith("{"))
                .map(name -> Map.of(key, name))
                .toList();
    }
}
