package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.fixed;
import static org.corral.storage.OptionSpec.optional;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.corral.storage.Availability;
import org.corral.storage.Capabilities;
import org.corral.storage.CommandRunner;
import org.corral.storage.Host;
import org.corral.storage.OptionSpec;
import org.corral.storage.StorageConfig;

/** {@code cifs}: an SMB/CIFS share mounted at {@code path} (default {@code /mnt/pve/ID}). Shared by nature. */
public final class CifsPlugin extends FilePluginBase {
    private final CommandRunner runner;

    public CifsPlugin(Host host) {
        this(host, CommandRunner.system());
    }

    public CifsPlugin(Host host, CommandRunner runner) {
        super(host);
        this.runner = Objects.requireNonNull(runner, "runner is null");
    }

    @Override
    public String type() {
        return "cifs";
    }

    @Override
    public Capabilities capabilities() {
        return NfsPlugin.NETWORK_FILE_CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return DirPlugin.concat(List.of(fixed("path"), fixed("server"), fixed("share"), optional("subdir"), optional("username"),
                optional("password"), optional("domain"), optional("smbversion"), optional("options")), DirPlugin.COMMON_FILE_OPTIONS);
    }

    @Override
    public Map<String, String> createDefaults(String storageId) {
        return Map.of("path", "/mnt/pve/" + storageId);
    }

    @Override
    public Availability availability(StorageConfig config) {
        if (!host.hasTool("mount.cifs")) {
            return Availability.inactive("the CIFS client is not installed (no 'mount.cifs'; install cifs-utils)");
        }
        return Availability.ok();
    }

    /** The mount command; a password (kept in {@code priv/storage/ID.pw}) is not passed yet, so only guest or credential-less shares mount. */
    List<String> mountCommand(StorageConfig config) {
        String source = "//" + config.option("server").orElseThrow() + "/" + config.option("share").orElseThrow()
                + config.option("subdir").map(s -> s.startsWith("/") ? s : "/" + s).orElse("");
        List<String> options = new ArrayList<>();
        options.add(config.option("username").map(u -> "username=" + u).orElse("guest"));
        config.option("domain").ifPresent(d -> options.add("domain=" + d));
        config.option("smbversion").filter(v -> !v.equals("default")).ifPresent(v -> options.add("vers=" + v));
        config.option("options").ifPresent(options::add);
        return List.of("mount", "-t", "cifs", source, root(config).toString(), "-o", String.join(",", options));
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
