package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.corral.core.cgroup.CgroupHost;
import org.corral.core.guest.GuestUsage;
import org.corral.core.error.ApiException;
import org.corral.core.error.NotFound;
import org.corral.qemu.api.VmAgentApi;
import org.corral.qemu.api.VmApi;
import org.corral.qemu.api.VmCloneApi;
import org.corral.qemu.api.VmConsoleApi;
import org.corral.qemu.api.VmDiskApi;
import org.corral.qemu.api.VmMonitorApi;
import org.corral.qemu.api.VmSnapshotApi;
import org.corral.qemu.api.VmStatusApi;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.VmConfig;
import org.corral.core.access.AuthContext;
import org.corral.core.api.ApiModule;
import org.corral.core.config.ConfigStore;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.node.Node;
import org.corral.core.task.TaskManager;
import org.corral.qemu.disk.StorageVolumes;
import org.corral.qemu.disk.Volumes;
import org.corral.storage.StorageService;

/**
 * The qemu module of one node: VM configs, QEMU processes, disks, snapshots, clones, consoles and
 * the {@code /nodes/{node}/qemu} API. The server constructs one per node and registers
 * {@link #apiModules()}; closing it leaves the VMs running.
 */
public final class QemuService implements AutoCloseable {
    private final Node node;
    private final TaskManager tasks;
    private final ConsoleProxies consoles;
    private final Volumes volumes;
    private final Clock clock;
    private final VmConfigs configs;
    private final VmRuntime runtime;
    private final QemuDriver driver;
    private final VmEditor editor;
    private final DiskOperations disks;
    private final Snapshots snapshots;
    private final Clones clones;
    private final Consoles consoleService;

    /** The service of {@code node}, its disks on {@code storage}, KVM probed once when first asked for. */
    public QemuService(Node node, ConfigStore store, TaskManager tasks, ConsoleProxies consoles, StorageService storage, Clock clock) {
        this(node, store, tasks, consoles, new StorageVolumes(storage), clock, KvmProbe.standard(VmPaths.directory(node)));
    }

