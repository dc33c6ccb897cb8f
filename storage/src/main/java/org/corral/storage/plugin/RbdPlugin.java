package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.optional;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.core.json.Json;
import org.corral.storage.Availability;
import org.corral.storage.Capabilities;
import org.corral.storage.CommandRunner;
import org.corral.storage.ContentType;
import org.corral.storage.DiskName;
import org.corral.storage.Feature;
import org.corral.storage.Host;
import org.corral.storage.OptionSpec;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageException;
import org.corral.storage.StorageStatus;
import org.corral.storage.Volume;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;
import org.corral.storage.VolumeNames;
import tools.jackson.databind.JsonNode;

/**
 * {@code rbd}: Ceph RBD images. QEMU opens them itself through an {@code rbd:} URL, or through
 * the kernel driver ({@code krbd}) as {@code /dev/rbd/POOL/NAME}.
 */
public final class RbdPlugin extends BlockPluginBase {
    private static final String BASE_SNAPSHOT = "__base__";
    private static final Set<Feature> ALL = Set.of(Feature.SNAPSHOT, Feature.CLONE, Feature.TEMPLATE, Feature.RESIZE);
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.IMAGES, ContentType.ROOTDIR),
            Set.of(ContentType.IMAGES),
            Set.of(VolumeFormat.RAW),
            Optional.of(VolumeFormat.RAW),
            Map.of(VolumeFormat.RAW, ALL),
            Set.of("raw+size"),
            true,
            false);

    public RbdPlugin(Host host) {
        this(host, CommandRunner.system());
    }

    public RbdPlugin(Host host, CommandRunner runner) {
        super(host, runner);
    }

    @Override
    public String type() {
        return "rbd";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(optional("pool"), optional("monhost"), optional("username"), optional("krbd"), optional("namespace"),
                optional("data-pool"), optional("nodes"), optional("disable"), optional("content"));
    }

    private static String pool(StorageConfig config) {
        return config.option("pool").orElse("rbd");
    }

    /** {@code POOL[/NAMESPACE]/NAME}, the image spec the rbd tool and QEMU take. */
    static String spec(StorageConfig config, String name) {
        return pool(config) + config.option("namespace").map(ns -> "/" + ns).orElse("") + "/" + name;
    }

    private List<String> base(StorageConfig config) {
        List<String> args = new ArrayList<>(List.of("rbd", "-p", pool(config)));
        config.option("namespace").ifPresent(ns -> args.addAll(List.of("--namespace", ns)));
        config.option("monhost").ifPresent(m -> args.addAll(List.of("-m", m.replaceAll("[,; ]+", ","))));
        args.addAll(List.of("--id", config.option("username").orElse("admin")));
        return args;
    }

    private String rbd(StorageConfig config, String... args) {
        List<String> command = new ArrayList<>(base(config));
        command.addAll(List.of(args));
        return runner.run(command);
    }

    @Override
    public Availability availability(StorageConfig config) {
        if (!host.hasTool("rbd")) {
            return Availability.inactive("the Ceph RBD client is not installed (no 'rbd'; install ceph-common)");
        }
        if (config.flag("krbd", false) && !host.exists("/sys/bus/rbd")) {
            return Availability.inactive("krbd is set but the rbd kernel module is not loaded (no /sys/bus/rbd)");
        }
        return Availability.ok();
    }

    @Override
    public StorageStatus status(StorageConfig config) {
        JsonNode df = Json.read(run("ceph", "df", "--format", "json"));
        for (JsonNode pool : df.path("pools")) {
            if (pool.path("name").asString("").equals(pool(config))) {
                long used = pool.path("stats").path("stored").asLong(0);
                long avail = pool.path("stats").path("max_avail").asLong(0);
                return new StorageStatus(used + avail, used, avail);
            }
        }
        throw new StorageException("ceph pool '" + pool(config) + "' not found");
    }

    @Override
    public long spaceNeeded(StorageConfig config, VolumeFormat format, long sizeBytes) {
        return 0;
    }

    @Override
    public String alloc(StorageConfig config, int vmid, VolumeFormat format, Optional<String> name, long sizeBytes) {
        String image = newName(vmid, format, name, names(config));
        List<String> args = new ArrayList<>(List.of("create", "--image-format", "2", "--size", Long.toString((sizeBytes + (1 << 20) - 1) >> 20)));
        config.option("data-pool").ifPresent(p -> args.addAll(List.of("--data-pool", p)));
        args.add(image);
        rbd(config, args.toArray(String[]::new));
        return image;
    }

    @Override
    public void free(StorageConfig config, Volume volume) {
        rbd(config, "snap", "purge", leaf(volume));
        rbd(config, "rm", leaf(volume));
    }

    @Override
    public void resize(StorageConfig config, Volume volume, long sizeBytes) {
        rbd(config, "resize", "--size", Long.toString((sizeBytes + (1 << 20) - 1) >> 20), leaf(volume));
    }

    @Override
    public void snapshot(StorageConfig config, Volume volume, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        rbd(config, "snap", "create", leaf(volume) + "@" + snapshot);
    }

    @Override
    public void rollback(StorageConfig config, Volume volume, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        rbd(config, "snap", "rollback", leaf(volume) + "@" + snapshot);
    }

    @Override
    public void deleteSnapshot(StorageConfig config, Volume volume, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        rbd(config, "snap", "rm", leaf(volume) + "@" + snapshot);
    }

    @Override
    public String createBase(StorageConfig config, Volume volume) {
        DiskName disk = DiskName.parse(leaf(volume)).orElseThrow();
        if (disk.prefix().isBase()) {
            throw new IllegalArgumentException("create_base not possible with base image");
        }
        String base = disk.withPrefix(disk.prefix().asBase()).toString();
        rbd(config, "rename", leaf(volume), base);
        rbd(config, "snap", "create", base + "@" + BASE_SNAPSHOT);
        rbd(config, "snap", "protect", base + "@" + BASE_SNAPSHOT);
        return base;
    }

    @Override
    public String clone(StorageConfig config, Volume base, int vmid, Optional<String> snapshot) {
        if (snapshot.isEmpty() && !base.isBase()) {
            throw new IllegalArgumentException("clone_image only works on base images");
        }
        snapshot.ifPresent(VolumeNames::checkSnapshotName);
        String name = newName(vmid, VolumeFormat.RAW, Optional.empty(), names(config));
        rbd(config, "clone", spec(config, leaf(base)) + "@" + snapshot.orElse(BASE_SNAPSHOT), spec(config, name));
        return snapshot.isPresent() ? name : leaf(base) + "/" + name;
    }

    @Override
    public VolumeLocation path(StorageConfig config, Volume volume, Optional<String> snapshot) {
        snapshot.ifPresent(VolumeNames::checkSnapshotName);
        String name = leaf(volume) + snapshot.map(s -> "@" + s).orElse("");
        if (config.flag("krbd", false)) {
            return VolumeLocation.device(Path.of("/dev/rbd", spec(config, name)));
        }
        StringBuilder url = new StringBuilder("rbd:").append(spec(config, name));
        config.option("monhost").ifPresent(m -> url.append(":mon_host=").append(m.replaceAll("[,; ]+", ";").replace(":", "\\:"))
                .append(":auth_supported=cephx"));
        url.append(":id=").append(config.option("username").orElse("admin"));
        url.append(":keyring=/etc/pve/priv/ceph/").append(config.id()).append(".keyring");
        return VolumeLocation.url(url.toString());
    }

    private List<String> names(StorageConfig config) {
        List<String> names = new ArrayList<>();
        Json.read(rbd(config, "ls", "--format", "json")).forEach(n -> names.add(n.asString()));
        return names;
    }

    @Override
    public List<VolumeInfo> list(StorageConfig config, Optional<Integer> vmid, Set<ContentType> content) {
        List<VolumeInfo> out = new ArrayList<>();
        if (!content.contains(ContentType.IMAGES) && !content.contains(ContentType.ROOTDIR)) {
            return out;
        }
        for (JsonNode image : Json.read(rbd(config, "ls", "-l", "--format", "json"))) {
            if (image.has("snapshot")) {
                continue;
            }
            String name = image.path("image").asString("");
            Optional<DiskName> disk = DiskName.parse(name);
            if (disk.isEmpty() || vmid.isPresent() && disk.get().vmid() != vmid.get()) {
                continue;
            }
            Optional<String> parent = Optional.ofNullable(image.get("parent")).map(p -> p.path("image").asString(""))
                    .filter(p -> DiskName.parse(p).filter(d -> d.prefix().isBase()).isPresent());
            out.add(new VolumeInfo(parent.map(p -> p + "/" + name).orElse(name), ContentType.IMAGES, "raw", image.path("size").asLong(0),
                    Optional.empty(), Optional.of(disk.get().vmid()), Optional.empty(), parent, Optional.empty(), false));
        }
        return out;
    }
}
