package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.corral.core.api.ApiModule;
import org.corral.core.config.ConfigStore;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.guest.GuestUsage;
import org.corral.core.node.Node;
import org.corral.core.schema.Formats;
import org.corral.core.task.TaskBody;
import org.corral.core.task.TaskManager;
import org.corral.lxc.api.AplInfoApi;
import org.corral.lxc.api.LxcConfigApi;
import org.corral.lxc.api.LxcConsoleApi;
import org.corral.lxc.api.LxcDiskApi;
import org.corral.lxc.api.LxcExecApi;
import org.corral.lxc.api.LxcIndexApi;
import org.corral.lxc.api.LxcSnapshotApi;
import org.corral.lxc.api.LxcStatusApi;
import org.corral.lxc.config.CtConfig;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.template.GuestSetup;
import org.corral.storage.StorageService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The container layer of one node: everything under {@code /nodes/{node}/lxc} and
 * {@code /nodes/{node}/aplinfo}. The server constructs one and registers {@link #apiModules()};
 * {@link #recover()} after a restart reports the containers LXC still runs, which are then
 * managed as before (all state lives in LXC, the cgroups and the config store).
 */
public final class LxcService {
    private static final Logger log = LoggerFactory.getLogger(LxcService.class);
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Node node;
    private final ConfigStore store;
    private final TaskManager tasks;
    private final ConsoleProxies consoles;
    private final ContainerStorage storage;
    private final Clock clock;
    private final LxcDriver driver;
    private final GuestSetup.HostDns hostDns;
    private final CtConfigs configs;
    private final SecureRandom random = new SecureRandom();
    private final Power power;
    private final Provisioning provisioning;
    private final Snapshots snapshots;
    private final ConfigEditor editor;
    private final Consoles consoleService;
    private final LxcGuestDriver guestDriver;
    private volatile BackupStreams backupStreams = BackupStreams.NONE;

    public LxcService(Node node, ConfigStore store, TaskManager tasks, ConsoleProxies consoles, ContainerStorage storage, Clock clock) {
        this(node, store, tasks, consoles, storage, clock,
                new LxcDriver(node, HostFacts.detect(), storage, new SubIds(), new HostNetwork()),
                GuestSetup.HostDns.read(Path.of("/etc/resolv.conf")));
    }

    /** The server's constructor: containers keep their volumes on {@code storage}'s storages. */
    public LxcService(Node node, ConfigStore store, TaskManager tasks, ConsoleProxies consoles, StorageService storage,
            Clock clock) {
        this(node, store, tasks, consoles, new StorageServiceAdapter(storage), clock);
    }

    /** With the driver and the DNS settings new containers inherit given, as tests and benchmarks need. */
    public LxcService(Node node, ConfigStore store, TaskManager tasks, ConsoleProxies consoles, ContainerStorage storage, Clock clock,
            LxcDriver driver, GuestSetup.HostDns hostDns) {
        this.node = requireNonNull(node, "node is null");
        this.store = requireNonNull(store, "store is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
        this.consoles = requireNonNull(consoles, "consoles is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.driver = requireNonNull(driver, "driver is null");
        this.hostDns = requireNonNull(hostDns, "hostDns is null");
        this.configs = new CtConfigs(node.name(), store);
        this.power = new Power(this);
        this.provisioning = new Provisioning(this);
        this.snapshots = new Snapshots(this);
        this.editor = new ConfigEditor(this);
        this.consoleService = new Consoles(this);
        this.guestDriver = new LxcGuestDriver(this);
    }

    /** How restore reads backups that are not files (datastore snapshots); see {@link BackupStreams}. */
    public void backupStreams(BackupStreams streams) {
        this.backupStreams = requireNonNull(streams, "streams is null");
    }

    BackupStreams backupStreams() {
        return backupStreams;
    }

    public List<ApiModule> apiModules() {
        return List.of(new LxcIndexApi(this), new LxcConfigApi(this), new LxcStatusApi(this), new LxcSnapshotApi(this),
                new LxcDiskApi(this), new LxcConsoleApi(this), new LxcExecApi(this), new AplInfoApi(this));
    }

    /**
     * Takes over after a daemon restart: answers the containers of this node that LXC still runs
     * (they kept running while the daemon was away) and drops generated configs of containers
     * that no longer exist.
     */
    public List<Integer> recover() {
        List<Integer> running = driver.running();
        List<Integer> known = configs.list();
        for (int vmid : running) {
            if (known.contains(vmid)) {
                log.info("CT {} is running; managing it again", vmid);
            } else {
                log.warn("LXC runs CT {} under {} but node {} has no config for it", vmid, driver.lxcPath(), node.name());
            }
        }
        return running.stream().filter(known::contains).toList();
    }

    /** The measured figures of this node's running containers, for {@code /cluster/resources}. */
    public GuestUsage usage() {
        return () -> {
            Map<Integer, GuestUsage.Usage> out = new TreeMap<>();
            for (int vmid : driver.running()) {
                configs.find(vmid).flatMap(loaded -> driver.usage(vmid, loaded.config().main()))
                        .ifPresent(usage -> out.put(vmid, usage.figures()));
            }
            return out;
        };
    }

    /** Containers as backup (and later migration and HA) reach them. */
    public LxcGuestDriver guestDriver() {
        return guestDriver;
    }

    public Node node() {
        return node;
    }

    public ConfigStore store() {
        return store;
    }

    public TaskManager tasks() {
        return tasks;
    }

    public ConsoleProxies consoles() {
        return consoles;
    }

    public ContainerStorage storage() {
        return storage;
    }

    public Clock clock() {
        return clock;
    }

    public LxcDriver driver() {
        return driver;
    }

    public CtConfigs configs() {
        return configs;
    }

    public GuestSetup.HostDns hostDns() {
        return hostDns;
    }

    SecureRandom random() {
        return random;
    }

    public Power power() {
        return power;
    }

    public Provisioning provisioning() {
        return provisioning;
    }

    public Snapshots snapshots() {
        return snapshots;
    }

    public ConfigEditor editor() {
        return editor;
    }

    public Consoles consoleService() {
        return consoleService;
    }

    /** Refuses a {@code node} parameter that names another node: the calls here act on this one. */
    public void checkNode(String name) {
        node.requireLocal(name);
    }

    /** Starts a worker task and answers its UPID text. */
    public String task(String type, int vmid, String user, TaskBody body) {
        return tasks.start(type, Integer.toString(vmid), user, body).format();
    }

    /** A random MAC address in Proxmox's prefix {@code BC:24:11}. */
    public String randomMac() {
        byte[] b = new byte[3];
        random.nextBytes(b);
        return String.format("BC:24:11:%02X:%02X:%02X", b[0] & 0xff, b[1] & 0xff, b[2] & 0xff);
    }

    /** The current section with pending changes applied: what the next start uses. */
    static CtSection effective(CtConfig config) {
        CtSection main = config.main();
        Map<String, String> options = new LinkedHashMap<>(main.options());
        config.pending().options().forEach((k, v) -> {
            if (!k.equals("delete")) {
                options.put(k, v);
            }
        });
        Optional.ofNullable(config.pending().options().get("delete"))
                .ifPresent(d -> Formats.splitList(d).forEach(options::remove));
        return new CtSection(main.description(), new TreeMap<>(options), main.lxc());
    }
}
