package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.corral.core.error.ApiException;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskContext;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.Sizes;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmOptions;
import org.corral.qemu.disk.Volumes;
import tools.jackson.databind.JsonNode;

/**
 * Resize and move of a VM's disks, online through QMP ({@code block_resize}, {@code drive-mirror})
 * and offline through the storage and {@code qemu-img}.
 */
public final class DiskOperations {
    private final VmConfigs configs;
    private final VmRuntime runtime;
    private final Volumes volumes;

    public DiskOperations(VmConfigs configs, VmRuntime runtime, Volumes volumes) {
        this.configs = requireNonNull(configs, "configs is null");
        this.runtime = requireNonNull(runtime, "runtime is null");
        this.volumes = requireNonNull(volumes, "volumes is null");
    }

    /** The disk a resize or move acts on; refuses a missing drive or a cdrom. */
    public Drive disk(VmConfig config, String key) {
        if (!VmOptions.isDrive(key)) {
            throw new ParameterError("disk", "invalid disk '" + key + "'");
        }
        Drive drive = config.get(key).map(v -> Drive.parse(key, v))
                .orElseThrow(() -> new NotFound("disk '" + key + "' does not exist"));
        if (drive.isCdrom()) {
            throw new ApiException(500, "you can't resize or move a cdrom ('" + key + "')");
        }
        if (!drive.isVolume()) {
            throw new ApiException(500, "disk '" + key + "' is not on a storage");
        }
        return drive;
    }

    /** Checks a resize before its task starts: grow only. Answers the new size in bytes. */
    public long checkResize(int vmid, String key, String size, Optional<String> digest, boolean skiplock) {
        VmConfigs.Loaded loaded = configs.load(vmid);
        org.corral.core.config.Digest.check(digest, loaded.digest());
        if (!skiplock) {
            VmConfigs.checkLock(loaded.config());
        }
        Drive drive = disk(loaded.config(), key);
        long current = volumes.size(drive.file());
        long target = Sizes.resizeTarget(size, current);
        if (target < current) {
            throw new ApiException(500, "shrinking disks is not supported");
        }
        if (!volumes.hasFeature(drive.file(), Volumes.Feature.RESIZE)) {
            throw new ApiException(500, "storage does not support resizing '" + drive.file() + "'");
        }
        return target;
    }

    public void resize(int vmid, String key, String size, TaskContext ctx) {
        ReentrantLockHolder hold = new ReentrantLockHolder(runtime, vmid);
        try (hold) {
            VmConfig config = configs.load(vmid).config();
            Drive drive = disk(config, key);
            long current = volumes.size(drive.file());
            long target = Sizes.resizeTarget(size, current);
            if (target < current) {
                throw new ApiException(500, "shrinking disks is not supported");
            }
            if (target == current) {
                ctx.log("disk %s already has size %s", key, Sizes.format(target));
            } else if (runtime.isRunning(vmid)) {
                ctx.log("resizing %s online to %s", key, Sizes.format(target));
                if (!java.nio.file.Files.isRegularFile(volumes.path(drive.file()))) {
                    // a block device (LVM and the like) grows on the storage first; QEMU then sees the new size
                    volumes.resize(drive.file(), target);
                }
                Map<String, Object> args = new java.util.LinkedHashMap<>(VmHotplug.blockTarget(runtime, vmid, key));
                args.put("size", target);
                runtime.command(vmid, "block_resize", args, Duration.ofMinutes(5));
            } else {
                ctx.log("resizing %s to %s", key, Sizes.format(target));
                volumes.resize(drive.file(), target);
            }
            configs.update(vmid, c -> c.get(key).map(v -> c.with(key, Drive.parse(key, v).with("size", Sizes.format(target)).print()))
                    .orElse(c));
        }
    }

