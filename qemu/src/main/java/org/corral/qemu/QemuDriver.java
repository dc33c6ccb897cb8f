package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.corral.core.cgroup.Cgroup;
import org.corral.core.cgroup.CgroupStats;
import org.corral.core.cgroup.CpuSampler;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.core.guest.GuestUsage;
import org.corral.core.json.Json;
import org.corral.core.process.ProcessException;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskContext;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.NetDevice;
import org.corral.qemu.config.PropertyStrings;
import org.corral.qemu.config.Sizes;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmOptions;
import org.corral.qemu.disk.Volumes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Starts, stops and watches the QEMU processes of this node's VMs. QEMU runs daemonized in its own
 * session (it outlives the daemon and is nobody's child here), paused until its taps are on their
 * bridges; the daemon speaks to it only through QMP.
 */
public final class QemuDriver {
    private static final Duration HOOK_TIMEOUT = Duration.ofMinutes(5);
    private static final Logger log = LoggerFactory.getLogger(QemuDriver.class);
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final long CLOCK_TICKS = 100;
    private static final long MAX_BANDWIDTH = 1L << 40;

    /**
     * How to start: the timeout, whether a root caller skips the lock check, a migration stream
     * to load, and the machine type to run instead of the config's (Proxmox's {@code forcemachine}:
     * the one a saved state was taken with).
     */
    public record StartOptions(Duration timeout, boolean skiplock, Optional<String> incoming, Optional<String> machine) {
        public StartOptions {
            requireNonNull(timeout, "timeout is null");
            requireNonNull(incoming, "incoming is null");
            requireNonNull(machine, "machine is null");
        }

        public StartOptions(Duration timeout, boolean skiplock, Optional<String> incoming) {
            this(timeout, skiplock, incoming, Optional.empty());
        }

        public static StartOptions defaults() {
            return new StartOptions(DEFAULT_START_TIMEOUT, false, Optional.empty());
        }
    }

    private final VmConfigs configs;
    private final VmRuntime runtime;
    private final Volumes volumes;
    private final KvmProbe kvm;
    private final CloudInit cloudInit;
    private final HostNetwork network;
    private final Clock clock;
    private final VmCgroups cgroups;
    private final QemuMachines machines;
    private final CpuSampler cpuSamples = new CpuSampler();
    private final Map<Long, String> runningMachine = new ConcurrentHashMap<>();

    public QemuDriver(VmConfigs configs, VmRuntime runtime, Volumes volumes, KvmProbe kvm, CloudInit cloudInit, HostNetwork network,
            Clock clock, VmCgroups cgroups, QemuMachines machines) {
        this.configs = requireNonNull(configs, "configs is null");
        this.runtime = requireNonNull(runtime, "runtime is null");
        this.volumes = requireNonNull(volumes, "volumes is null");
        this.kvm = requireNonNull(kvm, "kvm is null");
        this.cloudInit = requireNonNull(cloudInit, "cloudInit is null");
        this.network = requireNonNull(network, "network is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.cgroups = requireNonNull(cgroups, "cgroups is null");
        this.machines = requireNonNull(machines, "machines is null");
    }

    public VmRuntime runtime() {
        return runtime;
    }

    public VmCgroups cgroups() {
        return cgroups;
    }

    /** Everything a start checks before it does anything: lock, template, already running, KVM, bridges. */
    public void checkStartable(int vmid, VmConfig config, boolean skiplock) {
        if (runtime.isRunning(vmid)) {
            throw new ApiException(500, "VM " + vmid + " already running");
        }
        VmConfigs.checkNotTemplate(config, "start VM");
        if (!skiplock && !config.lock().filter("suspended"::equals).isPresent()) {
            VmConfigs.checkLock(config);
        }
        if (config.flag("kvm", true)) {
            KvmProbe.Verdict verdict = kvm.verdict();
            if (!verdict.usable()) {
                throw new ApiException(500, KvmProbe.refusal(verdict));
            }
        }
        for (NetDevice net : config.nets()) {
            network.checkBridge(net.key(), net);
        }
    }

    /** The command line QEMU would get now ({@code qm showcmd}), its machine type pinned to a version. */
    public List<String> commandLine(int vmid, VmConfig config, Optional<String> incoming) {
        return commandLine(vmid, config, incoming, Optional.empty());
    }

    /** As above, running {@code machine} instead of the config's type when given. */
    public List<String> commandLine(int vmid, VmConfig config, Optional<String> incoming, Optional<String> machine) {
        String type = machines.pin(QemuCommandLine.QEMU, machine.orElseGet(() -> QemuCommandLine.machineType(config)));
        QemuCommandLine.Options options = QemuCommandLine.Options.defaults().withMachine(type);
        if (incoming.isPresent()) {
            options = options.withIncoming(incoming.get());
        }
        try {
            return QemuCommandLine.build(vmid, config, runtime.paths(vmid), this::resolve, options);
        } catch (IllegalArgumentException e) {
            throw new ApiException(500, e.getMessage());
        }
    }

    private QemuCommandLine.ResolvedDrive resolve(Drive drive) {
        if (!drive.isVolume()) {
            throw new IllegalArgumentException(drive.key() + ": '" + drive.file() + "' is not a volume");
        }
        Path path = volumes.path(drive.file());
        return new QemuCommandLine.ResolvedDrive(path.toString(), volumes.format(drive.file()), !drive.isCdrom() && supportsDirectIo(path));
    }

    /** Whether the file's file system takes O_DIRECT, which QEMU's cache=none needs (tmpfs and ramfs don't). */
    static boolean supportsDirectIo(Path path) {
        try {
            String type = Files.getFileStore(path).type();
            return !type.equals("tmpfs") && !type.equals("ramfs");
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Starts a VM: applies pending changes, builds the cloud-init drive, launches QEMU daemonized and
     * paused, waits for QMP, plugs the taps, loads a saved state if there is one, continues.
     */
    public void start(int vmid, StartOptions options, TaskContext ctx) {
        ReentrantLock lock = runtime.vmLock(vmid);
        lock.lock();
        try {
            startLocked(vmid, options, ctx);
        } finally {
            lock.unlock();
        }
    }

    private void startLocked(int vmid, StartOptions options, TaskContext ctx) {
        VmConfig current = configs.load(vmid).config();
        checkStartable(vmid, current, options.skiplock());
        VmConfig config = current;
        if (!current.pending().isEmpty()) {
            List<String> toFree = new ArrayList<>();
            config = configs.update(vmid, c -> {
                PendingChanges.Applied applied = PendingChanges.apply(vmid, c, volumes);
                toFree.clear();
                toFree.addAll(applied.toFree());
                return applied.config();
            });
            ctx.log("applied pending changes");
            for (String volid : toFree) {
                freeQuietly(volid, ctx);
            }
        }
        Optional<String> incoming = options.incoming();
        Optional<String> machine = options.machine();
        Optional<String> resumeState = Optional.empty();
        if (incoming.isEmpty() && config.lock().filter("suspended"::equals).isPresent() && config.has("vmstate")) {
            resumeState = config.get("vmstate");
            incoming = Optional.of(incomingFrom(volumes.path(resumeState.get())));
            // the state loads only into the machine it was saved from, whatever QEMU offers now
            VmConfig suspended = config;
            machine = machine.or(() -> suspended.get("runningmachine"));
            ctx.log("resuming VM %d from saved state %s", vmid, resumeState.get());
        }
        machine.ifPresent(m -> ctx.log("running machine type %s", m));
        for (Drive drive : config.drives().values()) {
            if (drive.isCloudInit() && drive.isVolume()) {
                ctx.log("generating cloud-init ISO");
                buildCloudInit(vmid, config, drive);
            }
        }
        List<String> command = commandLine(vmid, config, incoming, machine);
        hook(vmid, config, "pre-start", ctx);
        launch(vmid, config, command, options.timeout(), ctx);
        try {
            for (NetDevice net : config.nets()) {
                if (net.bridge().isPresent()) {
                    network.plug(vmid, net, ctx::warn);
                }
                if (net.flag("link_down")) {
                    runtime.command(vmid, "set_link", Map.of("name", net.key(), "up", false));
                }
            }
            if (incoming.isPresent()) {
                awaitIncoming(vmid, options.timeout(), ctx);
            }
            if (!config.flag("freeze", false)) {
                runtime.command(vmid, "cont");
            }
        } catch (RuntimeException e) {
            ctx.log("start failed: %s", e.getMessage());
            kill(vmid, ctx);
            throw e;
        }
        hook(vmid, config, "post-start", ctx);
        if (resumeState.isPresent()) {
            String state = resumeState.get();
            configs.update(vmid, c -> c.without("vmstate", "lock", "runningmachine", "runningcpu"));
            freeQuietly(state, ctx);
        }
        log.info("Started VM {}", vmid);
    }

    /**
     * Runs the VM's hookscript ({@code hookscript: local:snippets/hook.sh}) as Proxmox does:
     * {@code SCRIPT VMID PHASE}. A failing {@code pre-start} aborts the start; other phases warn.
     */
    void hook(int vmid, VmConfig config, String phase, TaskContext ctx) {
        Optional<String> script = config.get("hookscript");
        if (script.isEmpty()) {
            return;
        }
        Path path = volumes.path(script.get());
        if (!Files.isExecutable(path)) {
            String message = "hookscript '" + script.get() + "' is not executable";
            if (phase.equals("pre-start")) {
                throw new ApiException(500, message);
            }
            ctx.warn(message);
            return;
        }
        ctx.log("GUEST HOOK: %s", phase);
        try {
            // its output goes to the task log as it comes, as in Proxmox
            ProcessRunner.of(path.toString(), Integer.toString(vmid), phase).stdoutLines(ctx::log).timeout(HOOK_TIMEOUT).task(ctx)
                    .run().check();
        } catch (ProcessException e) {
            if (phase.equals("pre-start")) {
                throw new ApiException(500, "hookscript error for " + vmid + " on " + phase + ": " + e.getMessage());
            }
            ctx.warn("hookscript error for %d on %s: %s", vmid, phase, e.getMessage());
        }
    }

    static String incomingFrom(Path file) {
        return "exec:cat '" + file.toString().replace("'", "'\\''") + "'";
    }

    /** The files of the VM's cloud-init drive for its current config. */
    public CloudInit.CloudInitFiles cloudInitFiles(int vmid, VmConfig config) {
        try {
            return cloudInit.generate(vmid, config, volid -> {
                try {
                    return Files.readString(volumes.path(volid), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new ApiException(500, "unable to read cicustom snippet '" + volid + "': " + e.getMessage());
                }
            });
        } catch (IllegalArgumentException e) {
            throw new ApiException(500, e.getMessage());
        }
    }

    /** Rebuilds the cloud-init drive(s) from the config; a running guest sees the new ISO after its next read. */
    public void regenerateCloudInit(int vmid) {
        VmConfig config = configs.load(vmid).config();
        boolean found = false;
        for (Drive drive : config.drives().values()) {
            if (drive.isCloudInit() && drive.isVolume()) {
                buildCloudInit(vmid, config, drive);
                found = true;
            }
        }
        if (!found) {
            throw new ApiException(500, "VM " + vmid + " has no cloud-init drive");
        }
    }

    /** Sends a key combination ({@code ctrl-alt-delete}) to the guest. */
    public void sendKey(int vmid, String key) {
        monitor(vmid, "sendkey " + key);
    }

    private void buildCloudInit(int vmid, VmConfig config, Drive drive) {
        CloudInit.CloudInitFiles files = cloudInitFiles(vmid, config);
        Path iso = runtime.paths(vmid).cloudInitIso();
        try {
            Files.createDirectories(iso.getParent());
            cloudInit.buildIso(files, iso);
            cloudInit.writeToVolume(iso, volumes.path(drive.file()), volumes.format(drive.file()));
        } catch (IOException e) {
            throw new ApiException(500, "unable to build the cloud-init drive: " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(iso);
            } catch (IOException e) {
                log.debug("could not remove {}", iso, e);
            }
        }
    }

    private void launch(int vmid, VmConfig config, List<String> command, Duration timeout, TaskContext ctx) {
        VmPaths paths = runtime.paths(vmid);
        try {
            Files.createDirectories(paths.dir());
        } catch (IOException e) {
            throw new ApiException(500, "cannot create " + paths.dir() + ": " + e.getMessage());
        }
        runtime.disconnect(vmid);
        runtime.cleanup(vmid);
        if (!config.flag("kvm", true)) {
            ctx.log("KVM disabled (kvm: 0): running the guest with QEMU's TCG emulator");
        }
        List<String> launch = inCgroup(vmid, config, command, ctx);
        Process launcher;
        try {
            launcher = new ProcessBuilder(launch)
                    .redirectErrorStream(true)
                    .redirectOutput(paths.startLog().toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new ApiException(500, "start failed: cannot run " + command.get(0) + ": " + e.getMessage());
        }
        boolean exited;
        try {
            // with -daemonize the launcher exits once QEMU is set up and its QMP socket listens
            exited = launcher.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exited = false;
        }
        if (!exited) {
            launcher.destroyForcibly();
            kill(vmid, ctx);
            throw new ApiException(500, "start failed: QEMU did not come up within " + timeout.toSeconds() + " s");
        }
        if (launcher.exitValue() != 0) {
            String output = startLog(paths);
            kill(vmid, ctx);
            throw new ApiException(500, "start failed: QEMU exited with status " + launcher.exitValue()
                    + (output.isEmpty() ? "" : ": " + output));
        }
        long pid = runtime.pid(vmid).orElseThrow(() -> new ApiException(500, "start failed: QEMU left no running process ("
                + startLog(paths) + ")"));
        try {
            runtime.qmp(vmid);
        } catch (RuntimeException e) {
            kill(vmid, ctx);
            throw new ApiException(500, "start failed: no QMP connection - " + e.getMessage());
        }
        log.debug("VM {} launched as pid {}", vmid, pid);
    }

    /**
     * The command that runs QEMU in the VM's cgroup: a shell writes its own pid to the group's
     * {@code cgroup.procs} files and then execs QEMU, so QEMU and every thread and child it makes
     * are in the group from their first instruction. Without a usable cgroup the VM runs outside
     * one, unless it asks for CPU limits that would then silently not hold.
     */
    private List<String> inCgroup(int vmid, VmConfig config, List<String> command, TaskContext ctx) {
        List<Path> procs;
        try {
            cgroups.remove(vmid);
            procs = cgroups.prepare(vmid, config);
        } catch (IOException e) {
            if (VmCgroups.limitsCpu(config)) {
                throw new ApiException(500, "start failed: unable to apply cpulimit/cpuunits in cgroup "
                        + cgroups.group(vmid).path() + ": " + e.getMessage());
            }
            ctx.warn("unable to create the cgroup %s (%s): running the VM without resource limits", cgroups.group(vmid).path(),
                    e.getMessage());
            return command;
        }
        return joiningCgroup(procs, command);
    }

    static List<String> joiningCgroup(List<Path> procsFiles, List<String> command) {
        if (procsFiles.isEmpty()) {
            return command;
        }
        List<String> out = new ArrayList<>(List.of("/bin/sh", "-c",
                "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo $$ > \"$1\" || exit 1; shift; n=$((n - 1)); done; exec \"$@\"",
                "corral-cgroup", Integer.toString(procsFiles.size())));
        procsFiles.forEach(p -> out.add(p.toString()));
        out.addAll(command);
        return out;
    }

    private static String startLog(VmPaths paths) {
        try {
            String text = Files.readString(paths.startLog()).strip();
            return text.length() > 2000 ? text.substring(text.length() - 2000) : text;
        } catch (IOException e) {
            return "";
        }
    }

    private void awaitIncoming(int vmid, Duration timeout, TaskContext ctx) {
        long deadline = System.nanoTime() + Math.max(timeout.toNanos(), Duration.ofMinutes(5).toNanos());
        while (true) {
            String status = runtime.command(vmid, "query-status").path("status").asString();
            if (!status.equals("inmigrate")) {
                JsonNode migrate = runtime.command(vmid, "query-migrate");
                String state = migrate.path("status").asString("completed");
                if (state.equals("failed")) {
                    throw new ApiException(500, "loading the saved VM state failed: " + migrate.path("error-desc").asString(""));
                }
                ctx.log("VM state loaded (%s)", status);
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new ApiException(500, "loading the saved VM state got timeout");
            }
            sleep(100);
        }
    }

    /** Stops a VM at once: QMP quit, then SIGTERM, then SIGKILL after {@code timeout}. */
    public void stop(int vmid, Duration timeout, boolean skiplock, TaskContext ctx) {
        ReentrantLock lock = runtime.vmLock(vmid);
        lock.lock();
        try {
            VmConfig config = configs.load(vmid).config();
            if (!skiplock) {
                checkLockExcept(config, "suspended");
            }
            boolean running = runtime.isRunning(vmid);
            if (running) {
                hook(vmid, config, "pre-stop", ctx);
            }
            stopLocked(vmid, timeout, ctx);
            if (running) {
                hook(vmid, config, "post-stop", ctx);
            }
        } finally {
            lock.unlock();
        }
    }

    private void stopLocked(int vmid, Duration timeout, TaskContext ctx) {
        Optional<Long> pid = runtime.pid(vmid);
        if (pid.isEmpty()) {
            cleanup(vmid);
            return;
        }
        try {
            runtime.qmp(vmid).execute("quit", Map.of(), Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            ctx.log("QMP quit failed: %s", e.getMessage());
        }
        if (!waitGone(pid.get(), timeout)) {
            ctx.log("VM still running - terminating now with SIGTERM");
            ProcessHandle.of(pid.get()).ifPresent(ProcessHandle::destroy);
            if (!waitGone(pid.get(), Duration.ofSeconds(5))) {
                ctx.log("VM still running - terminating now with SIGKILL");
                ProcessHandle.of(pid.get()).ifPresent(ProcessHandle::destroyForcibly);
                waitGone(pid.get(), Duration.ofSeconds(5));
            }
        }
        cleanup(vmid);
        runningMachine.remove(pid.get());
        log.info("Stopped VM {}", vmid);
    }

    /** Kills whatever QEMU a failed start left behind. */
    private void kill(int vmid, TaskContext ctx) {
        Optional<Long> pid = runtime.pid(vmid);
        if (pid.isPresent()) {
            ProcessHandle.of(pid.get()).ifPresent(ProcessHandle::destroyForcibly);
            waitGone(pid.get(), Duration.ofSeconds(5));
        }
        cleanup(vmid);
    }

    /** What a stopped VM leaves: its QMP connection, run files, cgroup and CPU samples. */
    private void cleanup(int vmid) {
        runtime.disconnect(vmid);
        runtime.cleanup(vmid);
        cgroups.remove(vmid);
        cpuSamples.forget(vmid);
    }

    static boolean waitGone(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!VmRuntime.isGone(pid)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(20);
        }
        return true;
    }

    /**
     * Asks the guest to power off (guest agent if configured, else ACPI) and waits; after the
     * timeout, stops it when {@code forceStop}, else fails.
     */
    public void shutdown(int vmid, Duration timeout, boolean forceStop, boolean skiplock, TaskContext ctx) {
        ReentrantLock lock = runtime.vmLock(vmid);
        lock.lock();
        try {
            VmConfig config = configs.load(vmid).config();
            if (!skiplock) {
                VmConfigs.checkLock(config);
            }
            Optional<Long> pid = runtime.pid(vmid);
            if (pid.isEmpty()) {
                cleanup(vmid);
                return;
            }
            String qmpStatus = runtime.command(vmid, "query-status").path("status").asString();
            if (qmpStatus.equals("paused") || qmpStatus.equals("suspended")) {
                // a paused guest can't react to ACPI
                if (!forceStop) {
                    throw new ApiException(500, "VM " + vmid + " is paused - cannot shutdown");
                }
                stopLocked(vmid, DEFAULT_STOP_TIMEOUT, ctx);
                return;
            }
            hook(vmid, config, "pre-stop", ctx);
            boolean viaAgent = agentEnabled(config);
            if (viaAgent) {
                try {
                    new GuestAgent(vmid, runtime.paths(vmid).agent()).command("guest-shutdown", Map.of(), Duration.ofSeconds(10));
                } catch (QmpException e) {
                    // guest-shutdown does not answer when it works; a missing agent falls back to ACPI
                    if (e.getMessage().contains("not running")) {
                        viaAgent = false;
                    }
                }
            }
            if (!viaAgent) {
                runtime.command(vmid, "system_powerdown");
            }
            if (waitGone(pid.get(), timeout)) {
                cleanup(vmid);
                hook(vmid, config, "post-stop", ctx);
                return;
            }
            if (!forceStop) {
                throw new ApiException(500, "VM quit/powerdown failed - got timeout");
            }
            ctx.log("VM still running - terminating now");
            stopLocked(vmid, DEFAULT_STOP_TIMEOUT, ctx);
            hook(vmid, config, "post-stop", ctx);
        } finally {
            lock.unlock();
        }
    }

    /** Shutdown and start again, so that pending changes apply, as Proxmox's reboot. */
    public void reboot(int vmid, Duration timeout, TaskContext ctx) {
        VmConfig config = configs.load(vmid).config();
        VmConfigs.checkLock(config);
        if (!runtime.isRunning(vmid)) {
            throw VmRuntime.notRunning(vmid);
        }
        shutdown(vmid, timeout, true, false, ctx);
        start(vmid, StartOptions.defaults(), ctx);
    }

    public void reset(int vmid, boolean skiplock) {
        if (!skiplock) {
            VmConfigs.checkLock(configs.load(vmid).config());
        }
        runtime.command(vmid, "system_reset");
    }

    /** Pauses the vCPUs (QMP stop). */
    public void pause(int vmid, boolean skiplock) {
        if (!skiplock) {
            VmConfigs.checkLock(configs.load(vmid).config());
        }
        runtime.command(vmid, "stop");
    }

    /** Continues paused vCPUs; a VM suspended to disk resumes by a start. */
    public void resume(int vmid, boolean skiplock, boolean nocheck) {
        VmConfig config = configs.load(vmid).config();
        if (!skiplock && !nocheck) {
            VmConfigs.checkLock(config);
        }
        if (!runtime.isRunning(vmid)) {
            throw VmRuntime.notRunning(vmid);
        }
        runtime.command(vmid, "cont");
    }

    /**
     * Suspends to disk: saves the RAM to a new state volume on {@code storage}, records it as
     * {@code vmstate} with {@code lock: suspended} and stops QEMU; the next start resumes from it.
     */
    public void suspendToDisk(int vmid, Optional<String> stateStorage, boolean skiplock, TaskContext ctx) {
        ReentrantLock lock = runtime.vmLock(vmid);
        lock.lock();
        try {
            VmConfig config = configs.load(vmid).config();
            if (!skiplock) {
                VmConfigs.checkLock(config);
            }
            VmConfigs.checkNotTemplate(config, "suspend");
            if (!runtime.isRunning(vmid)) {
                throw VmRuntime.notRunning(vmid);
            }
            String storage = stateStorage.or(() -> config.get("vmstatestorage")).or(() -> firstDiskStorage(config))
                    .orElseThrow(() -> new ApiException(500, "no storage for the VM state: set 'statestorage' or 'vmstatestorage'"));
            configs.update(vmid, c -> {
                VmConfigs.checkLock(c);
                return c.with("lock", "suspending");
            });
            String volid = null;
            try {
                String name = "vm-" + vmid + "-state-suspend-" + LocalDate.now(clock);
                volid = volumes.alloc(storage, vmid, Optional.of("raw"), Optional.of(name), stateSize(config));
                ctx.log("saving VM state to %s", volid);
                String machine = runningMachine(vmid);
                saveState(vmid, volumes.path(volid), ctx);
                String saved = volid;
                configs.update(vmid, c -> c.with("vmstate", saved).with("lock", "suspended").with("runningmachine", machine));
                stopLocked(vmid, DEFAULT_STOP_TIMEOUT, ctx);
            } catch (RuntimeException e) {
                if (volid != null) {
                    freeQuietly(volid, ctx);
                }
                configs.update(vmid, c -> "suspending".equals(c.lock().orElse("")) ? c.without("lock", "vmstate") : c);
                if (runtime.isRunning(vmid)) {
                    try {
                        runtime.command(vmid, "cont");
                    } catch (RuntimeException ignored) {
                        ctx.log("could not continue the VM after the failed suspend");
                    }
                }
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Bytes to reserve for a saved RAM state: twice the RAM plus room for device state. */
    public static long stateSize(VmConfig config) {
        return config.memoryMiB() * 2 * Sizes.MIB + 32 * Sizes.MIB;
    }

    static Optional<String> firstDiskStorage(VmConfig config) {
        return config.drives().values().stream().filter(d -> !d.isCdrom() && d.isVolume()).map(d -> d.storage().orElseThrow()).findFirst();
    }

    /**
     * Pauses the VM and writes its RAM and device state to {@code file} through QEMU's migration
     * stream; the VM stays paused afterwards.
     */
    public void saveState(int vmid, Path file, TaskContext ctx) {
        runtime.command(vmid, "migrate-set-parameters", Map.of("max-bandwidth", MAX_BANDWIDTH));
        runtime.command(vmid, "stop");
        runtime.command(vmid, "migrate", Map.of("uri", "exec:cat > '" + file.toString().replace("'", "'\\''") + "'"));
        long lastLog = 0;
        while (true) {
            JsonNode info = runtime.command(vmid, "query-migrate");
            String status = info.path("status").asString();
            switch (status) {
                case "completed" -> {
                    ctx.log("VM state saved (%d MiB)", info.path("ram").path("transferred").asLong() / Sizes.MIB);
                    return;
                }
                case "failed", "cancelled" -> throw new ApiException(500, "saving the VM state failed: "
                        + info.path("error-desc").asString(status));
                default -> {
                    long now = System.nanoTime();
                    if (now - lastLog > Duration.ofSeconds(5).toNanos()) {
                        ctx.log("saving VM state: %s, %d MiB written", status, info.path("ram").path("transferred").asLong() / Sizes.MIB);
                        lastLog = now;
                    }
                    sleep(50);
                }
            }
        }
    }

    /** The machine type QEMU runs ({@code pc-i440fx-7.2}), as Proxmox records it with a saved state. */
    public String runningMachine(int vmid) {
        long pid = runtime.pid(vmid).orElseThrow(() -> VmRuntime.notRunning(vmid));
        return runningMachine.computeIfAbsent(pid, p -> {
            // Proxmox's QEMU marks the current machine; Debian's does not, but names its QOM class after it
            for (JsonNode machine : runtime.command(vmid, "query-machines")) {
                if (machine.path("is-current").asBoolean(false)) {
                    return machine.path("name").asString();
                }
            }
            String type = runtime.command(vmid, "qom-get", Map.of("path", "/machine", "property", "type")).asString("");
            if (!type.endsWith("-machine")) {
                throw new ApiException(500, "VM " + vmid + ": unable to tell its machine type (QOM type '" + type + "')");
            }
            return type.substring(0, type.length() - "-machine".length());
        });
    }

    /** Runs an HMP command ({@code info status}); answers its text. */
    public String monitor(int vmid, String command) {
        return runtime.command(vmid, "human-monitor-command", Map.of("command-line", command), Duration.ofSeconds(30)).asString("");
    }

    static boolean agentEnabled(VmConfig config) {
        return config.get("agent").map(a -> "1".equals(PropertyStrings.parse(VmOptions.AGENT, a).get("enabled"))).orElse(false);
    }

    /** The agent of a running VM with {@code agent: 1}. */
    public GuestAgent agent(int vmid) {
        VmConfig config = configs.load(vmid).config();
        if (!agentEnabled(config)) {
            throw new ApiException(500, "No QEMU guest agent configured");
        }
        if (!runtime.isRunning(vmid)) {
            throw VmRuntime.notRunning(vmid);
        }
        return new GuestAgent(vmid, runtime.paths(vmid).agent());
    }

    /** {@code status/current}: state, resources and I/O counters, as Proxmox's vmstatus answers them. */
    public ObjectNode status(int vmid, VmConfig config, boolean full) {
        ObjectNode out = Json.object();
        Optional<Long> pid = runtime.pid(vmid);
        out.put("vmid", vmid);
        out.put("name", config.get("name").orElse("VM " + vmid));
        out.put("status", pid.isPresent() ? "running" : "stopped");
        out.put("cpus", config.vcpus());
        out.put("maxmem", config.memoryMiB() * Sizes.MIB);
        out.put("maxdisk", bootDiskSize(config));
        config.lock().ifPresent(l -> out.put("lock", l));
        config.get("tags").ifPresent(t -> out.put("tags", t));
        if (config.isTemplate()) {
            out.put("template", 1);
        }
        if (agentEnabled(config)) {
            out.put("agent", 1);
        }
        if (config.get("serial0").isPresent()) {
            out.put("serial", 1);
        }
        out.putObject("ha").put("managed", 0);
        if (pid.isEmpty()) {
            // a stopped VM uses nothing; a running one reports only what was measured
            out.put("disk", 0);
            out.put("cpu", 0);
            out.put("mem", 0);
            out.put("uptime", 0);
            out.put("netin", 0);
            out.put("netout", 0);
            out.put("diskread", 0);
            out.put("diskwrite", 0);
            if (full) {
                out.put("qmpstatus", "stopped");
            }
            return out;
        }
        out.put("pid", pid.get());
        Measured measured = measure(vmid, config, pid.get());
        measured.usage().fields().forEach((key, value) -> {
            if (value instanceof Double d) {
                out.put(key, d);
            } else {
                out.put(key, ((Number) value).longValue());
            }
        });
        try {
            out.put("qmpstatus", runtime.command(vmid, "query-status", Map.of(), Duration.ofSeconds(3)).path("status").asString());
            if (config.get("balloon").map(b -> !b.equals("0")).orElse(true)) {
                try {
                    out.put("balloon", runtime.command(vmid, "query-balloon", Map.of(), Duration.ofSeconds(3)).path("actual").asLong());
                } catch (ApiException e) {
                    log.debug("VM {}: no balloon info: {}", vmid, e.getMessage());
                }
            }
            if (full) {
                JsonNode version = runtime.command(vmid, "query-version", Map.of(), Duration.ofSeconds(3)).path("qemu");
                out.put("running-qemu", version.path("major").asInt() + "." + version.path("minor").asInt() + "."
                        + version.path("micro").asInt());
                out.put("running-machine", runningMachine(vmid));
            }
        } catch (ApiException e) {
            out.put("qmpstatus", "unknown");
            log.debug("VM {}: QMP status failed: {}", vmid, e.getMessage());
        }
        if (full) {
            out.set("nics", measured.nics());
            measured.blockstat().ifPresent(b -> out.set("blockstat", b));
        }
        return out;
    }

    /** A running VM's figures, with the per-NIC and per-drive counters {@code status/current} details. */
    private record Measured(GuestUsage.Usage usage, ObjectNode nics, Optional<ObjectNode> blockstat) {}

    /** The figures of running VM {@code vmid} (QEMU pid {@code pid}) for {@code /cluster/resources}. */
    public GuestUsage.Usage usage(int vmid, VmConfig config, long pid) {
        return measure(vmid, config, pid).usage();
    }

    /**
     * Measures a running VM: CPU share and memory from its cgroup (QEMU's /proc figures when it
     * runs outside one), uptime from the process start, network bytes from its taps, disk bytes
     * from QMP. What can't be measured stays empty.
     */
    private Measured measure(int vmid, VmConfig config, long pid) {
        OptionalLong uptime = GuestUsage.uptime(pid);
        Optional<VmRuntime.ProcessStat> stat = VmRuntime.stat(pid);
        Cgroup group = cgroups.group(vmid);
        CgroupStats stats = group.exists() ? group.stats() : null;
        OptionalLong cpuNanos = stats != null && stats.cpuNanos().isPresent() ? stats.cpuNanos()
                : stat.map(s -> OptionalLong.of(s.cpuTicks() * (1_000_000_000L / CLOCK_TICKS))).orElse(OptionalLong.empty());
        OptionalDouble cpu = cpuNanos.isPresent() ? cpuSamples.share(vmid, pid, cpuNanos.getAsLong(), uptime, config.vcpus())
                : OptionalDouble.empty();
        OptionalLong mem = stats != null && stats.memory().isPresent() ? stats.memory()
                : stat.map(s -> OptionalLong.of(s.rssBytes())).orElse(OptionalLong.empty());
        long netin = 0;
        long netout = 0;
        ObjectNode nics = Json.object();
        for (NetDevice net : config.nets()) {
            long[] bytes = HostNetwork.tapBytes(net.tapName(vmid));
            // the host receives what the guest sends
            netout += bytes[0];
            netin += bytes[1];
            ObjectNode nic = nics.putObject(net.tapName(vmid));
            nic.put("netin", bytes[1]);
            nic.put("netout", bytes[0]);
        }
        OptionalLong read = OptionalLong.empty();
        OptionalLong written = OptionalLong.empty();
        Optional<ObjectNode> blockstat = Optional.empty();
        try {
            long r = 0;
            long w = 0;
            ObjectNode devices = Json.object();
            for (JsonNode device : runtime.command(vmid, "query-blockstats", Map.of(), Duration.ofSeconds(3))) {
                String name = device.path("device").asString().replaceFirst("^drive-", "");
                JsonNode counters = device.path("stats");
                r += counters.path("rd_bytes").asLong();
                w += counters.path("wr_bytes").asLong();
                if (!name.isEmpty()) {
                    devices.set(name, counters);
                }
            }
            read = OptionalLong.of(r);
            written = OptionalLong.of(w);
            blockstat = Optional.of(devices);
        } catch (ApiException e) {
            log.debug("VM {}: no block statistics: {}", vmid, e.getMessage());
        }
        return new Measured(new GuestUsage.Usage(cpu, mem, uptime, read, written, OptionalLong.of(netin), OptionalLong.of(netout)),
                nics, blockstat);
    }

    /** The size of the boot disk (first disk of the boot order, else the first disk). */
    public static long bootDiskSize(VmConfig config) {
        Map<String, Drive> drives = config.drives();
        List<String> candidates = new ArrayList<>(QemuCommandLine.bootOrder(config));
        candidates.addAll(drives.keySet());
        for (String key : candidates) {
            Drive drive = drives.get(key);
            if (drive != null && !drive.isCdrom() && drive.size().isPresent()) {
                return drive.size().get();
            }
        }
        return 0;
    }

    /**
     * Removes the cgroups that stopped VMs left (QEMU quit on its own, or the daemon was down);
     * each under the VM's lock, so that no start is creating the group at the same time.
     */
    public void sweepCgroups() {
        for (int vmid : cgroups.vmids()) {
            ReentrantLock lock = runtime.vmLock(vmid);
            if (lock.tryLock()) {
                try {
                    if (!runtime.isRunning(vmid)) {
                        cgroups.removeIfIdle(vmid);
                    }
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /** VMs found running at daemon start: their QMP connection is opened again. */
    public Map<Integer, Long> recover() {
        Map<Integer, Long> found = new LinkedHashMap<>();
        for (int vmid : configs.list()) {
            Optional<Long> pid = runtime.pid(vmid);
            if (pid.isPresent()) {
                try {
                    runtime.qmp(vmid);
                    found.put(vmid, pid.get());
                    log.info("Found running VM {} (pid {})", vmid, pid.get());
                } catch (RuntimeException e) {
                    log.warn("VM {} runs as pid {} but its QMP socket does not answer: {}", vmid, pid.get(), e.getMessage());
                }
            }
        }
        return found;
    }

    private void freeQuietly(String volid, TaskContext ctx) {
        try {
            volumes.free(volid);
        } catch (RuntimeException e) {
            ctx.warn("unable to free %s: %s", volid, e.getMessage());
        }
    }

    /** Refuses a lock unless it is {@code allowed}. */
    static void checkLockExcept(VmConfig config, String allowed) {
        config.lock().filter(l -> !l.equals(allowed)).ifPresent(l -> {
            throw new Conflict("VM is locked (" + l + ")");
        });
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(500, "interrupted");
        }
    }
}
