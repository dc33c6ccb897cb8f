package org.corral.server;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.corral.access.AccessControl;
import org.corral.access.AccessSettings;
import org.corral.access.RequestCredentials;
import org.corral.access.config.Pool;
import org.corral.access.config.UserConfigCodec;
import org.corral.backup.datastore.DatastorePlugin;
import org.corral.backup.vzdump.PruneBackupsApi;
import org.corral.backup.vzdump.Vzdump;
import org.corral.backup.vzdump.VzdumpApi;
import org.corral.core.guest.GuestDriver;
import org.corral.cluster.ClusterMembership;
import org.corral.cluster.ClusterStore;
import org.corral.cluster.JoinTokens;
import org.corral.cluster.StoreTimings;
import org.corral.core.access.AuthContext;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.OpenApi;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.KeyValueConfig;
import org.corral.core.json.Json;
import org.corral.core.node.Node;
import org.corral.core.task.TaskManager;
import org.corral.firewall.FirewallService;
import org.corral.firewall.nft.FirewallEnforcer;
import org.corral.storage.Host;
import org.corral.storage.PluginRegistry;
import org.corral.storage.StorageService;
import org.corral.lxc.LxcService;
import org.corral.qemu.QemuService;
import org.corral.core.console.ConsoleProxies;
import org.corral.server.api.RunningGuests;
import java.util.Map;
import org.corral.server.api.CertificateApi;
import org.corral.server.api.ClusterApi;
import org.corral.server.api.ClusterConfigApi;
import org.corral.server.api.ClusterJoin;
import org.corral.server.api.GuestIndex;
import org.corral.server.api.NodeApi;
import org.corral.server.api.TaskApi;
import org.corral.server.api.WriteThroughStore;
import org.corral.server.api.Versions;
import org.corral.server.host.HostStatus;
import org.corral.server.rrd.MetricsCollector;
import org.corral.server.rrd.MetricsStore;
import org.corral.server.rrd.RrdApi;
import org.corral.server.rrd.RrdLayout;
import org.corral.server.http.ApiHttpServer;
import org.corral.server.http.NodeProxy;
import org.corral.server.http.AuditLog;
import org.corral.server.http.RequestAuthenticator;
import org.corral.cluster.tls.CertificateAuthority;
import org.corral.server.tls.CertificateInfo;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.server.tls.NodeTls;
import org.corral.server.tls.PemPair;
import org.corral.cluster.tls.SubjectAltNames;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * One node: its config store member, access control, task manager and HTTPS API. The first start
 * on an empty data directory initializes a single-node cluster; later starts keep everything.
 */
