package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.fixed;
import static org.corral.storage.OptionSpec.optional;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.corral.storage.Availability;
import org.corral.storage.Capabilities;
import org.corral.storage.CommandRunner;
import org.corral.storage.ContentType;
import org.corral.storage.Feature;
import org.corral.storage.Host;
import org.corral.storage.OptionSpec;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageException;
import org.corral.storage.VolumeFormat;

/**
 * {@code nfs}: an NFS export mounted at {@code path} (default {@code /mnt/pve/ID}), then used like
 * a directory storage. Shared by nature.
 */
public final class NfsPlugin extends FilePluginBase {
    static final Capabilities NETWORK_FILE_CAPABILITIES = new Capabilities(
            Set.of(ContentType.values()),
            Set.of(ContentType.IMAGES),
            Set.of(VolumeFormat.RAW, VolumeFormat.QCOW2, VolumeFormat.VMDK),
            Optional.of(VolumeFormat.RAW),
            Map.of(VolumeFormat.QCOW2, Set.of(Feature.SNAPSHOT, Feature.CLONE, Feature.TEMPLATE, Feature.RESIZE),
                    VolumeFormat.RAW, Set.of(Feature.CLONE, Feature.TEMPLATE, Feature.RESIZE),
                    VolumeFormat.VMDK, Set.of(Feature.CLONE, Feature.TEMPLATE, Feature.RESIZE)),
            Set.of("raw+size", "qcow2+size", "vmdk+size"),
            true,
            true);

    private final CommandRunner runner;

    public NfsPlugin(Host host) {
        this(host, CommandRunner.system());
    }

    public NfsPlugin(Host host, CommandRunner runner) {
        super(host);
        this.runner = Objects.requireNonNull(runner, "runner is null");
    }

    @Override
    public String type() {
        return "nfs";
    }

    @Override
    public Capabilities capabilities() {
        return NETWORK_FILE_CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return DirPlugin.concat(List.of(fixed("path"), fixed("server"), fixed("export"), optional("options")), DirPlugin.COMMON_FILE_OPTIONS);
    }

    @Override
    public Map<String, String> createDefaults(String storageId) {
        return Map.of("path", "/mnt/pve/" + storageId);
    }

    @Override
    public Availability availability(StorageConfig config) {
        if (!host.hasTool("mount.nfs")) {
            return Availability.inactive("the NFS client is not installed (no 'mount.nfs'; install nfs-common)");
        }
        return Availability.ok();
    }

    /** The mount command for the export; IPv6 servers are bracketed. */
    List<String> mountCommand(StorageConfig config) {
        String server = config.option("server").orElseThrow();
        String source = (server.contains(":") && !server.startsWith("[") ? "[" + server + "]" : server) + ":"
                + config.option("export").orElseThrow();
        List<String> command = new ArrayList<>(List.of("mount", "-t", "nfs", source, root(config).toString()));
        config.option("options").ifPresent(o -> command.addAll(List.of("-o", o)));
        return command;
    }

    @Override
    public void activate(StorageConfig config) {
        mountAndPrepare(this, runner, config, mountCommand(config));
    }

    @Override
    public void deactivate(StorageConfig config) {
        if (isMounted(root(config))) {
            runner.run(List.of("umount", root(config).toString()));
        }
    }

    /** Mounts at the storage path unless mounted already, then creates the content directories. */
    static void mountAndPrepare(FilePluginBase plugin, CommandRunner runner, StorageConfig config, List<String> mount) {
        Path root = plugin.root(config);
        if (!plugin.isMounted(root)) {
            try {
                Files.createDirectories(root);
            } catch (IOException e) {
                throw new StorageException("unable to create mount point '" + root + "' - " + e.getMessage(), e);
            }
            runner.run(mount);
        }
        plugin.activateDirectories(config);
    }
}
