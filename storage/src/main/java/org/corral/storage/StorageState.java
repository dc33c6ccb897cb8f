package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.Set;

/**
 * A storage as this node sees it now: enabled here or not, active or not (with the reason), and
 * its space when active. One row of {@code GET /nodes/{node}/storage}.
 */
public record StorageState(
        StorageConfig config,
        Optional<StoragePlugin> plugin,
        boolean enabled,
        Availability availability,
        Optional<StorageStatus> status) {
    public StorageState {
        requireNonNull(config, "config is null");
        requireNonNull(plugin, "plugin is null");
        requireNonNull(availability, "availability is null");
        requireNonNull(status, "status is null");
    }

    public boolean active() {
        return availability.active();
    }

    public Set<ContentType> content() {
        return plugin.map(p -> config.content(p.capabilities())).orElse(Set.of());
    }

    /** Shared by type (NFS, RBD ...) or by the {@code shared} flag. */
    public boolean shared() {
        return plugin.map(p -> p.capabilities().sharedByType()).orElse(false) || config.flag("shared", false);
    }
}
