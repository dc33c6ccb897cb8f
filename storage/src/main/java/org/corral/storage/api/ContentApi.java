package org.corral.storage.api;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.Conflict;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.schema.Schema;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.corral.storage.ContentType;
import org.corral.storage.Sizes;
import org.corral.storage.StorageConfig;
import org.corral.storage.StoragePlugin;
import org.corral.storage.StorageService;
import org.corral.storage.Volume;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;
import org.corral.storage.VolumeNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /nodes/{node}/storage/{storage}/content}: list, allocate, read, annotate and delete volumes. */
public final class ContentApi implements ApiModule {
    private static final Logger log = LoggerFactory.getLogger(ContentApi.class);
    private static final String[] CONTENT_TYPES = Arrays.stream(ContentType.values()).map(ContentType::proxmoxName)
            .toArray(String[]::new);

    private final StorageService storages;

    public ContentApi(StorageService storages) {
        this.storages = requireNonNull(storages, "storages is null");
    }

    private static Schema volume() {
        return Schema.string().maxLength(4096).description("Volume identifier");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/nodes/{node}/storage/{storage}/content")
                        .name("index")
                        .description("List storage content.")
                        .permission(Check.pathAny("/storage/{storage}", Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE))
                        .proxyToNode()
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .parameter("content", Schema.string().enumValues(CONTENT_TYPES).optional().description("Only list content of this type."))
                        .parameter("vmid", ApiSupport.vmid().optional().description("Only list images for this VM"))
                        .returns(Schema.array(Schema.object()
                                .property("volid", Schema.string().description("Volume identifier."))
                                .property("content", Schema.string().description("Content type."))
                                .property("format", Schema.string().description("Format identifier ('raw', 'qcow2', 'subvol', 'iso', 'tgz' ...)"))
                                .property("size", Schema.integer().description("Volume size in bytes."))
                                .property("used", Schema.integer().description("Used space. Please note that most storage plugins do not report anything useful here."))
                                .property("vmid", Schema.integer().description("Associated Owner VMID."))
                                .property("ctime", Schema.integer().description("Creation time (seconds since the UNIX Epoch)."))
                                .property("parent", Schema.string().description("Volume identifier of parent (for linked cloned)."))
                                .property("notes", Schema.string().description("Optional notes."))
                                .property("protected", Schema.bool().description("Protection status. Currently only supported for backups."))
                                .property("subtype", Schema.string().optional().description("Guest type of a backup: 'qemu', 'lxc' or 'unknown'."))))
                        .handler(this::index),
                ApiMethod.post("/nodes/{node}/storage/{storage}/content")
                        .name("create")
                        .description("Allocate disk images.")
                        .permission(Check.path("/storage/{storage}", Privilege.DATASTORE_ALLOCATE_SPACE))
                        .proxyToNode()
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .parameter("filename", Schema.string().maxLength(255).description("The name of the file to create."))
                        .parameter("size", Schema.string().pattern("\\d+[MGT]?").maxLength(20)
                                .description("Size in kilobyte (1024 bytes). Optional suffixes 'M' (megabyte, 1024K) and 'G' (gigabyte, 1024M)"))
                        .parameter("vmid", ApiSupport.vmid().description("Specify owner VM"))
                        .parameter("format", Schema.string().enumValues("raw", "qcow2", "subvol", "vmdk").optional().description("Format of the image."))
                        .returns(Schema.string().description("Volume identifier"))
                        .handler(this::create),
                ApiMethod.get("/nodes/{node}/storage/{storage}/content/{volume}")
                        .name("info")
                        .description("Get volume attributes. You need read access for the volume.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .parameter("volume", volume())
                        .lastVariableTakesRestOfPath()
                        .returns(Schema.object()
                                .property("path", Schema.string().description("The Path"))
                                .property("size", Schema.integer().description("Volume size in bytes."))
                                .property("used", Schema.integer().description("Used space."))
                                .property("format", Schema.string().description("Format identifier."))
                                .property("notes", Schema.string().description("Optional notes."))
                                .property("protected", Schema.bool().description("Protection status.")))
                        .handler(this::info),
                ApiMethod.put("/nodes/{node}/storage/{storage}/content/{volume}")
                        .name("updateattributes")
                        .description("Update volume attributes.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .parameter("volume", volume())
                        .lastVariableTakesRestOfPath()
                        .parameter("notes", Schema.string().maxLength(64 * 1024).multiLine().optional().description("The new notes."))
                        .parameter("protected", Schema.bool().optional().description("Protection status. Protected volumes can't be deleted."))
                        .handler(this::update),
                ApiMethod.delete("/nodes/{node}/storage/{storage}/content/{volume}")
                        .name("delete")
                        .description("Delete volume. You need 'Datastore.Allocate' privilege on the storage (or 'Datastore.AllocateSpace' "
                                + "for backup volumes if you have VM.Backup privilege on the VM).")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .parameter("volume", volume())
                        .lastVariableTakesRestOfPath()
                        .parameter("delay", Schema.integer().minimum(1).maximum(30).optional()
                                .description("Time to wait for the task to finish. We return 'null' if the task finish within that time."))
                        .returns(Schema.string().optional().description("The task UPID, or null if it finished within 'delay'."))
                        .handler(this::delete));
    }

    private Object index(ApiRequest r) {
        ApiSupport.requireLocalNode(storages.node(), r);
        String storage = r.string("storage");
        Optional<ContentType> content = r.optionalString("content").flatMap(ContentType::byName);
        List<Map<String, Object>> out = new ArrayList<>();
        List<VolumeInfo> volumes = storages.list(storage, r.optionalInt("vmid"), content);
        StorageConfig config = storages.storage(storage);
        StoragePlugin plugin = storages.plugin(config);
        for (VolumeInfo info : volumes) {
            StorageService.ResolvedVolume resolved;
            try {
                resolved = StorageService.resolve(config, plugin, info.volname());
            } catch (RuntimeException e) {
                continue;
            }
            if (!StorageService.mayAccess(r, resolved)) {
                continue;
            }
            out.add(listEntry(storage, info));
        }
        return out;
    }

    static Map<String, Object> listEntry(String storage, VolumeInfo info) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("volid", storage + ":" + info.volname());
        entry.put("content", info.content().proxmoxName());
        entry.put("format", info.format());
        entry.put("size", info.size());
        info.used().ifPresent(u -> entry.put("used", u));
        info.vmid().ifPresent(v -> entry.put("vmid", v));
        Optional<VolumeNames.BackupName> backup = info.content() == ContentType.BACKUP
                ? VolumeNames.backupName(info.volname().substring(info.volname().lastIndexOf('/') + 1)) : Optional.empty();
        // as Proxmox: a backup's ctime is the time in its name (local time), its subtype the guest type there
        Optional<Long> ctime = backup.map(b -> b.time().atZone(ZoneId.systemDefault()).toEpochSecond()).or(info::ctime);
        ctime.ifPresent(c -> entry.put("ctime", c));
        if (info.content() == ContentType.BACKUP) {
            // datastore snapshots (format pbs-vm, pbs-ct) carry the guest type in their format, as Proxmox's PBS volumes do
            entry.put("subtype", backup.map(VolumeNames.BackupName::subtype).orElseGet(() -> switch (info.format()) {
                case "pbs-vm" -> "qemu";
                case "pbs-ct" -> "lxc";
                default -> "unknown";
            }));
        }
        info.parent().ifPresent(p -> entry.put("parent", p));
        info.notes().ifPresent(n -> entry.put("notes", n));
        if (info.isProtected()) {
            entry.put("protected", 1);
        }
        return entry;
    }