    /**
     * Moves a disk to {@code storage}: a running VM mirrors it ({@code drive-mirror}) and switches
     * over, a stopped one copies it with {@code qemu-img convert}. The old volume is destroyed
     * ({@code delete}) or kept as {@code unusedN}.
     */
    public void move(int vmid, String key, String storage, Optional<String> format, boolean delete, TaskContext ctx) {
        ReentrantLockHolder hold = new ReentrantLockHolder(runtime, vmid);
        try (hold) {
            VmConfig config = configs.load(vmid).config();
            VmConfigs.checkLock(config);
            Drive drive = disk(config, key);
            String source = drive.file();
            String sourceFormat = volumes.format(source);
            String targetFormat = format.orElse(sourceFormat);
            long size = volumes.size(source);
            String target = null;
            try {
                target = volumes.alloc(storage, vmid, Optional.of(targetFormat), Optional.empty(), size);
                ctx.log("moving %s from %s to %s", key, source, target);
                if (runtime.isRunning(vmid)) {
                    mirror(vmid, key, volumes.path(target).toString(), volumes.format(target), ctx);
                } else {
                    ProcessRunner.of("qemu-img", "convert", "-n", "-f", sourceFormat, "-O", volumes.format(target),
                            volumes.path(source).toString(), volumes.path(target).toString()).task(ctx).output();
                }
            } catch (RuntimeException e) {
                if (target != null) {
                    freeQuietly(target, ctx);
                }
                throw e;
            }
            String moved = target;
            boolean[] keepOld = {false};
            try {
                configs.update(vmid, c -> {
                    TreeMap<String, String> options = new TreeMap<>(c.options());
                    if (!options.containsKey(key) || !Drive.parse(key, options.get(key)).file().equals(source)) {
                        throw new ApiException(500, "disk " + key + " changed while it was moved");
                    }
                    Drive next = Drive.parse(key, options.get(key)).with("file", moved).with("size", Sizes.format(size));
                    if (next.get("format").isPresent()) {
                        next = next.with("format", volumes.format(moved));
                    }
                    options.put(key, next.print());
                    keepOld[0] = !delete || PendingChanges.inSnapshots(c, source);
                    if (keepOld[0]) {
                        PendingChanges.addUnused(options, source);
                    }
                    return new VmConfig(options, c.pending(), c.snapshots());
                });
            } catch (RuntimeException e) {
                // a running VM already writes to the new volume: it must stay
                if (!runtime.isRunning(vmid)) {
                    freeQuietly(moved, ctx);
                }
                throw e;
            }
            if (!keepOld[0]) {
                ctx.log("removing the old disk %s", source);
                freeQuietly(source, ctx);
            } else if (delete) {
                ctx.warn("the old disk %s is used by a snapshot; kept as unused", source);
            }
        }
    }

    /** Mirrors a running VM's drive to {@code path} and switches the drive over when the copy is in sync. */
    private void mirror(int vmid, String key, String path, String format, TaskContext ctx) {
        String job = "mirror-" + key;
        runtime.command(vmid, "drive-mirror", Map.of("job-id", job, "device", VmHotplug.blockDevice(runtime, vmid, key), "target", path,
                "format", format,
                "mode", "existing", "sync", "full"));
        long lastLog = 0;
        try {
            while (true) {
                JsonNode state = jobState(vmid, job);
                if (state == null) {
                    throw new ApiException(500, "mirror job of " + key + " vanished");
                }
                if (state.path("ready").asBoolean(false)) {
                    break;
                }
                long now = System.nanoTime();
                if (now - lastLog > Duration.ofSeconds(2).toNanos()) {
                    ctx.log("%s: transferred %d of %d bytes", key, state.path("offset").asLong(), state.path("len").asLong());
                    lastLog = now;
                }
                QemuDriver.sleep(100);
            }
            runtime.command(vmid, "block-job-complete", Map.of("device", job));
            while (jobState(vmid, job) != null) {
                QemuDriver.sleep(50);
            }
            VmHotplug.dropReplacedNode(runtime, vmid, key);
            ctx.log("%s: mirror complete, the VM uses the new disk", key);
        } catch (RuntimeException e) {
            try {
                runtime.command(vmid, "block-job-cancel", Map.of("device", job, "force", true));
                while (jobState(vmid, job) != null) {
                    QemuDriver.sleep(50);
                }
            } catch (RuntimeException ignored) {
                ctx.warn("could not cancel the mirror job: %s", ignored.getMessage());
            }
            throw e;
        }
    }

    private JsonNode jobState(int vmid, String job) {
        for (JsonNode j : runtime.command(vmid, "query-block-jobs")) {
            if (j.path("device").asString().equals(job)) {
                return j;
            }
        }
        return null;
    }

    private void freeQuietly(String volid, TaskContext ctx) {
        try {
            volumes.free(volid);
        } catch (RuntimeException e) {
            ctx.warn("unable to free %s: %s", volid, e.getMessage());
        }
    }

    /** Detach or destroy several drives at once, as {@code PUT unlink}. */
    public static List<String> unlinkKeys(String idlist) {
        List<String> keys = new ArrayList<>();
        for (String key : idlist.split("[,;\\s]+")) {
            if (!key.isEmpty()) {
                keys.add(key);
            }
        }
        return keys;
    }

    /** Holds the VM's local lifecycle lock for the duration of a disk operation. */
    private static final class ReentrantLockHolder implements AutoCloseable {
        private final java.util.concurrent.locks.ReentrantLock lock;

        ReentrantLockHolder(VmRuntime runtime, int vmid) {
            this.lock = runtime.vmLock(vmid);
            lock.lock();
        }

        @Override
        public void close() {
            lock.unlock();
        }
    }
}
