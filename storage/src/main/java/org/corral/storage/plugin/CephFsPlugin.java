package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.optional;

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
import org.corral.storage.Host;
import org.corral.storage.OptionSpec;
import org.corral.storage.StorageConfig;

/** {@code cephfs}: a CephFS file system mounted at {@code path} (default {@code /mnt/pve/ID}), for files, not guest images. */
public final class CephFsPlugin extends FilePluginBase {
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.VZTMPL, ContentType.ISO, ContentType.BACKUP, ContentType.SNIPPETS, ContentType.IMPORT),
            Set.of(ContentType.BACKUP),
            Set.of(),
            Optional.empty(),
            Map.of(),
            Set.of(),
            true,
            true);

    private final CommandRunner runner;

    public CephFsPlugin(Host host) {
        this(host, CommandRunner.system());
    }

    public CephFsPlugin(Host host, CommandRunner runner) {
        super(host);
        this.runner = Objects.requireNonNull(runner, "runner is null");
    }

    @Override
    public String type() {
        return "cephfs";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(optional("path"), optional("monhost"), optional("subdir"), optional("username"), optional("fuse"),
                optional("fs-name"), optional("nodes"), optional("disable"), optional("content"), optional("prune-backups"),
                optional("max-protected-backups"), optional("mkdir"), optional("create-base-path"), optional("create-subdirs"));
    }

    @Override
    public Map<String, String> createDefaults(String storageId) {
        return Map.of("path", "/mnt/pve/" + storageId);
    }

    @Override
    public Availability availability(StorageConfig config) {
        boolean fuse = config.flag("fuse", false);
        if (fuse ? !host.hasTool("ceph-fuse") : !host.hasTool("mount.ceph")) {
            return Availability.inactive(fuse ? "ceph-fuse is not installed" : "the CephFS client is not installed (no 'mount.ceph'; install ceph-common)");
        }
        return Availability.ok();
    }

    List<String> mountCommand(StorageConfig config) {
        String subdir = config.option("subdir").map(s -> s.startsWith("/") ? s : "/" + s).orElse("/");
        String user = config.option("username").orElse("admin");
        if (config.flag("fuse", false)) {
            List<String> command = new ArrayList<>(List.of("ceph-fuse", "-n", "client." + user, "-r", subdir));
            config.option("fs-name").ifPresent(f -> command.addAll(List.of("--client_fs", f)));
            command.add(root(config).toString());
            return command;
        }
        String source = config.option("monhost").map(m -> m.replaceAll("[,; ]+", ",")).orElse("") + ":" + subdir;
        List<String> options = new ArrayList<>(List.of("name=" + user));
        config.option("fs-name").ifPresent(f -> options.add("fs=" + f));
        return List.of("mount", "-t", "ceph", source, root(config).toString(), "-o", String.join(",", options));
    }

    @Override
    public void activate(StorageConfig config) {
        NfsPlugin.mountAndPrepare(this, runner, config, mountCommand(config));
    }

    @Override
    public void deactivate(StorageConfig config) {
        if (isMounted(root(config))) {
            runner.run(List.of("umount", root(config).toString()));
        }
    }
}