    private Object create(ApiRequest r) {
        ApiSupport.requireLocalNode(storages.node(), r);
        String storage = r.string("storage");
        String name = r.string("filename");
        long size;
        try {
            size = Sizes.parseKiBDefault(r.string("size"));
        } catch (IllegalArgumentException e) {
            throw new ParameterError("size", e.getMessage());
        }
        Optional<VolumeFormat> format = r.optionalString("format").flatMap(VolumeFormat::byName);
        Matcher suffix = Pattern.compile(".*\\.(raw|qcow2|vmdk|subvol)").matcher(name);
        if (suffix.matches()) {
            VolumeFormat fromName = VolumeFormat.byName(suffix.group(1)).orElseThrow();
            if (format.isPresent() && format.get() != fromName) {
                throw new ParameterError("format", "different storage formats (" + format.get() + " != " + fromName + ")");
            }
            format = Optional.of(fromName);
        }
        return storages.alloc(storage, r.vmId("vmid"), format, Optional.of(name), size);
    }

    private String volid(ApiRequest r) {
        return ApiSupport.volumeId(r.string("storage"), r.string("volume"));
    }

    private Object info(ApiRequest r) {
        ApiSupport.requireLocalNode(storages.node(), r);
        String volid = volid(r);
        storages.checkVolumeAccess(r, volid);
        VolumeInfo info = storages.info(volid);
        VolumeLocation location = storages.path(volid);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("path", location.value());
        out.put("size", info.size());
        out.put("used", info.used().orElse(0L));
        out.put("format", info.format());
        info.notes().ifPresent(n -> out.put("notes", n));
        out.put("protected", info.isProtected() ? 1 : 0);
        return out;
    }

