package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import org.corral.core.error.ApiException;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskContext;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.MacAddresses;
import org.corral.qemu.config.NetDevice;
import org.corral.qemu.config.PropertyStrings;
import org.corral.qemu.config.Sizes;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmOptions;
import org.corral.qemu.disk.Volumes;
import tools.jackson.databind.JsonNode;

/**
 * Templates and clones. A template's disks become read-only base volumes; a linked clone gets a
 * copy-on-write volume on top of them (qcow2 backing file, btrfs snapshot), a full clone a copy
 * on any storage, from a running VM through a block mirror. Clones get a new VMID, new MAC
 * addresses, a new SMBIOS UUID and VM generation ID.
 */
public final class Clones {
    private static final List<String> NOT_CLONED = List.of("lock", "parent", "template", "vmstate", "runningmachine", "runningcpu",
            "snaptime", "snapstate", "meta");

    private final VmConfigs configs;
    private final VmRuntime runtime;
    private final Volumes volumes;
    private final MacAddresses macs = new MacAddresses();

    public Clones(VmConfigs configs, VmRuntime runtime, Volumes volumes) {
        this.configs = requireNonNull(configs, "configs is null");
        this.runtime = requireNonNull(runtime, "runtime is null");
        this.volumes = requireNonNull(volumes, "volumes is null");
    }

    /** Checks a template conversion before its task starts. */
    public void checkTemplate(int vmid) {
        VmConfig config = configs.load(vmid).config();
        VmConfigs.checkLock(config);
        if (config.isTemplate()) {
            throw new ApiException(500, "VM " + vmid + " is already a template");
        }
        if (runtime.isRunning(vmid)) {
            throw new ApiException(500, "you can't convert a VM to template if VM is running");
        }
        if (!config.snapshots().isEmpty()) {
            throw new ApiException(500, "you can't convert a VM to template if VM has snapshots");
        }
        for (Drive drive : config.drives().values()) {
            if (drive.isVolume() && !drive.isCdrom() && !volumes.hasFeature(drive.file(), Volumes.Feature.TEMPLATE)) {
                throw new ApiException(500, "template feature is not available for " + drive.key() + " (" + drive.file() + ")");
            }
        }
    }

    /** Turns the VM into a template: its disks (or only {@code disk}) become base volumes. */
    public void template(int vmid, Optional<String> disk, TaskContext ctx) {
        ReentrantLock lock = runtime.vmLock(vmid);
        lock.lock();
        try {
            checkTemplate(vmid);
            VmConfig config = configs.load(vmid).config();
            for (Drive drive : config.drives().values()) {
                if (!drive.isVolume() || drive.isCdrom() || disk.filter(d -> !d.equals(drive.key())).isPresent()) {
                    continue;
                }
                String base = volumes.createBase(drive.file());
                ctx.log("%s: %s is now the base volume %s", drive.key(), drive.file(), base);
                // persist each rename at once: the old volume id no longer exists
                configs.update(vmid, c -> c.with(drive.key(), drive.with("file", base).print()));
            }
            if (disk.isEmpty()) {
                configs.update(vmid, c -> c.with("template", "1"));
            }
        } finally {
            lock.unlock();
        }
    }

    /** What a clone asks for. */
    public record Request(int source, int target, Optional<String> name, Optional<String> description, Optional<String> snapshot,
            Optional<String> storage, Optional<String> format, Optional<Boolean> full) {
        public Request {
            requireNonNull(name, "name is null");
            requireNonNull(description, "description is null");
            requireNonNull(snapshot, "snapshot is null");
            requireNonNull(storage, "storage is null");
            requireNonNull(format, "format is null");
            requireNonNull(full, "full is null");
        }
    }

    /** Whether a clone is full: always for a normal VM; for a template unless asked otherwise. */
    public boolean isFull(VmConfig source, Request request) {
        return !source.isTemplate() || request.full().orElse(false);
    }

    /** The storages a clone allocates on, for the permission check. */
    public List<String> targetStorages(Request request) {
        VmConfig source = sourceConfig(request);
        List<String> out = new ArrayList<>();
        boolean full = isFull(configs.load(request.source()).config(), request);
        for (Drive drive : VmConfig.drives(source.options()).values()) {
            if (drive.isVolume() && (!drive.isCdrom() || drive.isCloudInit())) {
                String storage = full ? request.storage().orElse(drive.storage().orElseThrow()) : drive.storage().orElseThrow();
                if (!out.contains(storage)) {
                    out.add(storage);
                }
            }
        }
        return out;
    }

