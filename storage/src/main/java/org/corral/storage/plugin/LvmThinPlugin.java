package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.fixed;
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
import org.corral.storage.VolumeNames;

/**
 * {@code lvmthin}: thin volumes in an LVM thin pool. Snapshots are thin snapshots
 * {@code snap_NAME_SNAP}; a template is a read-only {@code base-} volume and linked clones are thin
 * snapshots of it ({@code base-100-disk-0/vm-101-disk-0}).
 */
public final class LvmThinPlugin extends BlockPluginBase {
    private static final Set<Feature> ALL = Set.of(Feature.SNAPSHOT, Feature.CLONE, Feature.TEMPLATE, Feature.RESIZE);
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.IMAGES, ContentType.ROOTDIR),
            Set.of(ContentType.IMAGES, ContentType.ROOTDIR),
            Set.of(VolumeFormat.RAW),
            Optional.of(VolumeFormat.RAW),
            Map.of(VolumeFormat.RAW, ALL),
            Set.of("raw+size"),
            false,
            false);

    public LvmThinPlugin(Host host) {
        this(host, CommandRunner.system());
    }

    public LvmThinPlugin(Host host, CommandRunner runner) {
        super(host, runner);
    }

    @Override
    public String type() {
        return "lvmthin";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(fixed("vgname"), fixed("thinpool"), optional("nodes"), optional("disable"), optional("content"));
    }

    private static String vg(StorageConfig config) {
        return LvmPlugin.vg(config);
    }

    private static String pool(StorageConfig config) {
        return config.option("thinpool").orElseThrow();
    }

    @Override
    public Availability availability(StorageConfig config) {
        Optional<String> missing = LvmPlugin.lvmMissing(host);
        if (missing.isPresent()) {
            return Availability.inactive(missing.get());
        }
        try {
            run("lvs", "--noheadings", "-o", "lv_name", vg(config) + "/" + pool(config));
            return Availability.ok();
        } catch (RuntimeException e) {
            return Availability.inactive("thin pool '" + vg(config) + "/" + pool(config) + "' not found");
        }
    }

    @Override
    public StorageStatus status(StorageConfig config) {
        String[] fields = run("lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", ":", "-o", "lv_size,data_percent",
                vg(config) + "/" + pool(config)).trim().split(":");
        long total = parseLong(fields[0], "lv_size");
        double percent = Double.parseDouble(fields[1].trim().replace(',', '.'));
        long used = (long) (total * percent / 100);
        return new StorageStatus(total, used, total - used);
    }

    @Override
    public long spaceNeeded(StorageConfig config, VolumeFormat format, long sizeBytes) {
        // thin volumes take pool space only as they are written
        return 0;
    }

    @Override
    public String alloc(StorageConfig config, int vmid, VolumeFormat format, Optional<String> name, long sizeBytes) {
        String lv = newName(vmid, format, name, names(config));
        run("lvcreate", "-V", kib(sizeBytes), "--name", lv, "--thinpool", vg(config) + "/" + pool(config));
        return lv;
    }

    @Override
    public void free(StorageConfig config, Volume volume) {
        String prefix = "snap_" + leaf(volume) + "_";
        for (String snapshot : names(config).stream().filter(n -> n.startsWith(prefix)).toList()) {
            run("lvremove", "-f", vg(config) + "/" + snapshot);
        }
        run("lvremove", "-f", vg(config) + "/" + leaf(volume));
    }

    @Override
    public void resize(StorageConfig config, Volume volume, long sizeBytes) {
        run("lvextend", "-L", kib(sizeBytes), vg(config) + "/" + leaf(volume));
    }

    static String snapshotLv(Volume volume, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        return "snap_" + leaf(volume) + "_" + snapshot;
    }

    @Override
    public void snapshot(StorageConfig config, Volume volume, String snapshot) {
        run("lvcreate", "-n", snapshotLv(volume, snapshot), "-pr", "-s", vg(config) + "/" + leaf(volume));
    }

    @Override
    public void rollback(StorageConfig config, Volume volume, String snapshot) {
        String snapshotLv = snapshotLv(volume, snapshot);
        run("lvremove", "-f", vg(config) + "/" + leaf(volume));
        run("lvcreate", "-kn", "-n", leaf(volume), "-s", vg(config) + "/" + snapshotLv);
    }

    @Override
    public void deleteSnapshot(StorageConfig config, Volume volume, String snapshot) {
        run("lvremove", "-f", vg(config) + "/" + snapshotLv(volume, snapshot));
    }

    @Override
    public String createBase(StorageConfig config, Volume volume) {
        DiskName disk = DiskName.parse(leaf(volume)).orElseThrow();
        if (disk.prefix().isBase()) {
            throw new IllegalArgumentException("create_base not possible with base image");
        }
        String base = disk.withPrefix(disk.prefix().asBase()).toString();
        run("lvrename", vg(config), leaf(volume), base);
        run("lvchange", "-pr", vg(config) + "/" + base);
        return base;
    }

    @Override
    public String clone(StorageConfig config, Volume base, int vmid, Optional<String> snapshot) {
        if (snapshot.isEmpty() && !base.isBase()) {
            throw new IllegalArgumentException("clone_image only works on base images");
        }
        String name = newName(vmid, VolumeFormat.RAW, Optional.empty(), names(config));
        String source = snapshot.map(s -> snapshotLv(base, s)).orElse(leaf(base));
        run("lvcreate", "-n", name, "-prw", "-kn", "-s", vg(config) + "/" + source);
        return snapshot.isPresent() ? name : leaf(base) + "/" + name;
    }

    @Override
    public VolumeLocation path(StorageConfig config, Volume volume, Optional<String> snapshot) {
        String lv = snapshot.map(s -> snapshotLv(volume, s)).orElse(leaf(volume));
        return VolumeLocation.device(Path.of("/dev", vg(config), lv));
    }

    private List<String> names(StorageConfig config) {
        List<String> names = new ArrayList<>();
        String out = run("lvs", "--noheadings", "-o", "lv_name", vg(config));
        out.lines().map(String::trim).filter(l -> !l.isEmpty()).forEach(names::add);
        return names;
    }

    @Override
    public List<VolumeInfo> list(StorageConfig config, Optional<Integer> vmid, Set<ContentType> content) {
        List<VolumeInfo> out = new ArrayList<>();
        if (!content.contains(ContentType.IMAGES) && !content.contains(ContentType.ROOTDIR)) {
            return out;
        }
        String lines = run("lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", ":", "-o",
                "lv_name,lv_size,pool_lv,data_percent,origin", vg(config));
        for (String line : lines.lines().toList()) {
            String[] f = line.trim().split(":", -1);
            if (f.length < 5 || !f[2].equals(pool(config))) {
                continue;
            }
            Optional<DiskName> disk = DiskName.parse(f[0]);
            if (disk.isEmpty() || vmid.isPresent() && disk.get().vmid() != vmid.get()) {
                continue;
            }
            long size = parseLong(f[1], "lv_size");
            long used = f[3].isBlank() ? 0 : (long) (size * Double.parseDouble(f[3].trim().replace(',', '.')) / 100);
            Optional<String> parent = DiskName.parse(f[4]).filter(d -> d.prefix().isBase()).map(DiskName::toString);
            String volname = parent.map(p -> p + "/" + f[0]).orElse(f[0]);
            out.add(new VolumeInfo(volname, ContentType.IMAGES, "raw", size, Optional.of(used), Optional.of(disk.get().vmid()),
                    Optional.empty(), parent, Optional.empty(), false));
        }
        return out;
    }
}
