package org.corral.backup.vzdump;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.corral.backup.datastore.DatastorePlugin;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.ApiException;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.storage.ContentType;
import org.corral.storage.StorageOptions;
import org.corral.storage.StorageService;
import org.corral.storage.VolumeNames;

/** {@code /nodes/{node}/vzdump}: back up guests, the node's defaults, and the config inside an archive. */
public final class VzdumpApi implements ApiModule {
    private static final Pattern EMAIL = Pattern.compile("[\\w+\\-~.]+@[A-Za-z0-9\\-]+(\\.[A-Za-z0-9\\-]+)*");
    private static final Pattern USERID = Pattern.compile("[^\\s:/]+@[A-Za-z][A-Za-z0-9.\\-_]+");
    private static final List<String> KEEP = List.of("keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly");

    private final Vzdump vzdump;
    private final Function<String, Optional<SortedSet<Integer>>> poolMembers;

    /** {@code poolMembers} answers the VMIDs of a pool, or empty when there is no such pool. */
    public VzdumpApi(Vzdump vzdump, Function<String, Optional<SortedSet<Integer>>> poolMembers) {
        this.vzdump = requireNonNull(vzdump, "vzdump is null");
        this.poolMembers = requireNonNull(poolMembers, "poolMembers is null");
    }

    private static Schema node() {
        return Schema.string().format(Formats.PVE_NODE).description("The cluster node name.");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(backup(), defaults(), extractConfig());
    }