    /** As above, with the volumes behind any {@link Volumes} and the KVM verdict from {@code kvm} (tests force one). */
    public QemuService(Node node, ConfigStore store, TaskManager tasks, ConsoleProxies consoles, Volumes volumes, Clock clock,
            KvmProbe kvm) {
        this.node = requireNonNull(node, "node is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
        this.consoles = requireNonNull(consoles, "consoles is null");
        this.volumes = requireNonNull(volumes, "volumes is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.configs = new VmConfigs(node, requireNonNull(store, "store is null"));
        this.runtime = new VmRuntime(node);
        this.driver = new QemuDriver(configs, runtime, volumes, requireNonNull(kvm, "kvm is null"),
                new CloudInit(Path.of("/etc/resolv.conf")), new HostNetwork(), clock, new VmCgroups(node, CgroupHost.detect()),
                new QemuMachines());
        this.editor = new VmEditor(configs, driver, volumes, new HostNetwork(), tasks, clock, Path.of("/usr/share/OVMF"));
        this.disks = new DiskOperations(configs, runtime, volumes);
        this.snapshots = new Snapshots(configs, driver, volumes, clock);
        this.clones = new Clones(configs, runtime, volumes);
        this.consoleService = new Consoles(node, configs, runtime, consoles, tasks);
    }

    /** {@code POST /nodes/{node}/qemu} with {@code archive=}: a {@code qmrestore} task. */
    public String restore(org.corral.core.api.ApiRequest request, int vmid) {
        return new VmRestore(this).restore(request, vmid);
    }

    /** VMs as backup (and later migration and HA) reach them. */
    public QemuGuestDriver guestDriver() {
        return new QemuGuestDriver(this);
    }

    public Node node() {
        return node;
    }

    public VmConfigs configs() {
        return configs;
    }

    public QemuDriver driver() {
        return driver;
    }

    public TaskManager tasks() {
        return tasks;
    }

    public ConsoleProxies consoles() {
        return consoles;
    }

    public Volumes volumes() {
        return volumes;
    }

    public Clock clock() {
        return clock;
    }

    public List<ApiModule> apiModules() {
        return List.of(new VmApi(this, editor), new VmStatusApi(this), new VmDiskApi(this, disks, editor),
                new VmSnapshotApi(this, snapshots), new VmCloneApi(this, clones), new VmConsoleApi(this, consoleService),
                new VmAgentApi(this), new VmMonitorApi(this));
    }

    /**
     * Takes control again of the VMs that run on this node (after a daemon restart): finds them by
     * pidfile and command line and reconnects their QMP sockets. Answers their VMIDs.
     */
    public List<Integer> recover() {
        List<Integer> found = List.copyOf(driver.recover().keySet());
        driver.sweepCgroups();
        return found;
    }

    /** The VMIDs of this node's running VMs. */
    public List<Integer> running() {
        return configs.list().stream().filter(runtime::isRunning).toList();
    }

    /** The measured figures of this node's running VMs, for {@code /cluster/resources}. */
    public GuestUsage usage() {
        return () -> {
            Map<Integer, GuestUsage.Usage> out = new TreeMap<>();
            for (int vmid : configs.list()) {
                runtime.pid(vmid).ifPresent(pid -> configs.find(vmid).ifPresent(loaded -> {
                    try {
                        out.put(vmid, driver.usage(vmid, loaded.config(), pid));
                    } catch (RuntimeException e) {
                        // the VM runs even if its figures can't be had
                        out.put(vmid, GuestUsage.Usage.unmeasured());
                    }
                }));
            }
            return out;
        };
    }

    /**
     * Starts the VMs with {@code onboot: 1} in their {@code startup} order (waiting {@code up}
     * seconds after each), as one {@code startall} task; empty when there is none to start.
     */
    public Optional<String> startOnBoot(AuthContext user) {
        record OnBoot(int vmid, int order, int up) {}
        java.util.List<OnBoot> vms = new java.util.ArrayList<>();
        for (int vmid : configs.list()) {
            VmConfig config = configs.find(vmid).map(VmConfigs.Loaded::config).orElse(VmConfig.empty());
            if (config.flag("onboot", false) && !config.isTemplate() && !runtime.isRunning(vmid)) {
                Map<String, String> startup = config.get("startup")
                        .map(v -> org.corral.qemu.config.PropertyStrings.parse(org.corral.qemu.config.VmOptions.STARTUP, v)).orElse(Map.of());
                vms.add(new OnBoot(vmid, Integer.parseInt(startup.getOrDefault("order", Integer.toString(Integer.MAX_VALUE))),
                        Integer.parseInt(startup.getOrDefault("up", "0"))));
            }
        }
        if (vms.isEmpty()) {
            return Optional.empty();
        }
        vms.sort(java.util.Comparator.comparingInt(OnBoot::order).thenComparingInt(OnBoot::vmid));
        return Optional.of(tasks.start("startall", "", user.authid(), ctx -> {
            for (OnBoot vm : vms) {
                ctx.log("Starting VM %d", vm.vmid());
                try {
                    driver.start(vm.vmid(), QemuDriver.StartOptions.defaults(), ctx);
                    if (vm.up() > 0) {
                        Thread.sleep(vm.up() * 1000L);
                    }
                } catch (RuntimeException e) {
                    ctx.warn("Starting VM %d failed: %s", vm.vmid(), e.getMessage());
                }
            }
        }).format());
    }

    public VmEditor editor() {
        return editor;
    }

    /** Rebuilds the cloud-init drive of a VM. */
    public void cloudInitRegenerate(int vmid) {
        driver.regenerateCloudInit(vmid);
    }

    /** One generated cloud-init file: {@code user}, {@code network} or {@code meta}. */
    public String cloudInitDump(int vmid, String type) {
        CloudInit.CloudInitFiles files = driver.cloudInitFiles(vmid, configs.load(vmid).config());
        return switch (type) {
            case "user" -> files.userData();
            case "network" -> files.networkConfig();
            default -> files.metaData();
        };
    }

    public void sendKey(int vmid, String key) {
        driver.sendKey(vmid, key);
    }

    /** Proxmox's vm_feature: snapshots and linked clones need every disk's storage to support them. */
    public boolean hasFeature(int vmid, String feature, Optional<String> snapshot) {
        VmConfig config = configs.load(vmid).config();
        Map<String, String> section = snapshot.map(s -> (Map<String, String>) config.snapshots().get(s)).orElse(config.options());
        if (section == null) {
            throw new NotFound("snapshot '" + snapshot.get() + "' does not exist");
        }
        for (Drive drive : VmConfig.drives(section).values()) {
            if (drive.isCdrom() || !drive.isVolume()) {
                continue;
            }
            boolean ok = switch (feature) {
                case "snapshot" -> volumes.hasFeature(drive.file(), Volumes.Feature.SNAPSHOT);
                case "clone" -> volumes.hasFeature(drive.file(), Volumes.Feature.CLONE);
                default -> true;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Closes the QMP connections; the VMs keep running and a new service finds them again. */
    @Override
    public void close() {
        runtime.close();
        // running VMs keep their groups; those of stopped ones go, and the node's directory if empty
        driver.sweepCgroups();
        driver.cgroups().removeBaseIfEmpty();
    }
}
