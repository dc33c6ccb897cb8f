package org.corral.storage;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** A machine with exactly the given tools and paths: availability answers for hosts the tests don't run on. */
public record FakeHost(Set<String> tools, Set<String> paths, Map<String, String> files) implements Host {
    public FakeHost(Set<String> tools, Set<String> paths) {
        this(tools, paths, Map.of());
    }

    @Override
    public boolean hasTool(String name) {
        return tools.contains(name);
    }

    @Override
    public boolean exists(String path) {
        return paths.contains(path);
    }

    @Override
    public Optional<String> read(String path) {
        return Optional.ofNullable(files.get(path));
    }
}