    private ApiMethod backup() {
        return ApiMethod.post("/nodes/{node}/vzdump").name("vzdump")
                .description("Create backup.")
                .permission(Check.authenticated())
                .proxyToNode()
                .parameter("node", node())
                .parameter("vmid", Schema.string().format(Formats.PVE_VMID + "-list").optional()
                        .description("The ID of the guest system you want to backup."))
                .parameter("all", Schema.bool().defaultValue(false).optional().description("Backup all known guest systems on this host."))
                .parameter("exclude", Schema.string().format(Formats.PVE_VMID + "-list").optional()
                        .description("Exclude specified guest systems (assumes --all)"))
                .parameter("pool", Schema.string().optional().description("Backup all known guest systems included in the specified pool."))
                .parameter("mode", Schema.string().enumValues("snapshot", "suspend", "stop").defaultValue("snapshot").optional()
                        .description("Backup mode."))
                .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID).optional()
                        .description("Store resulting file to this storage."))
                .parameter("compress", Schema.string().enumValues("0", "1", "gzip", "lzo", "zstd").defaultValue("0").optional()
                        .description("Compress dump file."))
                .parameter("zstd", Schema.integer().minimum(0).defaultValue(1).optional()
                        .description("Zstd threads. N=0 uses half of the available cores, if N is set to a value bigger than 0, N is used as thread count."))
                .parameter("bwlimit", Schema.integer().minimum(0).defaultValue(0).optional().description("Limit I/O bandwidth (in KiB/s)."))
                .parameter("notes-template", Schema.string().maxLength(1024).optional()
                        .description("Template string for generating notes for the backup(s). It can contain variables which will be replaced "
                                + "by their values. Currently supported are {{cluster}}, {{guestname}}, {{node}}, and {{vmid}}. Needs to be a "
                                + "single line, newline and backslash need to be escaped as '\\n' and '\\\\' respectively."))
                .parameter("protected", Schema.bool().optional()
                        .description("If true, mark backup(s) as protected."))
                .parameter("prune-backups", StorageOptions.all().get("prune-backups")
                        .description("Use these retention options instead of those from the storage configuration."))
                .parameter("remove", Schema.bool().defaultValue(true).optional()
                        .description("Prune older backups according to 'prune-backups'."))
                .parameter("mailto", Schema.string().maxLength(4096).optional()
                        .description("Comma-separated list of email addresses or users that should receive email notifications."))
                .parameter("mailnotification", Schema.string().enumValues("always", "failure").defaultValue("always").optional()
                        .description("Specify when to send a notification mail"))
                .parameter("notification-mode", Schema.string().enumValues("auto", "legacy-sendmail", "notification-system")
                        .defaultValue("auto").optional().description("Determine which notification system to use."))
                .parameter("stdexcludes", Schema.bool().defaultValue(true).optional().description("Exclude temporary files and logs."))
                .parameter("stopwait", Schema.integer().minimum(0).defaultValue(10).optional()
                        .description("Maximal time to wait until a guest system is stopped (minutes)."))
                .parameter("ionice", Schema.integer().minimum(0).maximum(8).defaultValue(7).optional()
                        .description("Set IO priority when using the BFQ scheduler."))
                .parameter("lockwait", Schema.integer().minimum(0).defaultValue(180).optional()
                        .description("Maximal time to wait for the global lock (minutes)."))
                .parameter("quiet", Schema.bool().defaultValue(false).optional().description("Be quiet."))
                .returns(Schema.string().format(Formats.UPID))
                .handler(this::start);
    }

    private Object start(ApiRequest r) {
        vzdump.node().requireLocal(r.string("node"));
        Map<String, String> errors = new LinkedHashMap<>();
        Map<String, String> settings = new TreeMap<>();
        for (String key : r.params().keySet()) {
            if (!key.equals("node") && r.has(key)) {
                settings.put(key, String.valueOf(r.params().get(key)));
            }
        }
        boolean all = r.bool("all");
        Optional<String> vmidList = r.optionalString("vmid");
        Optional<String> exclude = r.optionalString("exclude");
        Optional<String> pool = r.optionalString("pool");
        if (all && vmidList.isPresent()) {
            errors.put("all", "option conflicts with option 'vmid'");
        }
        if (exclude.isPresent() && vmidList.isPresent()) {
            errors.put("exclude", "option conflicts with option 'vmid'");
        }
        if (pool.isPresent() && vmidList.isPresent()) {
            errors.put("pool", "option conflicts with option 'vmid'");
        }
        if (!all && pool.isEmpty() && exclude.isEmpty() && vmidList.isEmpty()) {
            errors.put("vmid", "property is missing and it is not optional");
        }
        String storageId = r.optionalString("storage").orElse("local");
        for (String needsStorage : List.of("notes-template", "protected")) {
            if (r.has(needsStorage) && !r.has("storage")) {
                errors.put(needsStorage, "missing property - '" + needsStorage + "' requires another property 'storage'");
            }
        }
        Optional<String> notes = r.optionalString("notes-template");
        if (notes.isPresent() && notes.get().contains("\n")) {
            errors.put("notes-template", "value must not contain a line break (escape it as '\\n')");
        }
        r.optionalString("mailto").ifPresent(m -> {
            for (String item : Formats.splitList(m)) {
                if (!EMAIL.matcher(item).matches() && !USERID.matcher(item).matches()) {
                    errors.put("mailto", "value '" + item + "' does not look like a valid email address or user name");
                }
            }
        });
        Map<String, Integer> retention = new TreeMap<>();
        Optional<String> prune = r.optionalString("prune-backups");
        try {
            checkBackupStorage(storageId);
            if (prune.isEmpty()) {
                prune = vzdump.storage().storage(storageId).option("prune-backups");
            }
        } catch (ApiException e) {
            errors.put("storage", vzdump.storage().config().get(storageId).isEmpty() ? "storage '" + storageId + "' does not exist"
                    : "can't use storage '" + storageId + "' for backups - " + e.getMessage());
        }
        if (prune.isPresent()) {
            try {
                retention = retention(prune.get());
            } catch (IllegalArgumentException e) {
                errors.put("prune-backups", e.getMessage());
            }
        }
        List<Integer> vmids = new ArrayList<>();
        if (errors.isEmpty()) {
            vmids = select(all, vmidList, exclude, pool, errors);
        }
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        for (int vmid : vmids) {
            if (!r.can("/vms/" + vmid, Privilege.VM_BACKUP)) {
                throw new PermissionDenied("Permission check failed (/vms/" + vmid + ", VM.Backup)");
            }
        }
        String storagePath = "/storage/" + storageId;
        if (!r.can(storagePath, Privilege.DATASTORE_ALLOCATE_SPACE)) {
            throw new PermissionDenied("Permission check failed (" + storagePath + ", Datastore.AllocateSpace)");
        }
        if (r.has("prune-backups") && !r.can(storagePath, Privilege.DATASTORE_ALLOCATE)) {
            throw new PermissionDenied("Permission check failed (" + storagePath + ", Datastore.Allocate)");
        }
        if (r.has("bwlimit") && !r.can("/", Privilege.SYS_MODIFY)) {
            throw new PermissionDenied("Permission check failed (/, Sys.Modify)");
        }
        VzdumpJob job = new VzdumpJob(vmids, VzdumpJob.Mode.valueOf(r.optionalString("mode").orElse("snapshot").toUpperCase(java.util.Locale.ROOT)),
                storageId, Compression.parse(r.optionalString("compress").orElse("0")), r.optionalInt("zstd").orElse(1),
                r.optionalLong("bwlimit").orElse(0L), notes, r.bool("protected"), retention,
                !r.has("remove") || r.bool("remove"), !r.has("stdexcludes") || r.bool("stdexcludes"),
                r.optionalLong("stopwait").orElse(10L), r.optionalInt("ionice").orElse(7), settings);
        return vzdump.start(job, r.auth().userid());
    }

    /**
     * Refuses a storage that can't take backups; answers whether it is a datastore (which keeps them as snapshots, not
     * in a dump directory).
     */
    private boolean checkBackupStorage(String storageId) {
        if (vzdump.storage().config().get(storageId).filter(c -> c.type().equals(DatastorePlugin.TYPE)).isPresent()) {
            vzdump.storage().usable(storageId);
            return true;
        }
        vzdump.storage().contentDirectory(storageId, ContentType.BACKUP);
        return false;
    }

    /** The guests a call selects, in order; unknown ones are named in {@code errors}. */
    private List<Integer> select(boolean all, Optional<String> vmidList, Optional<String> exclude, Optional<String> pool,
            Map<String, String> errors) {
        Set<Integer> out = new LinkedHashSet<>();
        if (vmidList.isPresent()) {
            for (String item : Formats.splitList(vmidList.get())) {
                int vmid = Integer.parseInt(item);
                if (vzdump.driverOf(vmid).isEmpty()) {
                    errors.put("vmid", "guest " + vmid + " does not exist on node '" + vzdump.node().name() + "'");
                    return List.of();
                }
                out.add(vmid);
            }
        } else if (pool.isPresent()) {
            SortedSet<Integer> members = poolMembers.apply(pool.get()).orElse(null);
            if (members == null) {
                errors.put("pool", "pool '" + pool.get() + "' does not exist");
                return List.of();
            }
            // a pool's guests on other nodes are backed up there
            members.stream().filter(v -> vzdump.driverOf(v).isPresent()).forEach(out::add);
        } else {
            out.addAll(vzdump.allGuests());
        }
        exclude.ifPresent(e -> Formats.splitList(e).forEach(item -> out.remove(Integer.parseInt(item))));
        return out.stream().sorted().toList();
    }

    /** The keep options of a {@code prune-backups} value; empty for keep-all. */
    static Map<String, Integer> retention(String value) {
        Map<String, Integer> out = new TreeMap<>();
        boolean keepAll = false;
        for (String part : value.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String[] kv = part.split("=", 2);
            String key = kv[0].strip();
            String v = kv.length == 2 ? kv[1].strip() : "";
            if (key.equals("keep-all")) {
                keepAll = v.equals("1");
            } else if (KEEP.contains(key)) {
                try {
                    int n = Integer.parseInt(v);
                    if (n < 0) {
                        throw new NumberFormatException();
                    }
                    if (n > 0) {
                        out.put(key, n);
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("invalid value '" + v + "' for '" + key + "'");
                }
            } else {
                throw new IllegalArgumentException("unknown retention option '" + key + "'");
            }
        }
        if (keepAll && !out.isEmpty()) {
            throw new IllegalArgumentException("keep-all cannot be set together with other options.");
        }
        return out;
    }

    private ApiMethod defaults() {
        return ApiMethod.get("/nodes/{node}/vzdump/defaults").name("defaults")
                .description("Get the currently configured vzdump defaults.")
                .permission(Check.authenticated())
                .proxyToNode()
                .parameter("node", node())
                .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID).optional().description("The storage identifier."))
                .returns(Schema.object())
                .handler(this::defaultsOf);
    }

    private Object defaultsOf(ApiRequest r) {
        vzdump.node().requireLocal(r.string("node"));
        Map<String, Object> out = new TreeMap<>();
        out.put("all", 0);
        out.put("bwlimit", 0);
        out.put("compress", "0");
        out.put("ionice", 7);
        out.put("lockwait", 180);
        out.put("mailnotification", "always");
        out.put("mode", "snapshot");
        out.put("notification-mode", "auto");
        out.put("pigz", 0);
        out.put("prune-backups", "keep-all=1");
        out.put("quiet", 0);
        out.put("remove", 1);
        out.put("stdexcludes", 1);
        out.put("stop", 0);
        out.put("stopwait", 10);
        out.put("zstd", 1);
        String storageId = r.optionalString("storage").orElse("local");
        out.put("storage", storageId);
        String path = "/storage/" + storageId;
        if (!r.canAny(path, Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE)) {
            throw new PermissionDenied("Permission check failed (" + path + ", Datastore.Audit|Datastore.AllocateSpace)");
        }
        try {
            if (!checkBackupStorage(storageId)) {
                out.put("dumpdir", vzdump.storage().contentDirectory(storageId, ContentType.BACKUP).toString());
            }
        } catch (ApiException e) {
            throw new ParameterError("storage", "can't use storage '" + storageId + "' for backups - " + e.getMessage());
        }
        vzdump.storage().storage(storageId).option("prune-backups").ifPresent(p -> out.put("prune-backups", p));
        if (!r.can("/nodes/" + vzdump.node().name(), Privilege.SYS_AUDIT)) {
            // as Proxmox: normal backup users don't see where files go or the I/O priority
            out.remove("dumpdir");
            out.remove("ionice");
        }
        return out;
    }

    private ApiMethod extractConfig() {
        return ApiMethod.get("/nodes/{node}/vzdump/extractconfig").name("extractconfig")
                .description("Extract configuration from vzdump backup archive.")
                .permission(Check.authenticated())
                .proxyToNode()
                .parameter("node", node())
                .parameter("volume", Schema.string().maxLength(4096).description("Volume identifier"))
                .returns(Schema.string())
                .handler(this::extract);
    }

    private Object extract(ApiRequest r) {
        vzdump.node().requireLocal(r.string("node"));
        String volid = r.string("volume");
        StorageService.ResolvedVolume resolved;
        try {
            resolved = vzdump.storage().resolve(volid);
        } catch (IllegalArgumentException e) {
            throw new ParameterError("volume", e.getMessage());
        }
        if (resolved.volume().content() != ContentType.BACKUP) {
            throw new ParameterError("volume", "'" + volid + "' is not a backup archive");
        }
        String name = resolved.volume().name();
        Optional<VolumeNames.BackupName> info = VolumeNames.backupName(name);
        resolved.volume().vmid().ifPresent(vmid -> {
            if (!r.can("/vms/" + vmid, Privilege.VM_BACKUP)) {
                throw new PermissionDenied("Permission check failed (/vms/" + vmid + ", VM.Backup)");
            }
        });
        String path = "/storage/" + resolved.id().storage();
        if (!r.can(path, Privilege.DATASTORE_ALLOCATE_SPACE)) {
            throw new PermissionDenied("Permission check failed (" + path + ", Datastore.AllocateSpace)");
        }
        String subtype;
        if (resolved.plugin().type().equals(DatastorePlugin.TYPE)) {
            // a datastore snapshot keeps the config as a blob beside its archives
            subtype = DatastorePlugin.subtype(DatastorePlugin.snapshot(resolved.volume().volname()));
        } else if (info.isEmpty() || info.get().subtype().equals("openvz") || !name.contains(".tar")) {
            throw new ParameterError("volume", "'" + name + "' is not a vzdump archive Corral can read (vzdump-lxc-... or vzdump-qemu-....tar)");
        } else {
            subtype = info.get().subtype();
        }
        try {
            return vzdump.extractConfig(volid, subtype);
        } catch (IOException | IllegalArgumentException e) {
            throw new ParameterError("volume", e.getMessage());
        }
    }
}
