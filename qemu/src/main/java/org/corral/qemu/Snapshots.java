package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import org.corral.core.error.ApiException;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.json.Json;
import org.corral.core.task.TaskContext;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.disk.Volumes;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * VM snapshots as Proxmox keeps them: a {@code [name]} section holding the config at that moment,
 * linked by {@code parent} into a tree, the current config's {@code parent} naming where it
 * stands. Disks are snapshotted by the storage, or for qcow2 in a running VM through QMP
 * ({@code blockdev-snapshot-internal-sync}). With {@code vmstate} the RAM is saved to a state
 * volume while the VM is paused, so disks and RAM match; a rollback to it resumes the VM.
 */
public final class Snapshots {
    private static final List<String> NOT_COPIED = List.of("lock", "snapstate", "snaptime", "vmstate", "runningmachine", "runningcpu");

    private final VmConfigs configs;
    private final QemuDriver driver;
    private final VmRuntime runtime;
    private final Volumes volumes;
    private final Clock clock;

    public Snapshots(VmConfigs configs, QemuDriver driver, Volumes volumes, Clock clock) {
        this.configs = requireNonNull(configs, "configs is null");
        this.driver = requireNonNull(driver, "driver is null");
        this.runtime = driver.runtime();
        this.volumes = requireNonNull(volumes, "volumes is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    /** Checks a new snapshot before its task starts. */
    public void checkCreate(int vmid, String name) {
        if (name.equals("current") || name.equalsIgnoreCase("pending")) {
            throw new ParameterError("snapname", "invalid snapshot name '" + name + "'");
        }
        VmConfig config = configs.load(vmid).config();
        VmConfigs.checkLock(config);
        if (config.snapshots().containsKey(name)) {
            throw new ApiException(500, "snapshot name '" + name + "' already used");
        }
        for (Drive drive : disks(config.options())) {
            if (!volumes.hasFeature(drive.file(), Volumes.Feature.SNAPSHOT)) {
                throw new ApiException(500, "snapshot feature is not available (" + drive.key() + ": " + drive.file() + ")");
            }
        }
    }

    private static List<Drive> disks(Map<String, String> section) {
        return VmConfig.drives(section).values().stream().filter(d -> d.isVolume() && !d.isCdrom()).toList();
    }

    public void create(int vmid, String name, boolean withState, Optional<String> description, TaskContext ctx) {
        ReentrantLock lock = runtime.vmLock(vmid);
        lock.lock();
        try {
            createLocked(vmid, name, withState, description, ctx);
        } finally {
            lock.unlock();
        }
    }

    private void createLocked(int vmid, String name, boolean withState, Optional<String> description, TaskContext ctx) {
        checkCreate(vmid, name);
        boolean running = runtime.isRunning(vmid);
        boolean saveState = withState && running;
        Optional<String> machine = saveState ? Optional.of(driver.runningMachine(vmid)) : Optional.empty();
        VmConfig prepared = configs.update(vmid, c -> {
            VmConfigs.checkLock(c);
            if (c.snapshots().containsKey(name)) {
                throw new ApiException(500, "snapshot name '" + name + "' already used");
            }
            TreeMap<String, String> section = new TreeMap<>(c.options());
            NOT_COPIED.forEach(section::remove);
            section.remove("description");
            description.ifPresent(d -> section.put("description", d));
            section.put("snapstate", "prepare");
            section.put("snaptime", Long.toString(clock.instant().getEpochSecond()));
            machine.ifPresent(m -> section.put("runningmachine", m));
            return c.with("lock", "snapshot").withSnapshot(name, section);
        });
        List<Drive> disks = disks(prepared.snapshots().get(name));
        List<Drive> done = new ArrayList<>();
        String state = null;
        boolean paused = false;
        try {
            if (saveState) {
                String storage = prepared.get("vmstatestorage").or(() -> QemuDriver.firstDiskStorage(prepared))
                        .orElseThrow(() -> new ApiException(500, "no storage for the VM state: set 'vmstatestorage'"));
                state = volumes.alloc(storage, vmid, Optional.of("raw"), Optional.of("vm-" + vmid + "-state-" + name),
                        QemuDriver.stateSize(prepared));
                ctx.log("pausing VM %d for a consistent snapshot of disks and RAM", vmid);
                runtime.command(vmid, "stop");
                paused = true;
            }
            boolean freeze = running && !saveState && QemuDriver.agentEnabled(prepared) && freeze(vmid, ctx);
            try {
                for (Drive drive : disks) {
                    ctx.log("snapshotting '%s' (%s)", drive.key(), drive.file());
                    snapshotDisk(vmid, drive, name, running);
                    done.add(drive);
                }
            } finally {
                if (freeze) {
                    thaw(vmid, ctx);
                }
            }
            if (saveState) {
                ctx.log("saving VM state and RAM to %s", state);
                driver.saveState(vmid, volumes.path(state), ctx);
                runtime.command(vmid, "cont");
                paused = false;
            }
        } catch (RuntimeException e) {
            ctx.log("snapshot failed - undoing");
            for (Drive drive : done) {
                try {
                    deleteDiskSnapshot(vmid, drive, name, runtime.isRunning(vmid));
                } catch (RuntimeException ignored) {
                    ctx.warn("could not remove the snapshot of %s: %s", drive.key(), ignored.getMessage());
                }
            }
            if (paused && runtime.isRunning(vmid)) {
                try {
                    runtime.command(vmid, "cont");
                } catch (RuntimeException ignored) {
                    ctx.warn("could not continue the VM: %s", ignored.getMessage());
                }
            }
            if (state != null) {
                freeQuietly(state, ctx);
            }
            configs.update(vmid, c -> c.withoutSnapshot(name).without("lock"));
            throw e;
        }
        String saved = state;
        configs.update(vmid, c -> {
            TreeMap<String, String> section = new TreeMap<>(c.snapshots().get(name));
            section.remove("snapstate");
            if (saved != null) {
                section.put("vmstate", saved);
            }
            return c.withSnapshot(name, section).without("lock").with("parent", name);
        });
        ctx.log("snapshot '%s' created", name);
    }

    private boolean freeze(int vmid, TaskContext ctx) {
        try {
            long frozen = driver.agent(vmid).fsfreezeFreeze();
            ctx.log("froze %d guest file systems", frozen);
            return true;
        } catch (RuntimeException e) {
            ctx.log("guest agent: could not freeze file systems (%s), snapshot is crash-consistent", e.getMessage());
            return false;
        }
    }

    private void thaw(int vmid, TaskContext ctx) {
        try {
            driver.agent(vmid).fsfreezeThaw();
        } catch (RuntimeException e) {
            ctx.warn("guest agent: could not thaw file systems: %s", e.getMessage());
        }
    }

    private void snapshotDisk(int vmid, Drive drive, String name, boolean running) {
        if (running && volumes.format(drive.file()).equals("qcow2")) {
            runtime.command(vmid, "blockdev-snapshot-internal-sync",
                    Map.of("device", VmHotplug.blockDevice(runtime, vmid, drive.key()), "name", name),
                    Duration.ofMinutes(10));
        } else {
            volumes.snapshot(drive.file(), name);
        }
    }

    private void deleteDiskSnapshot(int vmid, Drive drive, String name, boolean running) {
        if (running && volumes.format(drive.file()).equals("qcow2") && runtime.isRunning(vmid)) {
            runtime.command(vmid, "blockdev-snapshot-delete-internal-sync",
                    Map.of("device", VmHotplug.blockDevice(runtime, vmid, drive.key()), "name", name),
                    Duration.ofMinutes(10));
        } else {
            volumes.deleteSnapshot(drive.file(), name);
        }
    }

    /** {@code GET snapshot}: every snapshot plus {@code current} ("You are here!"). */
    public ArrayNode list(int vmid) {
        VmConfigs.Loaded loaded = configs.load(vmid);
        VmConfig config = loaded.config();
        ArrayNode out = Json.array();
        List<Map.Entry<String, SortedMap<String, String>>> entries = new ArrayList<>(config.snapshots().entrySet());
        entries.sort(Comparator.comparingLong(e -> Long.parseLong(e.getValue().getOrDefault("snaptime", "0"))));
        for (Map.Entry<String, SortedMap<String, String>> e : entries) {
            Map<String, String> s = e.getValue();
            ObjectNode item = out.addObject();
            item.put("name", e.getKey());
            item.put("snaptime", Long.parseLong(s.getOrDefault("snaptime", "0")));
            item.put("description", s.getOrDefault("description", ""));
            if (s.containsKey("parent")) {
                item.put("parent", s.get("parent"));
            }
            if (s.containsKey("snapstate")) {
                item.put("snapstate", s.get("snapstate"));
            }
            item.put("vmstate", s.containsKey("vmstate") ? 1 : 0);
        }
        ObjectNode current = out.addObject();
        current.put("name", "current");
        current.put("digest", loaded.digest());
        current.put("running", runtime.isRunning(vmid) ? 1 : 0);
        current.put("description", "You are here!");
        config.parent().ifPresent(p -> current.put("parent", p));
        return out;
    }

    public SortedMap<String, String> section(int vmid, String name) {
        SortedMap<String, String> section = configs.load(vmid).config().snapshots().get(name);
        if (section == null) {
            throw new NotFound("snapshot '" + name + "' does not exist");
        }
        return section;
    }

    public void setDescription(int vmid, String name, Optional<String> description) {
        configs.update(vmid, c -> {
            SortedMap<String, String> section = c.snapshots().get(name);
            if (section == null) {
                throw new NotFound("snapshot '" + name + "' does not exist");
            }
            TreeMap<String, String> next = new TreeMap<>(section);
            description.ifPresentOrElse(d -> next.put("description", d), () -> next.remove("description"));
            return c.withSnapshot(name, next);
        });
    }

    /** Checks a rollback before its task starts. */
    public void checkRollback(int vmid, String name) {
        VmConfig config = configs.load(vmid).config();
        VmConfigs.checkLock(config);
        section(vmid, name);
        if (config.snapshots().get(name).containsKey("snapstate")) {
            throw new ApiException(500, "snapshot '" + name + "' is not complete (" + config.snapshots().get(name).get("snapstate") + ")");
        }
    }

    /**
     * Rolls back to a snapshot: stops the VM, rolls back each disk, restores the config, and
     * resumes the saved RAM state if the snapshot has one (else starts the VM when {@code start}).
     */
    public void rollback(int vmid, String name, boolean start, TaskContext ctx) {
        ReentrantLock lock = runtime.vmLock(vmid);
        lock.lock();
        try {
            checkRollback(vmid, name);
            if (runtime.isRunning(vmid)) {
                ctx.log("stopping VM %d for the rollback", vmid);
                driver.stop(vmid, QemuDriver.DEFAULT_STOP_TIMEOUT, false, ctx);
            }
            configs.update(vmid, c -> {
                VmConfigs.checkLock(c);
                return c.with("lock", "rollback");
            });
            SortedMap<String, String> snapshot = section(vmid, name);
            try {
                for (Drive drive : disks(snapshot)) {
                    ctx.log("rolling back '%s' (%s)", drive.key(), drive.file());
                    volumes.rollback(drive.file(), name);
                }
            } catch (RuntimeException e) {
                configs.update(vmid, c -> c.without("lock"));
                throw e;
            }
            configs.update(vmid, c -> {
                TreeMap<String, String> options = new TreeMap<>(snapshot);
                NOT_COPIED.forEach(options::remove);
                options.put("parent", name);
                List<String> kept = new VmConfig(options, new TreeMap<>(), c.snapshots()).referencedVolumes(true);
                for (Drive drive : disks(c.options())) {
                    // disks added after the snapshot stay with the VM as unused
                    if (!kept.contains(drive.file()) && PendingChanges.owned(vmid, drive.file(), volumes)) {
                        PendingChanges.addUnused(options, drive.file());
                    }
                }
                c.options().forEach((key, value) -> {
                    if (key.startsWith("unused") && !kept.contains(value)) {
                        PendingChanges.addUnused(options, value);
                    }
                });
                return new VmConfig(options, new TreeMap<>(), c.snapshots());
            });
            Optional<String> state = Optional.ofNullable(snapshot.get("vmstate"));
            if (state.isPresent()) {
                ctx.log("restoring the VM state of snapshot '%s'", name);
                // the saved RAM loads only into the machine type it was taken with
                driver.start(vmid, new QemuDriver.StartOptions(QemuDriver.DEFAULT_START_TIMEOUT, false,
                        Optional.of(QemuDriver.incomingFrom(volumes.path(state.get()))),
                        Optional.ofNullable(snapshot.get("runningmachine"))), ctx);
            } else if (start) {
                driver.start(vmid, QemuDriver.StartOptions.defaults(), ctx);
            }
            ctx.log("rolled back to snapshot '%s'", name);
        } finally {
            lock.unlock();
        }
    }

    /** Deletes a snapshot: its disk snapshots, its state volume and its section; children move up to its parent. */
    public void delete(int vmid, String name, boolean force, TaskContext ctx) {
        ReentrantLock lock = runtime.vmLock(vmid);
        lock.lock();
        try {
            VmConfig config = configs.load(vmid).config();
            if (!force) {
                VmConfigs.checkLock(config);
            }
            SortedMap<String, String> snapshot = section(vmid, name);
            configs.update(vmid, c -> {
                TreeMap<String, String> section = new TreeMap<>(c.snapshots().get(name));
                section.put("snapstate", "delete");
                return c.with("lock", "snapshot-delete").withSnapshot(name, section);
            });
            boolean running = runtime.isRunning(vmid);
            try {
                for (Drive drive : disks(snapshot)) {
                    ctx.log("deleting the snapshot of '%s' (%s)", drive.key(), drive.file());
                    try {
                        deleteDiskSnapshot(vmid, drive, name, running);
                    } catch (RuntimeException e) {
                        if (!force) {
                            throw e;
                        }
                        ctx.warn("%s: %s", drive.key(), e.getMessage());
                    }
                }
            } catch (RuntimeException e) {
                configs.update(vmid, c -> c.without("lock"));
                throw e;
            }
            Optional.ofNullable(snapshot.get("vmstate")).ifPresent(v -> freeQuietly(v, ctx));
            Optional<String> parent = Optional.ofNullable(snapshot.get("parent"));
            configs.update(vmid, c -> {
                VmConfig next = c.withoutSnapshot(name).without("lock");
                for (Map.Entry<String, SortedMap<String, String>> e : c.withoutSnapshot(name).snapshots().entrySet()) {
                    if (name.equals(e.getValue().get("parent"))) {
                        TreeMap<String, String> child = new TreeMap<>(e.getValue());
                        if (parent.isPresent()) {
                            child.put("parent", parent.get());
                        } else {
                            child.remove("parent");
                        }
                        next = next.withSnapshot(e.getKey(), child);
                    }
                }
                if (name.equals(next.parent().orElse(null))) {
                    next = parent.isPresent() ? next.with("parent", parent.get()) : next.without("parent");
                }
                return next;
            });
            ctx.log("snapshot '%s' deleted", name);
        } finally {
            lock.unlock();
        }
    }

    private void freeQuietly(String volid, TaskContext ctx) {
        try {
            volumes.free(volid);
        } catch (RuntimeException e) {
            ctx.warn("unable to free %s: %s", volid, e.getMessage());
        }
    }
}