    private VmConfig sourceConfig(Request request) {
        VmConfig config = configs.load(request.source()).config();
        if (request.snapshot().isPresent()) {
            Map<String, String> section = config.snapshots().get(request.snapshot().get());
            if (section == null) {
                throw new NotFound("snapshot '" + request.snapshot().get() + "' does not exist");
            }
            return VmConfig.of(section);
        }
        return config;
    }

    /**
     * Checks a clone and reserves the target VMID with a {@code lock: clone} config; nothing is
     * left behind when a check fails.
     */
    public void prepare(Request request) {
        VmConfig source = configs.load(request.source()).config();
        if (request.target() == request.source()) {
            throw new ParameterError("newid", "the target VMID must differ from the source");
        }
        configs.checkUnused(request.target());
        if (!source.isTemplate()) {
            VmConfigs.checkLock(source);
        }
        boolean full = isFull(source, request);
        if (!full && request.storage().isPresent()) {
            throw new ParameterError("storage", "parameter 'storage' not allowed for linked clones");
        }
        if (!full && request.format().isPresent()) {
            throw new ParameterError("format", "parameter 'format' not allowed for linked clones");
        }
        if (request.full().isPresent() && !request.full().get() && !source.isTemplate()) {
            throw new ParameterError("full", "linked clones are only possible from templates");
        }
        request.storage().ifPresent(volumes::checkStorage);
        VmConfig from = sourceConfig(request);
        for (Drive drive : VmConfig.drives(from.options()).values()) {
            if (drive.isVolume() && !drive.isCdrom() && !full && !volumes.hasFeature(drive.file(), Volumes.Feature.CLONE)) {
                throw new ApiException(500, "Linked clone feature is not supported for drive '" + drive.key() + "'");
            }
        }
        if (request.snapshot().isPresent() && runtime.isRunning(request.source())) {
            // copies from a snapshot read the image while QEMU has it open, which qemu-img allows with -U
            for (Drive drive : VmConfig.drives(from.options()).values()) {
                if (drive.isVolume() && !drive.isCdrom() && !volumes.format(drive.file()).equals("qcow2")) {
                    throw new ApiException(500, "cloning a snapshot of a running VM needs qcow2 disks (" + drive.key() + ")");
                }
            }
        }
        configs.create(request.target(), VmConfig.empty().with("lock", "clone"));
    }

    /** The clone's work, after {@link #prepare}: copies or links the disks and writes the new config. */
    public void clone(Request request, TaskContext ctx) {
        int source = request.source();
        int target = request.target();
        List<String> allocated = new ArrayList<>();
        boolean lockedSource = false;
        try {
            VmConfig sourceConfig = configs.load(source).config();
            boolean full = isFull(sourceConfig, request);
            if (!sourceConfig.isTemplate()) {
                configs.update(source, c -> {
                    VmConfigs.checkLock(c);
                    return c.with("lock", "clone");
                });
                lockedSource = true;
            }
            VmConfig from = sourceConfig(request);
            TreeMap<String, String> options = new TreeMap<>(from.options());
            NOT_CLONED.forEach(options::remove);
            options.keySet().removeIf(VmOptions::isUnused);
            options.put("name", request.name().orElse("Copy-of-VM-" + from.get("name").orElse(Integer.toString(source))));
            request.description().ifPresentOrElse(d -> options.put("description", d), () -> { });
            for (NetDevice net : from.nets()) {
                options.put(net.key(), net.with("macaddr", macs.generate(configs.macPrefix())).print());
            }
            Map<String, String> smbios = new TreeMap<>(from.get("smbios1").map(s -> PropertyStrings.parse(VmOptions.SMBIOS1, s)).orElse(Map.of()));
            smbios.put("uuid", UUID.randomUUID().toString());
            options.put("smbios1", PropertyStrings.print(VmOptions.SMBIOS1, smbios));
            if (!"0".equals(from.get("vmgenid").orElse("1"))) {
                options.put("vmgenid", UUID.randomUUID().toString());
            }
            boolean running = runtime.isRunning(source) && request.snapshot().isEmpty();
            for (Drive drive : VmConfig.drives(from.options()).values()) {
                if (!drive.isVolume() || drive.isCdrom() && !drive.isCloudInit()) {
                    continue;
                }
                String volid;
                if (drive.isCloudInit()) {
                    String storage = request.storage().orElse(drive.storage().orElseThrow());
                    volid = volumes.alloc(storage, target, Optional.of(volumes.format(drive.file())),
                            Optional.of("vm-" + target + "-cloudinit"), 4 * Sizes.MIB);
                    allocated.add(volid);
                } else if (!full) {
                    volid = volumes.linkedClone(drive.file(), target);
                    allocated.add(volid);
                    ctx.log("%s: linked clone %s of %s", drive.key(), volid, drive.file());
                } else {
                    String storage = request.storage().orElse(drive.storage().orElseThrow());
                    String format = request.format().orElse(volumes.format(drive.file()));
                    long size = volumes.size(drive.file());
                    volid = volumes.alloc(storage, target, Optional.of(format), Optional.empty(), size);
                    allocated.add(volid);
                    ctx.log("%s: copying %s to %s", drive.key(), drive.file(), volid);
                    copy(source, drive, volid, request.snapshot(), running, ctx);
                }
                Drive cloned = drive.with("file", volid);
                if (cloned.get("format").isPresent()) {
                    cloned = cloned.with("format", volumes.format(volid));
                }
                options.put(drive.key(), cloned.print());
            }
            VmConfig finished = new VmConfig(options, new TreeMap<>(), new TreeMap<>());
            configs.update(target, c -> {
                if (!"clone".equals(c.lock().orElse(""))) {
                    throw new ApiException(500, "VM " + target + " changed while it was cloned");
                }
                return finished;
            });
            ctx.log("cloned VM %d to %d (%s clone)", source, target, full ? "full" : "linked");
        } catch (RuntimeException e) {
            ctx.log("clone failed - cleaning up");
            for (String volid : allocated) {
                try {
                    volumes.free(volid);
                } catch (RuntimeException ignored) {
                    ctx.warn("unable to free %s: %s", volid, ignored.getMessage());
                }
            }
            try {
                configs.delete(target);
            } catch (RuntimeException ignored) {
                ctx.warn("could not remove the config of VM %d", target);
            }
            throw e;
        } finally {
            if (lockedSource) {
                configs.update(source, c -> "clone".equals(c.lock().orElse("")) ? c.without("lock") : c);
            }
        }
    }