public final class CorralDaemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CorralDaemon.class);

    /**
     * How to start a node; {@code port} 0 picks a free port (tests). {@code enforceFirewall} loads
     * the firewall into this host's nftables; in-process test nodes share the host's network
     * namespace, so they leave it off. {@code outboundTls} is the TLS of the node's calls to OpenID
     * providers; empty for the JVM's default trust (tests give their provider's CA). {@code rrdLayout}
     * is the step of the graphs' RRD files: Proxmox's 60 s, shorter in tests.
     */
    public record Options(String nodeName, Path dataDir, String bind, int port, Optional<String> adminPassword,
            boolean enforceFirewall, Optional<SSLContext> outboundTls, RrdLayout rrdLayout) {
        public Options {
            requireNonNull(nodeName, "nodeName is null");
            requireNonNull(dataDir, "dataDir is null");
            requireNonNull(bind, "bind is null");
            requireNonNull(adminPassword, "adminPassword is null");
            requireNonNull(outboundTls, "outboundTls is null");
            requireNonNull(rrdLayout, "rrdLayout is null");
        }

        public Options(String nodeName, Path dataDir, String bind, int port, Optional<String> adminPassword,
                boolean enforceFirewall, Optional<SSLContext> outboundTls) {
            this(nodeName, dataDir, bind, port, adminPassword, enforceFirewall, outboundTls, RrdLayout.PROXMOX);
        }

        public Options(String nodeName, Path dataDir, String bind, int port, Optional<String> adminPassword,
                boolean enforceFirewall) {
            this(nodeName, dataDir, bind, port, adminPassword, enforceFirewall, Optional.empty());
        }

        public Options(String nodeName, Path dataDir, String bind, int port, Optional<String> adminPassword) {
            this(nodeName, dataDir, bind, port, adminPassword, false);
        }
    }

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Node node;
    private final ConfigStore store;
    private final AccessControl access;
    private final TaskManager tasks;
    private final ApiRegistry registry;
    private final ApiHttpServer http;
    private final Optional<String> generatedPassword;
    private final boolean initialized;
    private final String localSecret;
    private volatile String servedFingerprint;
    private final ClusterMembership membership;
    private final long serverId;
    private final CompletableFuture<Void> restartRequested = new CompletableFuture<>();
    private static final String DATACENTER_CFG = "datacenter.cfg";

    private void rememberStoreTimings() {
        Optional<String> value = store.read(DATACENTER_CFG).map(f -> KeyValueConfig.parse(f.text()).get(StoreTimings.OPTION));
        try {
            Optional<StoreTimings> timings = value.map(StoreTimings::parse);
            if (StoreTimings.remember(node.localDir(), timings)) {
                log.warn("The config store's timeouts changed to {}: they take effect at this node's next start",
                        timings.orElse(StoreTimings.DEFAULTS).format());
            }
        } catch (IllegalArgumentException e) {
            log.error("datacenter.cfg: invalid {} '{}', keeping the current timeouts: {}", StoreTimings.OPTION, value.orElse(""), e.getMessage());
        } catch (RuntimeException e) {
            log.error("Can't keep the config store's timeouts for the next start", e);
        }
    }

    private CorralDaemon(Options options) throws Exception {
        try {
            Path dataDir = options.dataDir().toAbsolutePath();
            Files.createDirectories(dataDir);
            Optional<Node.ZooKeeperPorts> known = NodeSettings.read(dataDir, options.nodeName());
            this.initialized = known.isEmpty();
            Node.ZooKeeperPorts zk = known.isPresent() ? known.get() : NodeSettings.choose(options.port());
            String zkBind = options.bind().equals("0.0.0.0") || options.bind().equals("::") ? "127.0.0.1" : options.bind();
            this.node = new Node(options.nodeName(), dataDir, dataDir.resolve("run"), zkBind, options.port(), zk);
            Files.createDirectories(node.runDir());
            Files.createDirectories(node.localDir());
            // ZooKeeper's files, the audit log and task logs: nothing for other local users
            Files.setPosixFilePermissions(node.localDir(), PosixFilePermissions.fromString("rwx------"));

            ClusterStore cluster = ClusterStore.start(node);
            resources.add(cluster);
            GuestIndex guests = new GuestIndex(cluster.store());
            resources.add(guests);
            // this node's writes reach the guest index before they return; other nodes' through its watch
            this.store = new WriteThroughStore(cluster.store(), guests::changed);
            if (initialized) {
                NodeSettings.write(dataDir, node.name(), zk);
            }
            // the store's timeouts are read before the store runs: keep datacenter.cfg's for the next start
            resources.add(store.watch(DATACENTER_CFG, path -> rememberStoreTimings()));
            rememberStoreTimings();
            this.generatedPassword = AccessControl.initialize(store, options.adminPassword());
            CertifiedKey served = certificates();
            this.servedFingerprint = CertificateInfo.fingerprint(served.certificate());
            if (store.read("nodes/" + node.name() + "/config").isEmpty()) {
                store.overwrite("nodes/" + node.name() + "/config", "");
            }

            Clock clock = Clock.systemDefaultZone();
            this.tasks = new TaskManager(node);
            resources.add(tasks);
            AccessSettings accessSettings = options.outboundTls().map(AccessSettings.defaults()::withOutboundTls)
                    .orElse(AccessSettings.defaults());
            // the consoles of both guest types; access checks their tickets for POST /access/vncticket
            ConsoleProxies consoles = new ConsoleProxies(clock);
            this.access = new AccessControl(store, clock, accessSettings, Optional.of(tasks), consoles);
            resources.add(access);
            StorageService storage = new StorageService(node, store, tasks, clock,
                    PluginRegistry.standard(Host.system()).with(List.of(new DatastorePlugin())));
            storage.initialize();
            LxcService containers = new LxcService(node, store, tasks, consoles, storage, clock);
            List<Integer> adopted = containers.recover();
            if (!adopted.isEmpty()) {
                log.info("Took control again of running containers {}", adopted);
            }
            QemuService vms = new QemuService(node, store, tasks, consoles, storage, clock);
            // closes the QMP connections only: the VMs keep running
            resources.add(vms::close);
            List<Integer> adoptedVms = vms.recover();
            if (!adoptedVms.isEmpty()) {
                log.info("Took control again of running VMs {}", adoptedVms);
            }
            List<GuestDriver> guestDrivers = List.of(containers.guestDriver(), vms.guestDriver());
            RunningGuests running = new RunningGuests(clock, Map.of(guestDrivers.get(0).type(), containers.usage(),
                    guestDrivers.get(1).type(), vms.usage()));
            if (firstStartSinceHostBoot()) {
                // onboot guests start once per host boot, as Proxmox's pve-guests does, not on every daemon restart
                vms.startOnBoot(AuthContext.user(AuthContext.ROOT, "127.0.0.1"))
                        .ifPresent(upid -> log.info("Starting onboot VMs: {}", upid));
                containers.power().startOnBoot(AuthContext.ROOT).ifPresent(upid -> log.info("Starting onboot containers: {}", upid));
            }
            AuditLog audit = new AuditLog(node.localDir().resolve("log/audit.log"), node.name(), clock);

            SslContextFactory.Server tls = NodeTls.sslContextFactory(served);
            NodeApi nodeApi = new NodeApi(node, HostStatus.local(), clock,
                    CertificateInfo.fingerprint(served.certificate()));
            this.membership = new ClusterMembership(store);
            this.serverId = cluster.zooKeeper().serverId();
            resources.add(cluster.store().announce(node.name()));
            ClusterJoin join = new ClusterJoin(node, cluster, membership, tasks, this::port, () -> restartRequested.complete(null));
            ClusterConfigApi clusterConfig = new ClusterConfigApi(node, cluster, membership, new JoinTokens(store, clock), guests, tasks, join);
            List<ApiModule> modules = new ArrayList<>(List.of(
                    nodeApi,
                    new ClusterApi(node, store, guests, nodeApi, storage, running, audit, clusterConfig),
                    clusterConfig,
                    new TaskApi(node, tasks),
                    new CertificateApi(node, store, key -> serve(tls, key))));
            modules.addAll(access.apiModules());
            modules.addAll(storage.apiModules());
            modules.addAll(containers.apiModules());
            modules.addAll(vms.apiModules());
            Vzdump vzdump = new Vzdump(node, storage, tasks, clock, guestDrivers, () -> membership.read().name());
            // pct restore of a container backup kept in a datastore reads its tar stream through vzdump
            containers.backupStreams(vzdump::openContainerArchive);
            modules.add(new VzdumpApi(vzdump, pool -> store.read("user.cfg")
                    .flatMap(f -> UserConfigCodec.parse(f.text()).pool(pool)).map(Pool::vms)));
            modules.add(new PruneBackupsApi(storage));
            FirewallService firewall = new FirewallService(node, store);
            // not started, it still compiles the files for the simulator
            FirewallEnforcer enforcer = FirewallEnforcer.local(firewall);
            if (options.enforceFirewall()) {
                resources.add(enforcer.start());
            }
            modules.addAll(firewall.apiModules(enforcer));
            MetricsStore metrics = new MetricsStore(node.localDir().resolve("rrd"), options.rrdLayout());
            resources.add(metrics);
            // samples six times a step, as pvestatd's 10 s do for rrdcached's 60 s
            long collectMillis = Math.max(1000, options.rrdLayout().step().toMillis() / 6);
            resources.add(new MetricsCollector(node.name(), metrics, HostStatus.local(), Path.of("/proc"), running, guests, storage,
                    clock).start(java.time.Duration.ofMillis(collectMillis)));
            modules.add(new RrdApi(node, metrics, guests, storage, clock));
            this.registry = new ApiRegistry(modules);
            ObjectNode openApi = OpenApi.document(registry, "Corral API", Versions.CORRAL_VERSION);

            this.localSecret = HexFormat.of().formatHex(randomBytes());
            // the HTTPS layer gets what checks tickets, never what signs them
            RequestCredentials credentials = access.requestCredentials();
            RequestAuthenticator authenticator = new RequestAuthenticator() {
                @Override
                public Optional<AuthContext> ticket(String ticket, String clientAddress) {
                    return credentials.ticket(ticket, clientAddress);
                }

                @Override
                public boolean csrf(String token, String userid) {
                    return credentials.csrf(token, userid);
                }

                @Override
                public AuthContext apiToken(String value, String clientAddress) {
                    return credentials.apiToken(value, clientAddress);
                }
            };
            this.http = new ApiHttpServer(new ApiDispatcher(registry, access, store::quorate), authenticator, audit, localSecret,
                    () -> openApi, new NodeProxy(node.name(), membership::read), tls, options.bind(), options.port());
            http.start();
            resources.add(http);
            membership.register(node, serverId, node.bind(), http.port(), servedFingerprint);
            writeLocalAccess();
            log.info("Node {} serves https://{}:{}/", node.name(), options.bind(), http.port());
        } catch (Exception | Error e) {
            closeResources();
            throw e;
        }
    }

    /** Whether this host booted since the daemon last ran here; remembers the boot for next time. */
    private boolean firstStartSinceHostBoot() throws IOException {
        Path bootId = Path.of("/proc/sys/kernel/random/boot_id");
        if (!Files.isReadable(bootId)) {
            return false;
        }
        String current = Files.readString(bootId).strip();
        Path seen = node.localDir().resolve("last-boot-id");
        boolean first = !Files.exists(seen) || !Files.readString(seen).strip().equals(current);
        Files.writeString(seen, current + "\n");
        return first;
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    public static CorralDaemon start(Options options) throws Exception {
        return new CorralDaemon(options);
    }

    /** The cluster CA and this node's certificate, created on first start; an uploaded one wins. */
    private CertifiedKey certificates() {
        Clock clock = Clock.systemUTC();
        CertificateAuthority ca;
        Optional<String> caPem = store.read("pve-root-ca.pem").map(f -> f.text());
        if (caPem.isEmpty()) {
            ca = CertificateAuthority.generate(clock);
            store.overwrite("priv/pve-root-ca.key", ca.privateKeyPem());
            store.overwrite("pve-root-ca.pem", ca.certificatePem());
        } else {
            ca = CertificateAuthority.fromPem(caPem.get(), store.read("priv/pve-root-ca.key").orElseThrow().text(), clock);
        }
        String name = node.name();
        if (store.read(CertificateApi.issuedCert(name)).isEmpty()) {
            CertifiedKey issued = ca.issue(name, SubjectAltNames.discover(name));
            store.overwrite(CertificateApi.issuedKey(name), issued.privateKeyPem());
            store.overwrite(CertificateApi.issuedCert(name), issued.chainPem());
        }
        PemPair issued = new PemPair(store.read(CertificateApi.issuedCert(name)).orElseThrow().text(),
                store.read(CertificateApi.issuedKey(name)).orElseThrow().text());
        Optional<PemPair> custom = store.read(CertificateApi.customCert(name)).flatMap(cert ->
                store.read(CertificateApi.customKey(name)).map(key -> new PemPair(cert.text(), key.text())));
        return NodeTls.choose(custom, issued, clock);
    }

    private void serve(SslContextFactory.Server tls, CertifiedKey key) {
        try {
            tls.reload(factory -> factory.setKeyStore(NodeTls.keyStore(key)));
            servedFingerprint = CertificateInfo.fingerprint(key.certificate());
            // joining nodes pin the fingerprint cluster.cfg records
            membership.register(node, serverId, node.bind(), http.port(), servedFingerprint);
            writeLocalAccess();
        } catch (Exception e) {
            throw new IllegalStateException("cannot switch to the new certificate: " + e.getMessage(), e);
        }
    }

    /** Lets the local CLI act as root@pam: the port and a per-start secret, readable by root only. */
    private void writeLocalAccess() throws IOException {
        ObjectNode json = Json.object();
        json.put("port", http.port());
        json.put("node", node.name());
        json.put("secret", localSecret);
        json.put("fingerprint", servedFingerprint);
        Path file = localAccessFile(node.dataDir());
        Path tmp = file.resolveSibling("local-api.json.tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, Json.write(json), StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    public static Path localAccessFile(Path dataDir) {
        return dataDir.resolve("run/local-api.json");
    }

    public Node node() {
        return node;
    }

    /** Completes when the node must restart its services, as after joining a cluster; {@link DaemonRunner} does it. */
    public CompletableFuture<Void> restartRequested() {
        return restartRequested;
    }

    public int port() {
        return http.port();
    }

    public ConfigStore store() {
        return store;
    }

    public ApiRegistry registry() {
        return registry;
    }

    public TaskManager tasks() {
        return tasks;
    }

    public AccessControl access() {
        return access;
    }

    /** The administrator password made up on first start, when none was given. */
    public Optional<String> generatedAdminPassword() {
        return generatedPassword;
    }

    public boolean initializedNow() {
        return initialized;
    }

    @Override
    public void close() {
        closeResources();
        try {
            Files.deleteIfExists(localAccessFile(node.dataDir()));
        } catch (IOException e) {
            log.warn("Cannot remove {}", localAccessFile(node.dataDir()), e);
        }
    }

    private void closeResources() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                log.warn("Error while stopping {}", resources.get(i), e);
            }
        }
        resources.clear();
    }
}
