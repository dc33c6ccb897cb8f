package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.ConfigWriter;
import org.corral.core.config.Digest;
import org.corral.core.config.KeyValueConfig;
import org.corral.core.config.StaleVersionException;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.PermissionDenied;
import org.corral.core.node.Node;
import org.corral.core.task.TaskManager;
import org.corral.storage.api.ContentApi;
import org.corral.storage.api.NodeStorageApi;
import org.corral.storage.api.StorageConfigApi;
import org.corral.storage.api.TransferApi;
import org.corral.storage.api.VolumeTransferApi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storage layer of one node: storage.cfg, the storage types, and every volume operation. The
 * qemu and lxc modules allocate, resolve and free volumes here; the API modules it hands out serve
 * {@code /storage} and {@code /nodes/{node}/storage}. Volume ids from callers are checked before
 * anything touches the disk; a storage that can't run on this node refuses with its reason.
 */
public final class StorageService {
    /** storage.cfg in the config store. */
    public static final String CONFIG = "storage.cfg";
    public static final String DATACENTER = "datacenter.cfg";
    /**
     * datacenter.cfg option (a Corral addition): {@code 1} lets {@code download-url} fetch from
     * loopback, link-local, private and other non-public addresses.
     */
    public static final String ALLOW_PRIVATE_DOWNLOAD = "allow-private-download";
    private static final Logger log = LoggerFactory.getLogger(StorageService.class);
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(60);
    private static final int WRITE_ATTEMPTS = 20;

    private final Node node;
    private final ConfigStore store;
    private final TaskManager tasks;
    private final Clock clock;
    private final PluginRegistry plugins;
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    public StorageService(Node node, ConfigStore store, TaskManager tasks, Clock clock) {
        this(node, store, tasks, clock, PluginRegistry.standard(Host.system()));
    }

