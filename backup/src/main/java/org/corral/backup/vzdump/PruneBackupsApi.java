package org.corral.backup.vzdump;

import static java.util.Objects.requireNonNull;

import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.corral.backup.datastore.DatastorePlugin;
import org.corral.backup.datastore.Prune;
import org.corral.backup.datastore.SnapshotId;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.storage.ContentType;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageOptions;
import org.corral.storage.StorageService;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /nodes/{node}/storage/{storage}/prunebackups}: GET shows what {@link Prune}'s rules would keep and remove,
 * DELETE removes it in a {@code prunebackups} task. Works on every storage with backup content: vzdump archives
 * (grouped by guest type and VMID from their names; other names are {@code renamed} and never removed) and
 * datastore snapshots. The retention is the call's {@code prune-backups}, else the storage's, else keep-all.
 */
public final class PruneBackupsApi implements ApiModule {
    private static final Logger log = LoggerFactory.getLogger(PruneBackupsApi.class);
    private static final String PATH = "/nodes/{node}/storage/{storage}/prunebackups";

    private final StorageService storage;

    public PruneBackupsApi(StorageService storage) {
        this.storage = requireNonNull(storage, "storage is null");
    }

    /** One backup with its mark, as the API answers it. */
    record Marked(String volid, long ctime, String mark, String type, Optional<Integer> vmid) {
        Map<String, Object> json() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("volid", volid);
            out.put("ctime", ctime);
            out.put("mark", mark);
            out.put("type", type);
            vmid.ifPresent(v -> out.put("vmid", v));
            return out;
        }
    }

    private static ApiMethod common(ApiMethod method) {
        return method.proxyToNode()
                .parameter("node", Schema.string().format(Formats.PVE_NODE).description("The cluster node name."))
                .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID).description("The storage identifier."))
                .parameter("prune-backups", StorageOptions.all().get("prune-backups")
                        .description("Use these retention options instead of those from the storage configuration."))
                .parameter("type", Schema.string().enumValues("qemu", "lxc").optional()
                        .description("Either 'qemu' or 'lxc'. Only consider backups for guests of this type."));
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                common(ApiMethod.get(PATH).name("dryrun"))
                        .description("Get prune information for backups. NOTE: this is only a preview and might not be what a subsequent "
                                + "prune call does if backups are removed/added in the meantime.")
                        .permission(Check.pathAny("/storage/{storage}", Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE))
                        .parameter("vmid", Schema.integer().format(Formats.PVE_VMID).optional().description("Only consider backups for this guest."))
                        .returns(Schema.array(Schema.object()
                                .property("volid", Schema.string().description("Backup volume ID."))
                                .property("ctime", Schema.integer().description("Creation time of the backup (seconds since the UNIX epoch)."))
                                .property("mark", Schema.string().enumValues("keep", "remove", "protected", "renamed")
                                        .description("Whether the backup would be kept or removed. Backups that are protected or don't use "
                                                + "the standard naming scheme are not removed."))
                                .property("type", Schema.string().description("One of 'qemu', 'lxc', 'openvz' or 'unknown'."))
                                .property("vmid", Schema.integer().optional().description("The VM the backup belongs to."))))
                        .handler(this::dryRun),
                common(ApiMethod.delete(PATH).name("delete"))
                        .description("Prune backups. Only those using the standard naming scheme are considered.")
                        // checked in the handler: Datastore.Allocate, or with a vmid Datastore.AllocateSpace plus VM.Backup
                        .permission(Check.authenticated())
                        .parameter("vmid", Schema.integer().format(Formats.PVE_VMID).optional().description("Only prune backups for this VM."))
                        .returns(Schema.string().format(Formats.UPID))
                        .handler(this::prune));
    }

    private Object dryRun(ApiRequest r) {
        storage.node().requireLocal(r.string("node"));
        return plan(r).stream().map(Marked::json).toList();
    }

    private Object prune(ApiRequest r) {
        storage.node().requireLocal(r.string("node"));
        String storageId = r.string("storage");
        String storagePath = "/storage/" + storageId;
        Optional<Integer> vmid = r.optionalInt("vmid");
        boolean allowed = r.can(storagePath, Privilege.DATASTORE_ALLOCATE)
                || vmid.isPresent() && r.can(storagePath, Privilege.DATASTORE_ALLOCATE_SPACE) && r.can("/vms/" + vmid.get(), Privilege.VM_BACKUP);
        if (!allowed) {
            throw new PermissionDenied("Permission check failed (" + storagePath + ", Datastore.Allocate)");
        }
        // the plan is made, and bad input refused, before the task starts
        List<Marked> plan = plan(r);
        String id = vmid.map(v -> v + "@").orElse("") + storageId;
        return storage.tasks().start("prunebackups", id, r.auth().authid(), ctx -> {
            int removed = 0;
            for (Marked m : plan) {
                if (!m.mark().equals("remove")) {
                    continue;
                }
                ctx.checkStopped();
                ctx.log("removing backup '" + m.volid() + "'");
                storage.free(m.volid());
                removed++;
            }
            ctx.log("pruned " + removed + " backup(s)");
            log.info("Pruned {} backup(s) on storage {}", removed, storageId);
        }).format();
    }

    /** Every backup of the storage (of {@code type} and {@code vmid} if given) with its mark, grouped by guest, newest first. */
    List<Marked> plan(ApiRequest r) {
        String storageId = r.string("storage");
        Optional<String> type = r.optionalString("type");
        Optional<Integer> vmid = r.optionalInt("vmid");
        StorageConfig config = storage.storage(storageId);
        if (!config.content(storage.plugin(config).capabilities()).contains(ContentType.BACKUP)) {
            throw new ParameterError("storage", "storage '" + storageId + "' does not hold backups (content 'backup' is not enabled)");
        }
        Map<String, Integer> retention;
        try {
            retention = VzdumpApi.retention(r.optionalString("prune-backups").or(() -> config.option("prune-backups")).orElse(""));
        } catch (IllegalArgumentException e) {
            throw new ParameterError("prune-backups", e.getMessage());
        }
        Prune.Options keep = new Prune.Options(retention.get("keep-last"), retention.get("keep-hourly"), retention.get("keep-daily"),
                retention.get("keep-weekly"), retention.get("keep-monthly"), retention.get("keep-yearly"));
        ZoneId zone = storage.clock().getZone();
        Map<String, List<Prune.Candidate>> groups = new TreeMap<>();
        Map<Prune.Candidate, VolumeInfo> volumes = new IdentityHashMap<>();
        List<Marked> out = new ArrayList<>();
        for (VolumeInfo info : storage.list(storageId, vmid, Optional.of(ContentType.BACKUP))) {
            String volid = storageId + ":" + info.volname();
            Optional<SnapshotId> snapshot = snapshotOf(info, zone);
            String subtype = snapshot.map(DatastorePlugin::subtype).orElse("unknown");
            if (type.isPresent() && !type.get().equals(subtype)) {
                continue;
            }
            if (snapshot.isEmpty()) {
                out.add(new Marked(volid, info.ctime().orElse(0L), "renamed", subtype, info.vmid()));
                continue;
            }
            Prune.Candidate candidate = new Prune.Candidate(snapshot.get(), true, info.isProtected());
            volumes.put(candidate, info);
            groups.computeIfAbsent(snapshot.get().group(), g -> new ArrayList<>()).add(candidate);
        }
        for (List<Prune.Candidate> group : groups.values()) {
            for (Prune.Decision d : Prune.compute(group, keep, zone)) {
                VolumeInfo info = volumes.get(d.snapshot());
                String mark = switch (d.mark()) {
                    case KEEP, KEEP_PARTIAL -> "keep";
                    case PROTECTED -> "protected";
                    case REMOVE -> "remove";
                };
                SnapshotId id = d.snapshot().id();
                out.add(new Marked(storageId + ":" + info.volname(), id.time().getEpochSecond(), mark, DatastorePlugin.subtype(id),
                        Optional.of(Integer.parseInt(id.id()))));
            }
        }
        out.sort(Comparator.comparing((Marked m) -> m.vmid().orElse(0)).thenComparing(Marked::type)
                .thenComparing(Comparator.comparingLong(Marked::ctime).reversed()));
        return out;
    }

    /** The snapshot a backup volume stands for: a datastore snapshot, or a vzdump archive by its name (local time). */
    private static Optional<SnapshotId> snapshotOf(VolumeInfo info, ZoneId zone) {
        if (info.format().startsWith("pbs-")) {
            try {
                return Optional.of(DatastorePlugin.snapshot(info.volname()));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
        String name = info.volname().substring(info.volname().lastIndexOf('/') + 1);
        return VolumeNames.backupName(name).filter(b -> info.vmid().isPresent()).flatMap(b -> switch (b.subtype()) {
            case "qemu" -> Optional.of(new SnapshotId("vm", Integer.toString(info.vmid().get()), b.time().atZone(zone).toInstant()));
            case "lxc" -> Optional.of(new SnapshotId("ct", Integer.toString(info.vmid().get()), b.time().atZone(zone).toInstant()));
            default -> Optional.<SnapshotId>empty();
        });
    }
}