    private Object update(ApiRequest r) {
        ApiSupport.requireLocalNode(storages.node(), r);
        String volid = volid(r);
        storages.checkVolumeAccess(r, volid);
        Volume volume = storages.resolve(volid).volume();
        if (volume.content() == ContentType.BACKUP) {
            StorageService.checkAllocateSpace(r, r.string("storage"));
        }
        r.optionalString("notes").ifPresent(notes -> storages.setNotes(volid, notes));
        if (r.has("protected")) {
            storages.setProtected(volid, r.bool("protected"));
        }
        return null;
    }

    private Object delete(ApiRequest r) throws InterruptedException {
        ApiSupport.requireLocalNode(storages.node(), r);
        String storage = r.string("storage");
        String volid = volid(r);
        StorageService.ResolvedVolume resolved = storages.resolve(volid);
        Volume volume = resolved.volume();
        String storagePath = "/storage/" + storage;
        boolean allowed = volume.content() == ContentType.BACKUP && volume.vmid().isPresent()
                ? r.can(storagePath, Privilege.DATASTORE_ALLOCATE_SPACE) && r.can("/vms/" + volume.vmid().get(), Privilege.VM_BACKUP)
                        || r.can(storagePath, Privilege.DATASTORE_ALLOCATE)
                : r.can(storagePath, Privilege.DATASTORE_ALLOCATE);
        if (!allowed) {
            throw new PermissionDenied("Permission check failed (" + storagePath + ", Datastore.Allocate)");
        }
        // refused at once, not in the task: a protected volume is the caller's mistake
        VolumeInfo info = storages.info(volid);
        if (info.isProtected()) {
            throw new Conflict("volume '" + volid + "' is protected");
        }
        Upid upid = storages.tasks().start("imgdel", "", r.auth().authid(), ctx -> {
            ctx.log("removing volume '" + volid + "'");
            storages.free(volid);
            log.info("Deleted volume {} on request of {}", volid, r.auth().authid());
        });
        Optional<Integer> delay = r.optionalInt("delay");
        if (delay.isPresent()) {
            TaskStatus status = storages.tasks().awaitCompletion(upid, Duration.ofSeconds(delay.get()));
            if (status.status().equals(TaskStatus.STOPPED) && status.exitstatus().filter("OK"::equals).isPresent()) {
                return null;
            }
        }
        return upid.format();
    }
}
