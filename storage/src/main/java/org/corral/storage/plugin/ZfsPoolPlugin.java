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
 * {@code zfspool}: zvols ({@code /dev/zvol/POOL/vm-100-disk-0}) for VMs and datasets with a
 * {@code refquota} for containers. Templates carry a {@code @__base__} snapshot that linked clones
 * are {@code zfs clone}s of.
 */
public final class ZfsPoolPlugin extends BlockPluginBase {
    private static final String BASE_SNAPSHOT = "__base__";
    private static final Set<Feature> ALL = Set.of(Feature.SNAPSHOT, Feature.CLONE, Feature.TEMPLATE, Feature.RESIZE);
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.IMAGES, ContentType.ROOTDIR),
            Set.of(ContentType.IMAGES, ContentType.ROOTDIR),
            Set.of(VolumeFormat.RAW, VolumeFormat.SUBVOL),
            Optional.of(VolumeFormat.RAW),
            Map.of(VolumeFormat.RAW, ALL, VolumeFormat.SUBVOL, ALL),
            Set.of("zfs", "raw+size"),
            false,
            false);

    public ZfsPoolPlugin(Host host) {
        this(host, CommandRunner.system());
    }

    public ZfsPoolPlugin(Host host, CommandRunner runner) {
        super(host, runner);
    }

    @Override
    public String type() {
        return "zfspool";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(fixed("pool"), optional("sparse"), optional("blocksize"), optional("mountpoint"), optional("nodes"),
                optional("disable"), optional("content"));
    }

    private static String pool(StorageConfig config) {
        return config.option("pool").orElseThrow();
    }

    @Override
    public Availability availability(StorageConfig config) {
        if (!host.hasTool("zfs") || !host.hasTool("zpool")) {
            return Availability.inactive("ZFS tools are not installed (no 'zfs'/'zpool'; install zfsutils-linux)");
        }
        if (!host.exists("/dev/zfs")) {
            return Availability.inactive("the ZFS kernel module is not loaded (no /dev/zfs)");
        }
        try {
            run("zfs", "list", "-H", "-o", "name", pool(config));
            return Availability.ok();
        } catch (RuntimeException e) {
            return Availability.inactive("ZFS pool or dataset '" + pool(config) + "' not found");
        }
    }

    @Override
    public StorageStatus status(StorageConfig config) {
        String[] lines = run("zfs", "get", "-o", "value", "-Hp", "available,used", pool(config)).trim().split("\n");
        long avail = parseLong(lines[0], "available");
        long used = parseLong(lines[1], "used");
        return new StorageStatus(avail + used, used, avail);
    }

    @Override
    public long spaceNeeded(StorageConfig config, VolumeFormat format, long sizeBytes) {
        // a non-sparse zvol reserves its size; datasets and sparse zvols reserve nothing
        return format == VolumeFormat.RAW && !config.flag("sparse", false) ? sizeBytes : 0;
    }

    /** The commands that create a volume, for {@link #alloc}. */
    List<String> createCommand(StorageConfig config, String name, VolumeFormat format, long sizeBytes) {
        List<String> command = new ArrayList<>(List.of("zfs", "create"));
        if (format == VolumeFormat.SUBVOL) {
            command.addAll(List.of("-o", "acltype=posixacl", "-o", "xattr=sa"));
            if (sizeBytes > 0) {
                command.addAll(List.of("-o", "refquota=" + kib(sizeBytes)));
            }
        } else {
            if (config.flag("sparse", false)) {
                command.add("-s");
            }
            config.option("blocksize").ifPresent(b -> command.addAll(List.of("-b", b)));
            command.addAll(List.of("-V", kib(sizeBytes)));
        }
        command.add(pool(config) + "/" + name);
        return command;
    }

    @Override
    public String alloc(StorageConfig config, int vmid, VolumeFormat format, Optional<String> name, long sizeBytes) {
        String volume = newName(vmid, format, name, names(config));
        runner.run(createCommand(config, volume, format, sizeBytes));
        return volume;
    }

    @Override
    public void free(StorageConfig config, Volume volume) {
        run("zfs", "destroy", "-r", pool(config) + "/" + leaf(volume));
    }

    @Override
    public void resize(StorageConfig config, Volume volume, long sizeBytes) {
        String property = volume.requireFormat() == VolumeFormat.SUBVOL ? "refquota" : "volsize";
        run("zfs", "set", property + "=" + kib(sizeBytes), pool(config) + "/" + leaf(volume));
    }

    @Override
    public void snapshot(StorageConfig config, Volume volume, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        run("zfs", "snapshot", pool(config) + "/" + leaf(volume) + "@" + snapshot);
    }

    @Override
    public void rollback(StorageConfig config, Volume volume, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        run("zfs", "rollback", "-r", pool(config) + "/" + leaf(volume) + "@" + snapshot);
    }

    @Override
    public void deleteSnapshot(StorageConfig config, Volume volume, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        run("zfs", "destroy", pool(config) + "/" + leaf(volume) + "@" + snapshot);
    }

    @Override
    public String createBase(StorageConfig config, Volume volume) {
        DiskName disk = DiskName.parse(leaf(volume)).orElseThrow();
        if (disk.prefix().isBase()) {
            throw new IllegalArgumentException("create_base not possible with base image");
        }
        String base = disk.withPrefix(disk.prefix().asBase()).toString();
        run("zfs", "rename", pool(config) + "/" + leaf(volume), pool(config) + "/" + base);
        run("zfs", "snapshot", pool(config) + "/" + base + "@" + BASE_SNAPSHOT);
        return base;
    }

    @Override
    public String clone(StorageConfig config, Volume base, int vmid, Optional<String> snapshot) {
        if (snapshot.isEmpty() && !base.isBase()) {
            throw new IllegalArgumentException("clone_image only works on base images");
        }
        snapshot.ifPresent(VolumeNames::checkSnapshotName);
        VolumeFormat format = base.requireFormat();
        String name = newName(vmid, format, Optional.empty(), names(config));
        run("zfs", "clone", pool(config) + "/" + leaf(base) + "@" + snapshot.orElse(BASE_SNAPSHOT), pool(config) + "/" + name);
        return snapshot.isPresent() ? name : leaf(base) + "/" + name;
    }

    @Override
    public VolumeLocation path(StorageConfig config, Volume volume, Optional<String> snapshot) {
        snapshot.ifPresent(VolumeNames::checkSnapshotName);
        if (volume.requireFormat() == VolumeFormat.SUBVOL) {
            String mountpoint = config.option("mountpoint").orElse("/" + pool(config));
            Path dir = Path.of(mountpoint, leaf(volume));
            return VolumeLocation.directory(snapshot.map(s -> dir.resolve(".zfs/snapshot/" + s)).orElse(dir));
        }
        return VolumeLocation.device(Path.of("/dev/zvol", pool(config), leaf(volume) + snapshot.map(s -> "@" + s).orElse("")));
    }

    private List<String> names(StorageConfig config) {
        List<String> names = new ArrayList<>();
        String prefix = pool(config) + "/";
        for (String line : run("zfs", "list", "-H", "-o", "name", "-r", "-d", "1", pool(config)).lines().toList()) {
            if (line.startsWith(prefix)) {
                names.add(line.substring(prefix.length()));
            }
        }
        return names;
    }

    @Override
    public List<VolumeInfo> list(StorageConfig config, Optional<Integer> vmid, Set<ContentType> content) {
        List<VolumeInfo> out = new ArrayList<>();
        String prefix = pool(config) + "/";
        String lines = run("zfs", "list", "-o", "name,volsize,origin,type,refquota,used", "-t", "volume,filesystem", "-d", "1", "-Hp",
                pool(config));
        for (String line : lines.lines().toList()) {
            String[] f = line.split("\t", -1);
            if (f.length < 6 || !f[0].startsWith(prefix)) {
                continue;
            }
            String name = f[0].substring(prefix.length());
            Optional<DiskName> disk = DiskName.parse(name);
            if (disk.isEmpty() || vmid.isPresent() && disk.get().vmid() != vmid.get()) {
                continue;
            }
            boolean subvol = f[3].equals("filesystem");
            ContentType type = subvol ? ContentType.ROOTDIR : ContentType.IMAGES;
            if (!content.contains(type)) {
                continue;
            }
            long size = subvol ? (f[4].equals("-") || f[4].equals("none") ? 0 : parseLong(f[4], "refquota")) : parseLong(f[1], "volsize");
            Optional<String> parent = Optional.of(f[2]).filter(o -> o.startsWith(prefix) && o.contains("@"))
                    .map(o -> o.substring(prefix.length(), o.indexOf('@')))
                    .filter(o -> DiskName.parse(o).filter(d -> d.prefix().isBase()).isPresent());
            out.add(new VolumeInfo(parent.map(p -> p + "/" + name).orElse(name), type, subvol ? "subvol" : "raw", size,
                    Optional.of(parseLong(f[5], "used")), Optional.of(disk.get().vmid()), Optional.empty(), parent, Optional.empty(), false));
        }
        return out;
    }
}
