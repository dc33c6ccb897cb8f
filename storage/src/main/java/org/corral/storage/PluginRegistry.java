package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.storage.plugin.BtrfsPlugin;
import org.corral.storage.plugin.CephFsPlugin;
import org.corral.storage.plugin.CifsPlugin;
import org.corral.storage.plugin.DirPlugin;
import org.corral.storage.plugin.IscsiDirectPlugin;
import org.corral.storage.plugin.IscsiPlugin;
import org.corral.storage.plugin.LvmPlugin;
import org.corral.storage.plugin.LvmThinPlugin;
import org.corral.storage.plugin.NfsPlugin;
import org.corral.storage.plugin.PbsPlugin;
import org.corral.storage.plugin.RbdPlugin;
import org.corral.storage.plugin.ZfsPoolPlugin;

/** The storage types a node knows, by type name. Adding a type is one line in {@link #standard}. */
public final class PluginRegistry {
    private final Map<String, StoragePlugin> plugins;
    private final List<String> order;

    public PluginRegistry(List<StoragePlugin> plugins) {
        Map<String, StoragePlugin> byType = new LinkedHashMap<>();
        for (StoragePlugin plugin : requireNonNull(plugins, "plugins is null")) {
            if (byType.putIfAbsent(plugin.type(), plugin) != null) {
                throw new IllegalArgumentException("storage type '" + plugin.type() + "' registered twice");
            }
        }
        this.plugins = Map.copyOf(byType);
        this.order = List.copyOf(byType.keySet());
    }

    /** Every type Corral implements, checking availability against {@code host}. */
    public static PluginRegistry standard(Host host) {
        return new PluginRegistry(List.of(
                new DirPlugin(host),
                new BtrfsPlugin(host),
                new NfsPlugin(host),
                new CifsPlugin(host),
                new CephFsPlugin(host),
                new LvmPlugin(host),
                new LvmThinPlugin(host),
                new ZfsPoolPlugin(host),
                new RbdPlugin(host),
                new IscsiPlugin(host),
                new IscsiDirectPlugin(host),
                new PbsPlugin(host)));
    }

    /** This registry plus types implemented outside the storage module (the backup module's {@code datastore}). */
    public PluginRegistry with(List<StoragePlugin> more) {
        List<StoragePlugin> all = new java.util.ArrayList<>(order.stream().map(plugins::get).toList());
        all.addAll(more);
        return new PluginRegistry(all);
    }

    public Optional<StoragePlugin> find(String type) {
        return Optional.ofNullable(plugins.get(type));
    }

    /** Type names in registration order. */
    public List<String> types() {
        return order;
    }
}