    public StorageService(Node node, ConfigStore store, TaskManager tasks, Clock clock, PluginRegistry plugins) {
        this.node = requireNonNull(node, "node is null");
        this.store = requireNonNull(store, "store is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.plugins = requireNonNull(plugins, "plugins is null");
    }

    public Node node() {
        return node;
    }

    public TaskManager tasks() {
        return tasks;
    }

    public Clock clock() {
        return clock;
    }

    public PluginRegistry plugins() {
        return plugins;
    }

    /** The API of the storage layer: /storage and /nodes/{node}/storage. */
    public List<ApiModule> apiModules() {
        return List.of(new StorageConfigApi(this), new NodeStorageApi(this), new ContentApi(this), new TransferApi(this),
                new VolumeTransferApi(this));
    }

    /** The {@code local} directory storage of a fresh node, with every content type, below its data directory. */
    public static StorageConfig defaultLocal(Node node) {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("path", node.dataDir().resolve("storage/local").toAbsolutePath().normalize().toString());
        options.put("content", "iso,vztmpl,backup,images,rootdir,snippets,import");
        return new StorageConfig("dir", "local", options);
    }

    /** Creates storage.cfg with the {@code local} storage if there is none yet; leaves an existing one alone. */
    public void initialize() {
        if (store.read(CONFIG).isPresent()) {
            return;
        }
        try {
            store.write(CONFIG, StorageCfgCodec.write(List.of(defaultLocal(node))), ConfigStore.NEW);
            log.info("Created {} with storage 'local' at {}", CONFIG, defaultLocal(node).option("path").orElseThrow());
        } catch (StaleVersionException e) {
            // another node created it first
            log.debug("{} was created concurrently", CONFIG);
        }
    }

    // ---- configuration

    /** The current storage.cfg (empty when there is none). */
    public StorageCfg config() {
        Optional<ConfigFile> file = store.read(CONFIG);
        return file.map(f -> StorageCfgCodec.parse(f.text(), f.version()))
                .orElseGet(() -> new StorageCfg(Map.of(), ConfigStore.NEW, Digest.sha1Hex("")));
    }

    public StorageConfig storage(String id) {
        return config().get(id).orElseThrow(() -> new NotFound("storage '" + id + "' does not exist"));
    }

    public StoragePlugin plugin(StorageConfig config) {
        return plugins.find(config.type())
                .orElseThrow(() -> new StorageException("storage '" + config.id() + "' has unsupported type '" + config.type() + "'"));
    }

    public Capabilities capabilities(String storage) {
        return plugin(storage(storage)).capabilities();
    }

    /**
     * Changes storage.cfg by compare-and-set: {@code change} gets the current configuration and
     * answers the new one, or throws to change nothing. Retried when someone else wrote in between.
     */
    public StorageCfg updateConfig(UnaryOperator<StorageCfg> change) {
        for (int attempt = 1; ; attempt++) {
            StorageCfg current = config();
            StorageCfg next = change.apply(current);
            String text = StorageCfgCodec.write(next.list());
            try {
                int version = store.write(CONFIG, text, current.version());
                return StorageCfgCodec.parse(text, version);
            } catch (StaleVersionException e) {
                if (attempt >= WRITE_ATTEMPTS) {
                    throw e.asConflict();
                }
            }
        }
    }

    /** The password of a storage (CIFS, PBS), kept as Proxmox does in {@code priv/storage/ID.pw}. */
    public static String passwordPath(String storage) {
        return "priv/storage/" + storage + ".pw";
    }

    /** The text of a password file; a password that would not stay on its line is a ParameterError. */
    public static String passwordFile(String password) {
        return new ConfigWriter().line("password", password).text();
    }

    public void setPassword(String storage, Optional<String> password) {
        if (password.isPresent()) {
            store.overwrite(passwordPath(storage), passwordFile(password.get()));
        } else {
            store.read(passwordPath(storage)).ifPresent(f -> store.delete(f.path(), f.version()));
        }
    }

    /** The private file of a storage's secret option, {@code priv/storage/ID.SUFFIX} (an encryption key: {@code .enc}). */
    public static String privatePath(String storage, String suffix) {
        return "priv/storage/" + storage + "." + suffix;
    }

    /** Writes, or with an empty text removes, a storage's private file. */
    public void setPrivateFile(String storage, String suffix, Optional<String> text) {
        if (text.isPresent()) {
            store.overwrite(privatePath(storage, suffix), text.get());
        } else {
            store.read(privatePath(storage, suffix)).ifPresent(f -> store.delete(f.path(), f.version()));
        }
    }

    /** The text of a storage's private file, if it has one. */
    public Optional<String> privateFile(String storage, String suffix) {
        return store.read(privatePath(storage, suffix)).map(ConfigFile::text);
    }

    /** datacenter.cfg as key/value pairs; an unreadable file counts as empty. */
    public Map<String, String> datacenterOptions() {
        return store.read(DATACENTER).map(f -> {
            try {
                return KeyValueConfig.parse(f.text());
            } catch (IllegalArgumentException e) {
                log.warn("Ignoring unreadable {}: {}", DATACENTER, e.getMessage());
                return Map.<String, String>of();
            }
        }).orElse(Map.of());
    }

    public boolean allowPrivateDownloads() {
        String value = datacenterOptions().getOrDefault(ALLOW_PRIVATE_DOWNLOAD, "0").trim();
        return value.equals("1") || value.equalsIgnoreCase("yes") || value.equalsIgnoreCase("true") || value.equalsIgnoreCase("on");
    }

    // ---- state

    /** How this node sees the storage now; activates it when it can run here. */
    public StorageState state(StorageConfig config) {
        Optional<StoragePlugin> plugin = plugins.find(config.type());
        if (plugin.isEmpty()) {
            return new StorageState(config, plugin, false, Availability.inactive("unsupported storage type '" + config.type() + "'"),
                    Optional.empty());
        }
        if (config.disabled()) {
            return new StorageState(config, plugin, false, Availability.inactive("storage is disabled"), Optional.empty());
        }
        if (!config.availableOn(node.name())) {
            return new StorageState(config, plugin, false,
                    Availability.inactive("storage is not available on node '" + node.name() + "'"), Optional.empty());
        }
        Availability availability;
        try {
            availability = plugin.get().availability(config);
        } catch (RuntimeException e) {
            availability = Availability.inactive(message(e));
        }
        if (!availability.active()) {
            return new StorageState(config, plugin, true, availability, Optional.empty());
        }
        try {
            plugin.get().activate(config);
            return new StorageState(config, plugin, true, availability, Optional.of(plugin.get().status(config)));
        } catch (RuntimeException e) {
            return new StorageState(config, plugin, true, Availability.inactive(message(e)), Optional.empty());
        }
    }

    public StorageState state(String storage) {
        return state(storage(storage));
    }

    private static String message(RuntimeException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** The storage, activated; refuses with the reason when it is disabled or can't run on this node. */
    public StorageConfig usable(String storage) {
        StorageConfig config = storage(storage);
        StoragePlugin plugin = plugin(config);
        if (config.disabled()) {
            throw new StorageException("storage '" + storage + "' is disabled");
        }
        if (!config.availableOn(node.name())) {
            throw new StorageException("storage '" + storage + "' is not available on node '" + node.name() + "'");
        }
        Availability availability = plugin.availability(config);
        if (!availability.active()) {
            throw new StorageException("storage '" + storage + "' is not available: " + availability.reason().orElseThrow());
        }
        plugin.activate(config);
        return config;
    }

    // ---- volumes

    /** A parsed volume id with the storage and type it belongs to. */
    public record ResolvedVolume(VolumeId id, StorageConfig config, StoragePlugin plugin, Volume volume) {}

    /**
     * Parses and checks a volume id; refuses (400) every id that could leave its storage and every
     * name its storage type does not know.
     */
    public ResolvedVolume resolve(String volid) {
        VolumeId id = parseId(volid);
        StorageConfig config = storage(id.storage());
        StoragePlugin plugin = plugin(config);
        try {
            return new ResolvedVolume(id, config, plugin, plugin.parseVolume(id.volname()));
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
    }

    /** Parses a volume name of a storage already looked up (for listings: no re-read of storage.cfg per volume). */
    public static ResolvedVolume resolve(StorageConfig config, StoragePlugin plugin, String volname) {
        try {
            return new ResolvedVolume(new VolumeId(config.id(), volname), config, plugin, plugin.parseVolume(volname));
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
    }

    private ResolvedVolume usableVolume(String volid) {
        ResolvedVolume resolved = resolve(volid);
        StorageConfig config = usable(resolved.id().storage());
        return new ResolvedVolume(resolved.id(), config, resolved.plugin(), resolved.volume());
    }

    public static VolumeId parseId(String volid) {
        try {
            return VolumeId.parse(volid);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
    }

    /** The VMID owning a volume (guest images, container volumes, backups), if any. */
    public Optional<Integer> owner(String volid) {
        return resolve(volid).volume().vmid();
    }

    /**
     * Allocates a volume of {@code sizeBytes} for {@code vmid}; the format defaults to the
     * storage's {@code format} option, then the type's default. Refuses an allocation that can't
     * fit. Answers the new volume id.
     */
    public String alloc(String storage, int vmid, Optional<VolumeFormat> format, Optional<String> name, long sizeBytes) {
        StorageConfig config = usable(storage);
        StoragePlugin plugin = plugin(config);
        Capabilities capabilities = plugin.capabilities();
        VolumeFormat chosen = format
                .or(() -> config.option("format").flatMap(VolumeFormat::byName))
                .or(capabilities::defaultFormat)
                .orElseThrow(() -> new StorageException("storage '" + storage + "' does not hold guest volumes"));
        if (!capabilities.formats().contains(chosen)) {
            throw new ApiException(400, "storage '" + storage + "' does not support format '" + chosen + "'");
        }
        Set<ContentType> content = config.content(capabilities);
        boolean fits = chosen == VolumeFormat.SUBVOL ? content.contains(ContentType.ROOTDIR)
                : content.contains(ContentType.IMAGES) || content.contains(ContentType.ROOTDIR);
        if (!fits) {
            throw new ApiException(400, "storage '" + storage + "' does not allow content type '"
                    + (chosen == VolumeFormat.SUBVOL ? "rootdir" : "images") + "'");
        }
        if (sizeBytes < 0) {
            throw new ApiException(400, "size must not be negative");
        }
        long size = Sizes.roundUpToKiB(sizeBytes);
        return locked(config, () -> {
            long needed = plugin.spaceNeeded(config, chosen, size);
            if (needed > 0) {
                StorageStatus status = plugin.status(config);
                if (needed > status.avail()) {
                    throw new ApiException(400, "not enough space on storage '" + storage + "': " + chosen + " volume needs "
                            + needed + " bytes, " + status.avail() + " available");
                }
            }
            try {
                String volname = plugin.alloc(config, vmid, chosen, name, size);
                log.info("Allocated {}:{} ({} bytes, {})", storage, volname, size, chosen);
                return storage + ":" + volname;
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, e.getMessage());
            }
        });
    }

    /** Allocates {@code STORAGE:SIZE} new-disk syntax for {@code vmid}. */
    public String alloc(NewDisk disk, int vmid, Optional<VolumeFormat> format) {
        String storage = disk.storage().orElseThrow(() -> new ApiException(400, "new disk '" + disk.sizeGiB() + "' names no storage"));
        return alloc(storage, vmid, format, Optional.empty(), disk.sizeBytes());
    }

    /** Removes a volume; a protected volume is refused. */
    public void free(String volid) {
        ResolvedVolume v = usableVolume(volid);
        locked(v.config(), () -> {
            if (v.plugin().isProtected(v.config(), v.volume())) {
                throw new Conflict("volume '" + volid + "' is protected");
            }
            v.plugin().free(v.config(), v.volume());
            log.info("Freed {}", volid);
            return null;
        });
    }

    public VolumeLocation path(String volid) {
        return path(volid, Optional.empty());
    }

    /** Where QEMU or LXC find a volume or one of its snapshots. */
    public VolumeLocation path(String volid, Optional<String> snapshot) {
        ResolvedVolume v = usableVolume(volid);
        return call(() -> v.plugin().path(v.config(), v.volume(), snapshot));
    }

    public VolumeInfo info(String volid) {
        ResolvedVolume v = usableVolume(volid);
        return call(() -> v.plugin().info(v.config(), v.volume()));
    }

    /** Volumes of a storage, of one content type if given, of one guest if given. */
    public List<VolumeInfo> list(String storage, Optional<Integer> vmid, Optional<ContentType> content) {
        StorageConfig config = usable(storage);
        StoragePlugin plugin = plugin(config);
        Set<ContentType> enabled = config.content(plugin.capabilities());
        Set<ContentType> wanted = content.map(c -> enabled.contains(c) ? EnumSet.of(c) : EnumSet.noneOf(ContentType.class))
                .orElse(enabled.isEmpty() ? EnumSet.noneOf(ContentType.class) : EnumSet.copyOf(enabled));
        if (wanted.isEmpty()) {
            return List.of();
        }
        List<VolumeInfo> out = new ArrayList<>(plugin.list(config, vmid, wanted));
        out.sort(Comparator.comparing(VolumeInfo::volname));
        return out;
    }

    /** Grows a volume; shrinking is refused. */
    public void resize(String volid, long sizeBytes) {
        ResolvedVolume v = usableVolume(volid);
        call(() -> {
            v.plugin().resize(v.config(), v.volume(), Sizes.roundUpToKiB(sizeBytes));
            return null;
        });
    }

    public void snapshot(String volid, String snapshot) {
        ResolvedVolume v = usableVolume(volid);
        requireFeature(v, Feature.SNAPSHOT);
        call(() -> {
            v.plugin().snapshot(v.config(), v.volume(), snapshot);
            return null;
        });
    }

    public void rollback(String volid, String snapshot) {
        ResolvedVolume v = usableVolume(volid);
        requireFeature(v, Feature.SNAPSHOT);
        call(() -> {
            v.plugin().rollback(v.config(), v.volume(), snapshot);
            return null;
        });
    }

    public void deleteSnapshot(String volid, String snapshot) {
        ResolvedVolume v = usableVolume(volid);
        requireFeature(v, Feature.SNAPSHOT);
        call(() -> {
            v.plugin().deleteSnapshot(v.config(), v.volume(), snapshot);
            return null;
        });
    }

    /** Makes a volume a read-only base for linked clones; answers the base volume's id. */
    public String createBase(String volid) {
        ResolvedVolume v = usableVolume(volid);
        requireFeature(v, Feature.TEMPLATE);
        return locked(v.config(), () -> v.id().storage() + ":" + v.plugin().createBase(v.config(), v.volume()));
    }

    /** A linked clone of a base volume (or of a snapshot, where the storage can) for {@code vmid}; answers its id. */
    public String clone(String volid, int vmid, Optional<String> snapshot) {
        ResolvedVolume v = usableVolume(volid);
        requireFeature(v, Feature.CLONE);
        return locked(v.config(), () -> v.id().storage() + ":" + v.plugin().clone(v.config(), v.volume(), vmid, snapshot));
    }

    /** Whether the volume's storage and format support {@code feature}. */
    public boolean hasFeature(String volid, Feature feature) {
        ResolvedVolume v = resolve(volid);
        return v.volume().format().filter(f -> v.plugin().capabilities().supports(feature, f)).isPresent();
    }

    public void exportVolume(String volid, String format, Optional<String> snapshot, Optional<String> baseSnapshot, OutputStream out) {
        ResolvedVolume v = usableVolume(volid);
        requireExportFormat(v, format);
        call(() -> {
            v.plugin().exportVolume(v.config(), v.volume(), format, snapshot, baseSnapshot, out);
            return null;
        });
    }

    /** Creates volume {@code volid} from an export stream; answers its id. */
    public String importVolume(String volid, String format, InputStream in) {
        ResolvedVolume v = usableVolume(volid);
        requireExportFormat(v, format);
        return locked(v.config(), () -> v.id().storage() + ":" + v.plugin().importVolume(v.config(), v.id().volname(), format, in));
    }

    public void setNotes(String volid, String notes) {
        ResolvedVolume v = usableVolume(volid);
        call(() -> {
            v.plugin().setAttribute(v.config(), v.volume(), "notes", notes);
            return null;
        });
    }

    public void setProtected(String volid, boolean value) {
        ResolvedVolume v = usableVolume(volid);
        call(() -> {
            v.plugin().setAttribute(v.config(), v.volume(), "protected", value ? "1" : "0");
            return null;
        });
    }

    /** Where files of {@code content} go on a file storage, refusing storages that don't hold it. */
    public Path contentDirectory(String storage, ContentType content) {
        StorageConfig config = usable(storage);
        StoragePlugin plugin = plugin(config);
        if (!config.content(plugin.capabilities()).contains(content)) {
            throw new ApiException(400, "storage '" + storage + "' does not support content type '" + content.proxmoxName() + "'");
        }
        return plugin.contentDirectory(config, content)
                .orElseThrow(() -> new ApiException(400, "storage '" + storage + "' has no directory for '" + content.proxmoxName() + "'"));
    }

    private static void requireFeature(ResolvedVolume v, Feature feature) {
        VolumeFormat format = v.volume().format().orElseThrow(() -> new ApiException(400, "volume '" + v.id() + "' is not a guest volume"));
        if (!v.plugin().capabilities().supports(feature, format)) {
            throw new StorageException("storage type '" + v.plugin().type() + "' does not support " + feature.name().toLowerCase(Locale.ROOT)
                    + " for " + format + " volumes");
        }
    }

    private static void requireExportFormat(ResolvedVolume v, String format) {
        if (!v.plugin().capabilities().exportFormats().contains(format)) {
            throw new ApiException(400, "storage type '" + v.plugin().type() + "' can't export or import '" + format + "' (supported: "
                    + String.join(", ", new TreeSet<>(v.plugin().capabilities().exportFormats())) + ")");
        }
    }

    @SuppressWarnings("try") // the cluster lock is held, not used
    private <T> T locked(StorageConfig config, Supplier<T> action) {
        boolean shared = plugin(config).capabilities().sharedByType() || config.flag("shared", false);
        if (shared) {
            // other nodes allocate on a shared storage too
            try (ConfigStore.Lock lock = store.lock("storage-" + config.id(), LOCK_TIMEOUT)) {
                return call(action);
            }
        }
        ReentrantLock lock = locks.computeIfAbsent(config.id(), id -> new ReentrantLock());
        lock.lock();
        try {
            return call(action);
        } finally {
            lock.unlock();
        }
    }

    /** Runs a plugin call; a plugin's IllegalArgumentException is the caller's bad input (400). */
    private static <T> T call(Supplier<T> action) {
        try {
            return action.get();
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
    }

    // ---- permissions, for the API and for qemu/lxc

    /** Refuses unless the caller holds Datastore.AllocateSpace on {@code /storage/STORAGE}. */
    public static void checkAllocateSpace(ApiRequest request, String storage) {
        String path = "/storage/" + storage;
        if (!request.can(path, Privilege.DATASTORE_ALLOCATE_SPACE)) {
            throw new PermissionDenied("Permission check failed (" + path + ", Datastore.AllocateSpace)");
        }
    }

    /**
     * Refuses a caller who may not use a volume (Proxmox's {@code check_volume_access}): anyone
     * with Datastore.Allocate on the storage may; ISOs, templates and imports need
     * Datastore.AllocateSpace or Audit; guest volumes need VM.Config.Disk or VM.Audit on the owner
     * plus Datastore.AllocateSpace; backups need VM.Backup on the owner plus Datastore.AllocateSpace.
     */
    public void checkVolumeAccess(ApiRequest request, String volid) {
        if (!mayAccess(request, resolve(volid))) {
            throw new PermissionDenied("Permission check failed (volume '" + volid + "')");
        }
    }

    public static boolean mayAccess(ApiRequest request, ResolvedVolume v) {
        String storagePath = "/storage/" + v.id().storage();
        if (request.can(storagePath, Privilege.DATASTORE_ALLOCATE)) {
            return true;
        }
        Volume volume = v.volume();
        return switch (volume.content()) {
            case ISO, VZTMPL, IMPORT, SNIPPETS -> request.canAny(storagePath, Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE);
            case IMAGES, ROOTDIR -> request.canAny(storagePath, Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE)
                    && volume.vmid().map(id -> request.canAny("/vms/" + id, Privilege.VM_CONFIG_DISK, Privilege.VM_AUDIT)).orElse(false);
            case BACKUP -> request.can(storagePath, Privilege.DATASTORE_ALLOCATE_SPACE)
                    && volume.vmid().map(id -> request.can("/vms/" + id, Privilege.VM_BACKUP)).orElse(false);
        };
    }
}