    /** Full copy of a disk: from a snapshot or a stopped VM with qemu-img, from a running VM with a block mirror. */
    private void copy(int vmid, Drive drive, String targetVolid, Optional<String> snapshot, boolean running, TaskContext ctx) {
        String targetPath = volumes.path(targetVolid).toString();
        String targetFormat = volumes.format(targetVolid);
        if (running) {
            mirrorCopy(vmid, drive.key(), targetPath, targetFormat, ctx);
            return;
        }
        List<String> command = new ArrayList<>(List.of("qemu-img", "convert", "-n"));
        if (snapshot.isPresent()) {
            command.addAll(List.of("-U", "-l", "snapshot.name=" + snapshot.get()));
        }
        command.addAll(List.of("-f", volumes.format(drive.file()), "-O", targetFormat, volumes.path(drive.file()).toString(), targetPath));
        ProcessRunner.of(command).task(ctx).output();
    }

    /** Mirrors a running drive into the target and cancels the job once in sync: the copy is complete, the VM keeps its disk. */
    private void mirrorCopy(int vmid, String key, String path, String format, TaskContext ctx) {
        String job = "clone-" + key;
        runtime.command(vmid, "drive-mirror", Map.of("job-id", job, "device", VmHotplug.blockDevice(runtime, vmid, key), "target", path,
                "format", format,
                "mode", "existing", "sync", "full"));
        try {
            while (true) {
                JsonNode state = null;
                for (JsonNode j : runtime.command(vmid, "query-block-jobs")) {
                    if (j.path("device").asString().equals(job)) {
                        state = j;
                    }
                }
                if (state == null) {
                    throw new ApiException(500, "mirror job of " + key + " vanished");
                }
                if (state.path("ready").asBoolean(false)) {
                    break;
                }
                QemuDriver.sleep(100);
            }
        } finally {
            try {
                runtime.command(vmid, "block-job-cancel", Map.of("device", job), Duration.ofSeconds(30));
                boolean gone = false;
                while (!gone) {
                    gone = true;
                    for (JsonNode j : runtime.command(vmid, "query-block-jobs")) {
                        gone &= !j.path("device").asString().equals(job);
                    }
                    if (!gone) {
                        QemuDriver.sleep(50);
                    }
                }
            } catch (RuntimeException e) {
                ctx.warn("%s: could not end the mirror job: %s", key, e.getMessage());
            }
        }
        ctx.log("%s: copied while running", key);
    }
}
