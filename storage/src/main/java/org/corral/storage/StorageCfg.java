package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The whole storage.cfg: its sections in file order, plus the store version and digest it was read at. */
public record StorageCfg(Map<String, StorageConfig> storages, int version, String digest) {
    public StorageCfg {
        requireNonNull(storages, "storages is null");
        requireNonNull(digest, "digest is null");
        storages = Collections.unmodifiableMap(new LinkedHashMap<>(storages));
    }

    public Optional<StorageConfig> get(String id) {
        return Optional.ofNullable(storages.get(id));
    }

    public List<StorageConfig> list() {
        return List.copyOf(storages.values());
    }

    /** A copy with {@code config} added at the end or replaced in place. */
    public StorageCfg with(StorageConfig config) {
        Map<String, StorageConfig> copy = new LinkedHashMap<>(storages);
        copy.put(config.id(), config);
        return new StorageCfg(copy, version, digest);
    }

    public StorageCfg without(String id) {
        Map<String, StorageConfig> copy = new LinkedHashMap<>(storages);
        copy.remove(id);
        return new StorageCfg(copy, version, digest);
    }
}
