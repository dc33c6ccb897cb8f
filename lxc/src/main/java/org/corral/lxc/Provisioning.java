package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiRequest;
import org.corral.core.config.Digest;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskContext;
import org.corral.lxc.config.CtConfig;
import org.corral.lxc.config.CtConfigCodec;
import org.corral.lxc.config.CtOptions;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.config.DiskSize;
import org.corral.lxc.config.MountPoint;
import org.corral.lxc.config.NetConfig;
import org.corral.lxc.template.GuestSetup;
import org.corral.lxc.template.OsDetector;
import org.corral.lxc.template.RootfsFiles;
import org.corral.lxc.template.TemplateArchive;

/**
 * Creating, restoring, cloning, templating, resizing, moving and destroying containers. Each is
 * all-or-nothing: every volume it allocates and the config it writes are undone when a later
 * step fails, so a failed create leaves no volume and no config.
 */
public final class Provisioning {
    private static final long GIB = 1024L * 1024 * 1024;
    private static final Duration EXTRACT_TIMEOUT = Duration.ofHours(2);
    private static final String DEFAULT_ROOTFS_GIB = "4";

    private final LxcService service;

    Provisioning(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    private CtConfigs configs() {
        return service.configs();
    }

    private ContainerStorage storage() {
        return service.storage();
    }

    /** The config options among a call's parameters, as config text. */
    public static Map<String, String> options(ApiRequest request) {
        Map<String, String> out = new TreeMap<>();
        request.params().forEach((k, v) -> {
            if (CtOptions.all().containsKey(k)) {
                out.put(k, text(v));
            }
        });
        return out;
    }

    static String text(Object value) {
        if (value instanceof Boolean b) {
            return b ? "1" : "0";
        }
        if (value instanceof Double d) {
            BigDecimal decimal = BigDecimal.valueOf(d).stripTrailingZeros();
            return decimal.scale() < 0 ? decimal.setScale(0).toPlainString() : decimal.toPlainString();
        }
        return String.valueOf(value);
    }

    /** Checks what schemas can't; throws one ParameterError naming every bad option. */
    static void validate(Map<String, String> options) {
        Map<String, String> errors = new LinkedHashMap<>();
        options.forEach((k, v) -> CtOptions.check(k, v).ifPresent(msg -> errors.put(k, msg)));
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
    }

    /** Adds what Proxmox adds to a network interface: a MAC address and {@code type=veth}. */
    String normalizeNet(String key, String value, Optional<String> old) {
        NetConfig net = NetConfig.parse(key, value);
        if (net.hwaddr().isEmpty()) {
            String mac = old.map(o -> NetConfig.parse(key, o).hwaddr().orElse(null)).orElseGet(service::randomMac);
            net = net.with("hwaddr", mac);
        }
        if (net.get("type").isEmpty()) {
            net = net.with("type", "veth");
        }
        return net.format();
    }

    private void checkStorageAccess(ApiRequest request, String volid) {
        String sid = storage().storageOf(volid);
        String path = "/storage/" + sid;
        if (!request.can(path, Privilege.DATASTORE_ALLOCATE)
                && !request.canAny(path, Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE)) {
            throw new PermissionDenied("Permission check failed (" + path + ", Datastore.Audit|Datastore.AllocateSpace)");
        }
    }

    // ---- create

    /** {@code POST /nodes/{node}/lxc}: checks everything it can at once, then creates in a {@code vzcreate} task. */
    public String create(ApiRequest request) {
        int vmid = request.vmId("vmid");
        String user = request.auth().userid();
        boolean restore = request.bool("restore");
        Optional<String> pool = request.optionalString("pool");
        Map<String, String> options = options(request);
        boolean unprivileged = options.containsKey("unprivileged") ? options.get("unprivileged").equals("1") : true;
        options.remove("unprivileged");
        options.remove("lock");
        options.keySet().removeIf(CtOptions::isUnused);
        if (!unprivileged) {
            CtPermissions.need(request, "/", Privilege.SYS_MODIFY);
        }
        if (!request.can("/vms/" + vmid, Privilege.VM_ALLOCATE)
                && !(pool.isPresent() && request.can("/pool/" + pool.get(), Privilege.VM_ALLOCATE))) {
            throw new PermissionDenied("Permission check failed (/vms/" + vmid + ", VM.Allocate)");
        }
        String ostemplate = request.string("ostemplate");
        String defaultStorage = request.optionalString("storage").orElse("local");
        // a bare size means a new volume of that many GiB on the default storage
        options.replaceAll((k, v) -> CtOptions.isMountPoint(k) && v.matches("\\d+(\\.\\d+)?(,.*)?") ? defaultStorage + ":" + v : v);
        CtPermissions.checkModify(request, vmid, pool, Map.of(), options, List.of(), unprivileged);
        checkStorageAccess(request, ostemplate);
        validate(options);
        if (!options.containsKey("rootfs") && options.keySet().stream().anyMatch(CtOptions::isMountPoint)) {
            throw new ParameterError("rootfs", "mount points configured, but 'rootfs' not set - aborting");
        }
        List<String> storages = new ArrayList<>();
        if (!options.containsKey("rootfs")) {
            storages.add(defaultStorage);
        }
        for (String key : options.keySet().stream().filter(CtOptions::isMountPoint).toList()) {
            MountPoint mp = MountPoint.parse(key, options.get(key));
            if (mp.type() != MountPoint.Type.VOLUME) {
                if (!request.auth().isRoot()) {
                    throw new PermissionDenied("Only root can pass arbitrary filesystem paths.");
                }
                if (key.equals("rootfs")) {
                    throw new ParameterError("rootfs", "the root file system must be a storage volume");
                }
                continue;
            }
            String sid = storage().storageOf(mp.volume());
            if (!storages.contains(sid)) {
                storages.add(sid);
            }
            if (!CtPermissions.isNewDisk(mp.volume())) {
                Optional<Integer> owner = storage().owner(mp.volume());
                if (owner.isEmpty() || owner.get() != vmid) {
                    throw new ParameterError(key, "volume '" + mp.volume() + "' does not belong to CT " + vmid);
                }
            }
        }
        for (String sid : storages) {
            try {
                storage().checkRootdir(sid);
            } catch (ApiException e) {
                throw new ParameterError("storage", e.getMessage());
            }
            CtPermissions.need(request, "/storage/" + sid, Privilege.DATASTORE_ALLOCATE_SPACE);
        }
        Path archive;
        boolean streamed = false;
        try {
            archive = storage().archive(ostemplate);
            if (restore) {
                // a datastore backup is proven readable now (manifest, index) and read as a stream by the task
                Optional<InputStream> stream = service.backupStreams().open(ostemplate);
                if (stream.isPresent()) {
                    stream.get().close();
                    streamed = true;
                }
            }
            if (!streamed) {
                TemplateArchive.check(archive);
            }
        } catch (ApiException | IllegalArgumentException e) {
            throw new ParameterError("ostemplate", e.getMessage());
        } catch (IOException e) {
            throw new ParameterError("ostemplate", "unable to read '" + ostemplate + "': " + e.getMessage());
        }
        Optional<String> streamVolid = streamed ? Optional.of(ostemplate) : Optional.empty();
        // restore with force replaces this node's container of the VMID once the new one is complete
        Optional<CtConfig> replaced = restore && request.bool("force") ? configs().find(vmid).map(CtConfigs.Loaded::config) : Optional.empty();
        if (replaced.isPresent()) {
            CtConfigs.checkLock(replaced.get());
            if (service.driver().isRunning(vmid)) {
                throw new Conflict("can't overwrite running container");
            }
            if (replaced.get().main().getBool("protection", false)) {
                throw new Conflict("unable to restore CT " + vmid + " - protection mode enabled");
            }
        } else {
            configs().checkUnused(vmid);
        }
        options.replaceAll((k, v) -> CtOptions.isNet(k) ? normalizeNet(k, v, Optional.empty()) : v);
        Optional<List<CtSection.RawKey>> raw = ConfigEditor.rawKeys(request);
        if (raw.isPresent() && !request.auth().isRoot()) {
            throw new PermissionDenied("raw lxc.* keys may only be set by root@pam");
        }
        Map<String, String> initial = new TreeMap<>();
        options.forEach((k, v) -> {
            if (!CtOptions.isMountPoint(k)) {
                initial.put(k, v);
            }
        });
        initial.put("lock", "create");
        if (unprivileged) {
            initial.put("unprivileged", "1");
        }
        String description = initial.remove("description");
        CtSection first = new CtSection(description == null ? "" : description.endsWith("\n") ? description : description + "\n",
                new TreeMap<>(initial), raw.orElse(List.of()));
        if (replaced.isPresent()) {
            CtConfig old = replaced.get();
            configs().update(vmid, Optional.empty(), c -> {
                if (!c.equals(old)) {
                    throw new Conflict("CT " + vmid + " changed while the restore was prepared");
                }
                return CtConfig.of(first);
            });
        } else {
            configs().create(vmid, CtConfig.of(first));
        }
        Runnable undoConfig = replaced.isPresent() ? () -> configs().update(vmid, Optional.empty(), c -> replaced.get())
                : () -> configs().delete(vmid);
        GuestSetup.Secrets secrets = new GuestSetup.Secrets(request.optionalString("password"),
                request.optionalString("ssh-public-keys"));
        Map<String, String> disks = new TreeMap<>();
        options.forEach((k, v) -> {
            if (CtOptions.isMountPoint(k)) {
                disks.put(k, v);
            }
        });
        disks.putIfAbsent("rootfs", defaultStorage + ":" + DEFAULT_ROOTFS_GIB);
        boolean start = request.bool("start");
        boolean ignoreUnpackErrors = request.bool("ignore-unpack-errors");
        try {
            return service.task(restore ? "vzrestore" : "vzcreate", vmid, user, ctx -> {
                configs().locked(vmid, () -> {
                    provision(ctx, vmid, archive, streamVolid, restore, unprivileged, disks, secrets, ignoreUnpackErrors, undoConfig);
                    replaced.ifPresent(old -> freeReplaced(ctx, vmid, old));
                    return null;
                });
                if (start) {
                    service.power().startNow(vmid, false, ctx::log);
                }
            });
        } catch (RuntimeException e) {
            undoConfig.run();
            throw e;
        }
    }

    /** Frees the volumes of the container a forced restore replaced that the new one does not use. */
    private void freeReplaced(TaskContext ctx, int vmid, CtConfig old) {
        List<String> kept = Power.volumes(configs().load(vmid).config().main());
        List<String> volumes = new ArrayList<>(Power.volumes(old.main()));
        old.snapshots().values().forEach(snap -> Power.volumes(snap).stream().filter(v -> !volumes.contains(v)).forEach(volumes::add));
        for (String volid : volumes) {
            if (kept.contains(volid) || storage().owner(volid).filter(o -> o == vmid).isEmpty()) {
                continue;
            }
            try {
                storage().free(volid);
                ctx.log("freed %s of the replaced container", volid);
            } catch (RuntimeException e) {
                ctx.warn("could not free %s of the replaced container: %s", volid, e.getMessage());
            }
        }
    }

    /** Creates the container from {@code archive}, or with {@code streamed} from that backup's tar stream (a datastore's). */
    private void provision(TaskContext ctx, int vmid, Path archive, Optional<String> streamed, boolean restore, boolean unprivileged,
            Map<String, String> disks, GuestSetup.Secrets secrets, boolean ignoreUnpackErrors, Runnable undoConfig) {
        String prefix = "unable to " + (restore ? "restore" : "create") + " CT " + vmid + " - ";
        try (Revert revert = new Revert()) {
            revert.add(undoConfig::run);
            Map<String, String> volumes = new TreeMap<>();
            try {
                for (Map.Entry<String, String> e : disks.entrySet()) {
                    String value = allocateIfNew(ctx::log, vmid, e.getKey(), e.getValue(), unprivileged, revert);
                    volumes.put(e.getKey(), value);
                }
                Path rootfs = storage().path(MountPoint.parse("rootfs", volumes.get("rootfs")).volume());
                if (unprivileged && service.driver().prepareUnprivileged()) {
                    ctx.log("added root:%d:%d to /etc/subuid and /etc/subgid", LxcConfigWriter.ID_MAP_BASE, LxcConfigWriter.ID_MAP_SIZE);
                }
                ctx.log("extracting archive '%s'", streamed.orElse(archive.toString()));
                // the namespace's root writes through a path it can reach, also for a storage below a private directory
                Path target = unprivileged ? service.driver().reachable(vmid, "rootfs", rootfs) : rootfs;
                try {
                    extract(archive, streamed, target, unprivileged, ignoreUnpackErrors)
                            .ifPresent(error -> ctx.warn("ignored unpack errors: %s", error));
                } finally {
                    if (!target.equals(rootfs)) {
                        service.driver().releaseMounts(vmid);
                    }
                }
                int rootId = unprivileged ? (int) LxcConfigWriter.ID_MAP_BASE : 0;
                RootfsFiles files = new RootfsFiles(rootfs, rootId, rootId);
                CtConfig current = configs().load(vmid).config();
                Map<String, String> options = new TreeMap<>(current.main().options());
                String description = current.main().description();
                if (restore) {
                    CtSection recovered = recoverConfig(files);
                    ctx.log("recovered the backed-up configuration");
                    for (Map.Entry<String, String> e : recovered.options().entrySet()) {
                        String k = e.getKey();
                        if (!CtOptions.isMountPoint(k) && !CtOptions.isUnused(k) && !k.equals("lock") && !k.equals("parent")
                                && !options.containsKey(k)) {
                            options.put(k, e.getValue());
                        }
                    }
                    if (description.isEmpty()) {
                        description = recovered.description();
                    }
                    ProcessRunner.of("rm", "-rf", "--one-file-system", files.resolve("/etc/vzdump").toString())
                            .timeout(Duration.ofMinutes(1)).run();
                }
                options.putAll(volumes);
                String ostype = options.containsKey("ostype") ? options.get("ostype") : OsDetector.detect(files);
                options.put("ostype", ostype);
                options.putIfAbsent("hostname", "CT" + vmid);
                options.putIfAbsent("memory", "512");
                options.putIfAbsent("swap", "512");
                options.putIfAbsent("arch", "amd64");
                options.remove("lock");
                CtSection finalSection = new CtSection(description, new TreeMap<>(options), current.main().lxc());
                new GuestSetup(files, service.clock(), service.random()).apply(ostype, finalSection, secrets, service.hostDns());
                ctx.log("ostype: %s", ostype);
                configs().update(vmid, Optional.empty(), c -> c.withMain(finalSection));
                revert.success();
            } catch (IOException e) {
                throw new IllegalStateException(prefix + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new IllegalStateException(prefix + e.getMessage(), e);
            }
        }
    }

    private Optional<String> extract(Path archive, Optional<String> streamed, Path target, boolean unprivileged, boolean ignoreErrors)
            throws IOException {
        if (streamed.isEmpty()) {
            return TemplateArchive.extract(archive, target, unprivileged, EXTRACT_TIMEOUT, ignoreErrors);
        }
        try (InputStream tar = service.backupStreams().open(streamed.get())
                .orElseThrow(() -> new IOException("backup '" + streamed.get() + "' can no longer be read as a stream"))) {
            return TemplateArchive.extract(tar, streamed.get(), target, unprivileged, EXTRACT_TIMEOUT, ignoreErrors);
        }
    }

    /** The config a vzdump archive carries in {@code /etc/vzdump/pct.conf}. */
    private static CtSection recoverConfig(RootfsFiles files) throws IOException {
        return CtConfigCodec.parse(files.read("/etc/vzdump/pct.conf")
                .orElseThrow(() -> new IOException("archive has no /etc/vzdump/pct.conf: not a container backup"))).main();
    }

    /**
     * Allocates a {@code STORAGE:SIZE_GB} mount point and answers its config value with the new
     * volume id and size; other values are answered as they are.
     */
    String allocateIfNew(Consumer<String> log, int vmid, String key, String value, boolean unprivileged, Revert revert)
            throws IOException {
        MountPoint mp = MountPoint.parse(key, value);
        if (mp.type() != MountPoint.Type.VOLUME) {
            return mp.format();
        }
        if (!CtPermissions.isNewDisk(mp.volume())) {
            // as pct's rescan of an existing volume: its size comes from the storage, a failed read only warns
            try {
                // a subvolume without a quota is 0 (size=0T), as pct writes it
                return mp.withSize(storage().size(mp.volume())).format();
            } catch (RuntimeException e) {
                log.accept("could not rescan the size of " + mp.volume() + " - " + e.getMessage());
                return mp.format();
            }
        }
        String[] parts = mp.volume().split(":");
        long bytes = new BigDecimal(parts[1]).multiply(BigDecimal.valueOf(GIB)).longValue();
        String volid = storage().allocate(parts[0], vmid, bytes);
        revert.add(() -> storage().free(volid));
        log.accept("allocated " + volid + " (" + DiskSize.format(bytes) + ") for " + key);
        Path dir = storage().path(volid);
        if (unprivileged) {
            // the container's root must own its new volume
            Files.setAttribute(dir, "unix:uid", (int) LxcConfigWriter.ID_MAP_BASE, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(dir, "unix:gid", (int) LxcConfigWriter.ID_MAP_BASE, LinkOption.NOFOLLOW_LINKS);
        }
        return mp.withVolume(volid).withSize(bytes).format();
    }

    // ---- destroy

    /** {@code DELETE /nodes/{node}/lxc/{vmid}}: frees every volume and the config in a {@code vzdestroy} task. */
    public String destroy(int vmid, String user, boolean force, boolean purge, boolean destroyUnreferenced) {
        CtConfig config = configs().load(vmid).config();
        if (config.main().getBool("protection", false)) {
            throw new Conflict("can't remove CT " + vmid + " - protection mode enabled");
        }
        CtConfigs.checkLock(config);
        if (service.driver().isRunning(vmid) && !force) {
            throw new Conflict("CT " + vmid + " is running - destroy failed");
        }
        return service.task("vzdestroy", vmid, user, ctx -> configs().locked(vmid, () -> {
            if (service.driver().isRunning(vmid)) {
                service.driver().stop(vmid);
                ctx.log("stopped CT %d", vmid);
            }
            CtConfig current = configs().lock(vmid, "destroyed").config();
            // a container that stopped on its own may have left its volumes bound
            service.driver().releaseMounts(vmid);
            List<String> volumes = new ArrayList<>(Power.volumes(current.main()));
            current.snapshots().values().forEach(s -> Power.volumes(s).stream().filter(v -> !volumes.contains(v)).forEach(volumes::add));
            if (destroyUnreferenced) {
                storage().volumesOf(vmid).stream().filter(v -> !volumes.contains(v)).forEach(volumes::add);
            }
            List<String> failures = new ArrayList<>();
            for (String volid : volumes) {
                if (storage().owner(volid).filter(o -> o == vmid).isEmpty()) {
                    // a linked clone's base belongs to its template
                    continue;
                }
                try {
                    storage().free(volid);
                    ctx.log("freed %s", volid);
                } catch (NotFound e) {
                    ctx.log("%s is gone already", volid);
                } catch (RuntimeException e) {
                    failures.add(volid + ": " + e.getMessage());
                }
            }
            if (!failures.isEmpty()) {
                // keep the config so that nothing is orphaned; a later destroy frees the rest
                configs().unlock(vmid, "destroyed");
                throw new IllegalStateException("unable to destroy CT " + vmid + " - " + String.join("; ", failures));
            }
            configs().delete(vmid);
            try {
                service.driver().forget(vmid);
            } catch (IOException e) {
                ctx.warn("could not remove the generated config: %s", e.getMessage());
            }
            if (purge) {
                ctx.log("purged CT %d (no backup, replication or HA entries refer to it on this node)", vmid);
            }
            return null;
        }));
    }

    // ---- template

    /** {@code POST .../template}: turns the container's volumes into base volumes and marks it a template. */
    public void template(int vmid) {
        configs().locked(vmid, () -> {
            CtConfig config = configs().load(vmid).config();
            CtConfigs.checkLock(config);
            if (config.main().getBool("protection", false)) {
                throw new Conflict("can't convert CT " + vmid + " to template - protection mode enabled");
            }
            if (config.isTemplate()) {
                throw new Conflict("CT " + vmid + " is already a template");
            }
            if (service.driver().isRunning(vmid)) {
                throw new Conflict("you can't convert a CT to template if the CT is running");
            }
            CtSection main = config.main();
            for (String key : Power.volumeKeys(main)) {
                MountPoint mp = MountPoint.parse(key, main.get(key).orElseThrow());
                if (storage().canTemplate(mp.volume())) {
                    String base = storage().createBase(mp.volume());
                    main = main.with(key, mp.withVolume(base).format());
                }
            }
            CtSection finalMain = main.with("template", "1");
            configs().update(vmid, Optional.empty(), c -> c.withMain(finalMain));
            return null;
        });
    }

    // ---- clone

    /** What a clone call asked for. */
    public record CloneRequest(int newid, Optional<String> hostname, Optional<String> description, Optional<String> pool,
            Optional<String> snapname, Optional<String> storage, Optional<Boolean> full) {}

    /** {@code POST .../clone}: a linked (template on btrfs) or full copy under a new VMID, in a {@code vzclone} task. */
    public String clone(ApiRequest request, int vmid, CloneRequest clone) {
        int newid = clone.newid();
        CtConfig source = configs().load(vmid).config();
        if (!request.can("/vms/" + newid, Privilege.VM_ALLOCATE)
                && !(clone.pool().isPresent() && request.can("/pool/" + clone.pool().get(), Privilege.VM_ALLOCATE))) {
            throw new PermissionDenied("Permission check failed (/vms/" + newid + ", VM.Allocate)");
        }
        CtSection from = clone.snapname().map(s -> Optional.ofNullable(source.snapshots().get(s))
                .orElseThrow(() -> new ParameterError("snapname", "snapshot '" + s + "' does not exist"))).orElse(source.main());
        boolean template = source.isTemplate();
        boolean full = clone.full().orElse(!template);
        if (!template && !full) {
            throw new ParameterError("full", "linked clones can only be made of templates");
        }
        if (clone.storage().isPresent() && !full) {
            throw new ParameterError("storage", "a storage can only be chosen for a full clone");
        }
        if (!template && clone.snapname().isEmpty() && service.driver().isRunning(vmid)) {
            throw new Conflict("CT " + vmid + " is running - clone a snapshot or stop it first");
        }
        List<String> keys = Power.volumeKeys(from);
        for (String key : keys) {
            String volid = MountPoint.parse(key, from.get(key).orElseThrow()).volume();
            if (!full && !storage().canLinkedClone(volid)) {
                throw new ParameterError("full", "linked clone feature for '" + volid + "' is not available");
            }
            String sid = clone.storage().orElse(storage().storageOf(volid));
            CtPermissions.need(request, "/storage/" + sid, Privilege.DATASTORE_ALLOCATE_SPACE);
        }
        boolean hasBind = from.options().keySet().stream().filter(k -> CtOptions.isMountPoint(k) && !k.equals("rootfs"))
                .anyMatch(k -> MountPoint.parse(k, from.get(k).orElseThrow()).type() != MountPoint.Type.VOLUME);
        if (hasBind && !request.auth().isRoot()) {
            throw new PermissionDenied("Only root can clone a container with bind or device mount points.");
        }
        configs().checkUnused(newid);
        Map<String, String> options = new TreeMap<>(from.options());
        options.keySet().removeIf(k -> CtOptions.isUnused(k) || k.equals("lock") || k.equals("parent") || k.equals("snaptime")
                || k.equals("snapstate") || k.equals("template") || CtOptions.isMountPoint(k));
        clone.hostname().ifPresent(h -> options.put("hostname", h));
        options.replaceAll((k, v) -> CtOptions.isNet(k) ? NetConfig.parse(k, v).with("hwaddr", service.randomMac()).format() : v);
        options.put("lock", "create");
        String description = clone.description().map(d -> d.endsWith("\n") ? d : d + "\n").orElse(from.description());
        configs().create(newid, CtConfig.of(new CtSection(description, new TreeMap<>(options), from.lxc())));
        boolean unprivileged = from.getBool("unprivileged", false);
        return service.task("vzclone", vmid, request.auth().userid(), ctx -> configs().locked(newid, () -> {
            try (Revert revert = new Revert()) {
                revert.add(() -> configs().delete(newid));
                Map<String, String> mounts = new TreeMap<>();
                for (String key : from.options().keySet().stream().filter(CtOptions::isMountPoint).toList()) {
                    MountPoint mp = MountPoint.parse(key, from.get(key).orElseThrow());
                    if (mp.type() != MountPoint.Type.VOLUME) {
                        mounts.put(key, mp.format());
                        continue;
                    }
                    String volid;
                    if (full) {
                        String sid = clone.storage().orElse(storage().storageOf(mp.volume()));
                        long size = mp.sizeBytes().orElse(0);
                        volid = storage().allocate(sid, newid, size);
                        String allocated = volid;
                        revert.add(() -> storage().free(allocated));
                        ctx.log("copying %s to %s", mp.volume(), volid);
                        copyTree(storage().path(mp.volume(), clone.snapname()), storage().path(volid));
                    } else {
                        volid = storage().linkedClone(mp.volume(), newid, clone.snapname());
                        String cloned = volid;
                        revert.add(() -> storage().free(cloned));
                        ctx.log("linked clone of %s: %s", mp.volume(), volid);
                    }
                    mounts.put(key, mp.withVolume(volid).format());
                }
                configs().update(newid, Optional.empty(), c -> {
                    CtSection main = c.main().without("lock");
                    for (Map.Entry<String, String> e : mounts.entrySet()) {
                        main = main.with(e.getKey(), e.getValue());
                    }
                    if (unprivileged) {
                        main = main.with("unprivileged", "1");
                    }
                    return c.withMain(main);
                });
                revert.success();
            }
            return null;
        }));
    }

    /** Copies a directory tree with owners, modes, links and extended attributes (reflinks where possible). */
    static void copyTree(Path from, Path to) {
        ProcessRunner.of("cp", "-a", "--reflink=auto", "--one-file-system", from + "/.", to + "/").timeout(EXTRACT_TIMEOUT).run().check();
    }

    // ---- resize

    /** {@code PUT .../resize}: grows a volume mount point to {@code size} ({@code +1G} adds), in a {@code resize} task. */
    public String resize(int vmid, String user, String disk, String size, Optional<String> digest) {
        CtConfig config = configs().load(vmid).config();
        Digest.check(digest, configs().load(vmid).digest());
        CtConfigs.checkLock(config);
        String value = config.main().get(disk).orElseThrow(() -> new ParameterError("disk", "no such mount point '" + disk + "'"));
        MountPoint mp = MountPoint.parse(disk, value);
        if (mp.type() != MountPoint.Type.VOLUME) {
            throw new ParameterError("disk", "can't resize mount point owned by the host (" + mp.volume() + ")");
        }
        boolean grow = size.startsWith("+");
        long requested = DiskSize.parse(grow ? size.substring(1) : size)
                .orElseThrow(() -> new ParameterError("size", "invalid size '" + size + "'"));
        long current = mp.sizeBytes().orElse(0);
        long target = grow ? current + requested : requested;
        if (target < current) {
            throw new ParameterError("size", "unable to shrink disk size");
        }
        return service.task("resize", vmid, user, ctx -> configs().locked(vmid, () -> {
            storage().resize(mp.volume(), target);
            configs().update(vmid, Optional.empty(), c -> c.withMain(c.main().with(disk,
                    MountPoint.parse(disk, c.main().get(disk).orElseThrow()).withSize(target).format())));
            ctx.log("resized %s to %s", disk, DiskSize.format(target));
            return null;
        }));
    }

    // ---- move volume

    /** {@code POST .../move_volume}: copies a volume to another storage and points the config at it. */
    public String moveVolume(int vmid, String user, String volumeKey, String targetStorage, boolean delete, Optional<String> digest) {
        CtConfig config = configs().load(vmid).config();
        Digest.check(digest, configs().load(vmid).digest());
        CtConfigs.checkLock(config);
        String value = config.main().get(volumeKey)
                .orElseThrow(() -> new ParameterError("volume", "no such mount point '" + volumeKey + "'"));
        MountPoint mp = MountPoint.parse(volumeKey, value);
        if (mp.type() != MountPoint.Type.VOLUME) {
            throw new ParameterError("volume", "cannot move a mount point owned by the host");
        }
        if (service.driver().isRunning(vmid)) {
            throw new Conflict("cannot move volumes of a running container");
        }
        if (storage().storageOf(mp.volume()).equals(targetStorage)) {
            throw new ParameterError("storage", "volume is already on storage '" + targetStorage + "'");
        }
        if (delete && !config.snapshots().isEmpty()) {
            throw new Conflict("you can't move a volume with snapshots and delete the source");
        }
        try {
            storage().checkRootdir(targetStorage);
        } catch (ApiException e) {
            throw new ParameterError("storage", e.getMessage());
        }
        boolean unprivileged = config.isUnprivileged();
        return service.task("move_volume", vmid, user, ctx -> configs().locked(vmid, () -> {
            configs().lock(vmid, "disk");
            try (Revert revert = new Revert()) {
                String volid = storage().allocate(targetStorage, vmid, mp.sizeBytes().orElse(0));
                revert.add(() -> storage().free(volid));
                ctx.log("moving %s to %s", mp.volume(), volid);
                copyTree(storage().path(mp.volume()), storage().path(volid));
                configs().update(vmid, Optional.empty(), c -> {
                    CtSection main = c.main().with(volumeKey, mp.withVolume(volid).format()).without("lock");
                    if (!delete) {
                        main = main.with(ConfigEditor.freeUnusedKey(main), mp.volume());
                    }
                    return c.withMain(main);
                });
                revert.success();
            } finally {
                configs().unlock(vmid, "disk");
            }
            if (delete) {
                storage().free(mp.volume());
                ctx.log("freed %s", mp.volume());
            }
            if (unprivileged) {
                ctx.log("ownership kept (unprivileged container)");
            }
            return null;
        }));
    }
}
