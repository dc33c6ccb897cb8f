package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.fixed;
import static org.corral.storage.OptionSpec.fixedOptional;
import static org.corral.storage.OptionSpec.optional;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.storage.Availability;
import org.corral.storage.Capabilities;
import org.corral.storage.CommandRunner;
import org.corral.storage.ContentType;
import org.corral.storage.DiskName;
import org.corral.storage.Feature;
import org.corral.storage.Host;
import org.corral.storage.OptionSpec;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageStatus;
import org.corral.storage.Volume;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;

/** {@code lvm}: thick logical volumes in a volume group, one per disk, at {@code /dev/VG/NAME}. */
public final class LvmPlugin extends BlockPluginBase {
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.IMAGES, ContentType.ROOTDIR),
            Set.of(ContentType.IMAGES),
            Set.of(VolumeFormat.RAW),
            Optional.of(VolumeFormat.RAW),
            Map.of(VolumeFormat.RAW, Set.of(Feature.RESIZE)),
            Set.of("raw+size"),
            false,
            false);

    public LvmPlugin(Host host) {
        this(host, CommandRunner.system());
    }

    public LvmPlugin(Host host, CommandRunner runner) {
        super(host, runner);
    }

    @Override
    public String type() {
        return "lvm";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(fixed("vgname"), fixedOptional("base"), optional("nodes"), optional("shared"), optional("disable"),
                optional("content"), optional("saferemove"), optional("tagged_only"));
    }

    /** Why LVM can't run on this host, if it can't: shared with lvmthin. */
    static Optional<String> lvmMissing(Host host) {
        if (!host.exists("/dev/mapper/control")) {
            return Optional.of("device-mapper is not available on this host (no /dev/mapper/control)");
        }
        if (!host.hasTool("vgs") || !host.hasTool("lvcreate")) {
            return Optional.of("LVM tools are not installed (no 'vgs'/'lvcreate'; install lvm2)");
        }
        return Optional.empty();
    }

    static String vg(StorageConfig config) {
        return config.option("vgname").orElseThrow();
    }

    @Override
    public Availability availability(StorageConfig config) {
        Optional<String> missing = lvmMissing(host);
        if (missing.isPresent()) {
            return Availability.inactive(missing.get());
        }
        try {
            run("vgs", "--noheadings", "-o", "vg_name", vg(config));
            return Availability.ok();
        } catch (RuntimeException e) {
            return Availability.inactive("volume group '" + vg(config) + "' not found");
        }
    }

    @Override
    public StorageStatus status(StorageConfig config) {
        String[] fields = run("vgs", "--noheadings", "--units", "b", "--nosuffix", "--separator", ":", "-o", "vg_size,vg_free",
                vg(config)).trim().split(":");
        long total = parseLong(fields[0], "vg_size");
        long free = parseLong(fields[1], "vg_free");
        return new StorageStatus(total, total - free, free);
    }

    @Override
    public long spaceNeeded(StorageConfig config, VolumeFormat format, long sizeBytes) {
        return sizeBytes;
    }

    @Override
    public String alloc(StorageConfig config, int vmid, VolumeFormat format, Optional<String> name, long sizeBytes) {
        String lv = newName(vmid, format, name, names(config));
        run("lvcreate", "-aly", "-Wy", "--yes", "--size", kib(sizeBytes), "--name", lv, "--addtag", "pve-vm-" + vmid, vg(config));
        return lv;
    }

    @Override
    public void free(StorageConfig config, Volume volume) {
        run("lvremove", "-f", vg(config) + "/" + leaf(volume));
    }

    @Override
    public void resize(StorageConfig config, Volume volume, long sizeBytes) {
        run("lvextend", "-L", kib(sizeBytes), vg(config) + "/" + leaf(volume));
    }

    @Override
    public VolumeLocation path(StorageConfig config, Volume volume, Optional<String> snapshot) {
        if (snapshot.isPresent()) {
            throw unsupported("snapshots");
        }
        return VolumeLocation.device(Path.of("/dev", vg(config), leaf(volume)));
    }

    private List<String> names(StorageConfig config) {
        return lvs(config).stream().map(l -> l[0]).toList();
    }

    /** {@code lvs} rows: name, size in bytes, attributes, origin/pool. */
    List<String[]> lvs(StorageConfig config) {
        List<String[]> rows = new ArrayList<>();
        String out = run("lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", ":", "-o",
                "lv_name,lv_size,lv_attr,pool_lv,data_percent", vg(config));
        for (String line : out.lines().toList()) {
            String[] fields = line.trim().split(":", -1);
            if (fields.length >= 2 && !fields[0].isEmpty()) {
                rows.add(fields);
            }
        }
        return rows;
    }

    @Override
    public List<VolumeInfo> list(StorageConfig config, Optional<Integer> vmid, Set<ContentType> content) {
        List<VolumeInfo> out = new ArrayList<>();
        if (!content.contains(ContentType.IMAGES) && !content.contains(ContentType.ROOTDIR)) {
            return out;
        }
        for (String[] row : lvs(config)) {
            Optional<DiskName> disk = DiskName.parse(row[0]);
            if (disk.isEmpty() || vmid.isPresent() && disk.get().vmid() != vmid.get()) {
                continue;
            }
            long size = parseLong(row[1], "lv_size");
            out.add(new VolumeInfo(row[0], ContentType.IMAGES, "raw", size, Optional.of(size), Optional.of(disk.get().vmid()),
                    Optional.empty(), Optional.empty(), Optional.empty(), false));
        }
        return out;
    }
}
