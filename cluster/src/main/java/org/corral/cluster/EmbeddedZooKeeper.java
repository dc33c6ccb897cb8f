package org.corral.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import javax.security.sasl.SaslException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.server.DatadirCleanupManager;
import org.apache.zookeeper.server.NettyServerCnxnFactory;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.quorum.QuorumPeer;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import org.apache.zookeeper.server.quorum.QuorumPeerMain;
import org.apache.zookeeper.util.ServiceUtils;
import org.corral.core.io.FileTrees;
import org.corral.core.node.Node;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ZooKeeper voting member running inside this JVM for a {@link Node}. It always runs as a
 * quorum peer (never standalone) with reconfig enabled, so a one-member ensemble can later grow
 * into a cluster by {@code reconfig}. Its files live under {@code node.localDir()/zookeeper}:
 * {@code zoo.cfg} (static), {@code zoo.cfg.dynamic[.version]} (membership, rewritten by ZooKeeper
 * on reconfig), {@code data/} (myid, snapshots) and {@code log/} (transaction log, fsynced before
 * every acknowledgement).
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedZooKeeper.class);

    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(30);

    private static final String STATIC_CONFIG = "zoo.cfg";
    private static final String INITIAL_DYNAMIC_CONFIG = "zoo.cfg.dynamic";
    /** The node daemons' ZooKeeper identity; see {@link StoreCredentials}. */
    static final String CREDENTIALS = "store.key";
    private static final String BEFORE_JOIN = "zookeeper.before-join";
    private static final String JOINING_TLS = "zookeeper.joining-tls";
    private static final long FIRST_SERVER_ID = 1;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration PORT_RELEASE_TIMEOUT = Duration.ofSeconds(10);

    private final Node node;
    private final Path directory;
    private final long serverId;
    private final String connectString;
    private final Member member;
    private final Thread runner;
    private final CompletableFuture<Void> exited;
    private final DatadirCleanupManager purger;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final StoreTls tls;
    private volatile AutoCloseable tlsRegistration;

    static {
        configureTls();
    }

    private EmbeddedZooKeeper(Node node, Path directory, long serverId, QuorumPeerConfig config) {
        this.node = node;
        this.directory = directory;
        this.serverId = serverId;
        this.connectString = hostPort(clientHost(node.bind()), node.zooKeeper().client());
        this.member = new Member();
        this.tls = StoreTls.loadOrCreate(directory.resolve(StoreTls.DIRECTORY), node.name());
        this.exited = new CompletableFuture<>();
        this.purger = new DatadirCleanupManager(
                config.getDataDir(), config.getDataLogDir(), config.getSnapRetainCount(), config.getPurgeInterval());
        this.runner = new Thread(() -> run(config), "zookeeper-" + node.name());
        this.runner.setDaemon(true);
    }

    /** Starts the member and waits until it serves clients, at most {@link #DEFAULT_START_TIMEOUT}. */
    public static EmbeddedZooKeeper start(Node node) {
        return start(node, DEFAULT_START_TIMEOUT);
    }

    /**
     * Starts the member and waits until it serves clients. Throws {@link IllegalStateException}
     * naming the cause when a port is taken, the stored membership disagrees with the node, or the
     * member does not serve within {@code timeout}.
     */
    public static EmbeddedZooKeeper start(Node node, Duration timeout) {
        requireNonNull(node, "node is null");
        requireNonNull(timeout, "timeout is null");
        // ZooKeeper calls System.exit on fatal errors by default; the daemon must decide that itself
        ServiceUtils.setSystemExitProcedure(ServiceUtils.LOG_ONLY);
        checkPortsFree(node);

        Path directory = directory(node);
        long serverId;
        QuorumPeerConfig config;
        try {
            serverId = prepareFiles(node, directory);
            config = new QuorumPeerConfig();
            config.parse(directory.resolve(STATIC_CONFIG).toString());
        } catch (IOException e) {
            throw new UncheckedIOException("can't prepare ZooKeeper files in " + directory, e);
        } catch (QuorumPeerConfig.ConfigException e) {
            throw new IllegalStateException("invalid ZooKeeper config in " + directory + ": " + e.getMessage(), e);
        }

        EmbeddedZooKeeper zooKeeper = new EmbeddedZooKeeper(node, directory, serverId, config);
        zooKeeper.tlsRegistration = StoreTlsMembers.register(zooKeeper.tls,
                node.zooKeeper().client(), node.zooKeeper().quorum(), node.zooKeeper().election());
        zooKeeper.purger.start();
        zooKeeper.runner.start();
        try {
            zooKeeper.awaitServing(timeout);
        } catch (RuntimeException e) {
            zooKeeper.close();
            throw e;
        }
        log.info("ZooKeeper member {} of node {} serves on {}", serverId, node.name(), zooKeeper.connectString);
        return zooKeeper;
    }

    public Node node() {
        return node;
    }

    /** The identity the node's daemons use with this member's store. */
    public StoreCredentials credentials() {
        return StoreCredentials.loadOrCreate(directory.resolve(CREDENTIALS));
    }

    /** The store CA and this member's certificate, for clients of the store. */
    public StoreTls tls() {
        return tls;
    }

    /**
     * ZooKeeper's TLS settings are JVM-wide system properties: set them once, for every member this
     * JVM runs. Clients and servers use TLS 1.3 only, the server side through {@link StoreTlsMembers}.
     * Members without a quorum serve reads (ZooKeeper's read-only mode).
     */
    private static void configureTls() {
        System.setProperty("zookeeper.serverCnxnFactory", NettyServerCnxnFactory.class.getName());
        System.setProperty("zookeeper.authProvider." + StoreTlsMembers.SCHEME, StoreTlsMembers.Provider.class.getName());
        System.setProperty("zookeeper.ssl.authProvider", StoreTlsMembers.SCHEME);
        System.setProperty("zookeeper.ssl.protocol", "TLSv1.3");
        System.setProperty("zookeeper.ssl.enabledProtocols", "TLSv1.3");
        System.setProperty("zookeeper.ssl.clientAuth", "need");
        System.setProperty("zookeeper.ssl.quorum.context.supplier.class", StoreTlsMembers.QuorumContext.class.getName());
        System.setProperty("zookeeper.ssl.quorum.protocol", "TLSv1.3");
        System.setProperty("zookeeper.ssl.quorum.enabledProtocols", "TLSv1.3");
        System.setProperty("zookeeper.ssl.quorum.clientAuth", "need");
        // a member cut off from the quorum keeps serving reads (Proxmox: /etc/pve goes read-only)
        System.setProperty("readonlymode.enabled", "true");
    }

    /** Where this member keeps its config, snapshots and transaction log. */
    public Path directory() {
        return directory;
    }

    /** This member's ZooKeeper server id ({@code myid}). */
    public long serverId() {
        return serverId;
    }

    /** {@code host:port} of this member's client port, for {@link ZkConfigStore#connect(String)}. */
    public String connectString() {
        return connectString;
    }

    /** True while the member serves clients (it is leader or an up-to-date follower). */
    public boolean isServing() {
        return !closed.get() && !exited.isDone() && member.serving();
    }

    /** Stops the member and waits until its ports are released. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        member.stop();
        purger.shutdown();
        AutoCloseable registration = tlsRegistration;
        if (registration != null) {
            try {
                registration.close();
            } catch (Exception e) {
                log.warn("Can't unregister the store TLS of node {}", node.name(), e);
            }
        }
        try {
            runner.join(STOP_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (runner.isAlive()) {
            log.warn("ZooKeeper member of node {} did not stop within {}", node.name(), STOP_TIMEOUT);
        } else {
            // Netty closes the TLS client port asynchronously: the next start needs it free
            awaitPortsReleased(node, PORT_RELEASE_TIMEOUT);
            log.info("Stopped ZooKeeper member of node {}", node.name());
        }
    }

    @Override
    public String toString() {
        return "EmbeddedZooKeeper[" + node.name() + " " + connectString + "]";
    }

    private void run(QuorumPeerConfig config) {
        try {
            member.runFromConfig(config);
            exited.complete(null);
            if (!closed.get()) {
                log.error("ZooKeeper member of node {} stopped on its own", node.name());
            }
        } catch (Throwable e) {
            exited.completeExceptionally(e);
            if (!closed.get()) {
                log.error("ZooKeeper member of node {} failed", node.name(), e);
            }
        }
    }

    private void awaitServing(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long readOnlyAfter = System.nanoTime() + timeout.toNanos() / 2;
        // the peer state tells when it leads or follows; a client session then proves the port answers.
        // A member whose cluster has no quorum serves reads only: after half the timeout, that will do
        // (as pmxcfs starts read-only), and the node writes again once the quorum is back.
        while (!member.serving()) {
            checkAlive(deadline, timeout);
            if (System.nanoTime() - readOnlyAfter > 0 && member.looking()) {
                log.warn("ZooKeeper member of node {} finds no quorum: it serves reads only until its cluster has one", node.name());
                break;
            }
            sleep(Duration.ofMillis(50));
        }
        try (CuratorFramework probe = CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .authorization("digest", credentials().authBytes())
                .zkClientConfig(tls.clientConfig())
                .canBeReadOnly(true)
                .retryPolicy(new RetryNTimes(3, 100))
                .ensembleTracker(false)
                .build()) {
            probe.start();
            while (!probe.blockUntilConnected(100, TimeUnit.MILLISECONDS)) {
                checkAlive(deadline, timeout);
            }
            probe.checkExists().forPath("/");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting ZooKeeper for node " + node.name(), e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("ZooKeeper member of node " + node.name() + " on " + connectString
                    + " does not answer: " + e.getMessage(), e);
        }
    }

    private void checkAlive(long deadline, Duration timeout) {
        if (exited.isDone()) {
            Throwable cause = exited.isCompletedExceptionally() ? exited.exceptionNow() : null;
            throw new IllegalStateException("ZooKeeper member of node " + node.name() + " stopped during start-up"
                    + (cause == null ? "" : ": " + cause), cause);
        }
        if (System.nanoTime() - deadline > 0) {
            throw new IllegalStateException("ZooKeeper member of node " + node.name() + " on " + connectString
                    + " did not serve within " + timeout + " (state " + member.state() + "), see its log");
        }
    }

    /** Writes config files, keeping the membership and id ZooKeeper may have changed since. */
    private static long prepareFiles(Node node, Path directory) throws IOException {
        Path dataDir = directory.resolve("data");
        Path logDir = directory.resolve("log");
        Files.createDirectories(dataDir);
        Files.createDirectories(logDir);
        // snapshots and transaction logs hold every secret of the cluster: root only
        restrict(directory);

        Path myid = dataDir.resolve("myid");
        if (!Files.exists(myid)) {
            Files.writeString(myid, FIRST_SERVER_ID + "\n", UTF_8);
        }
        long serverId = Long.parseLong(Files.readString(myid, UTF_8).trim());

        Path staticConfig = directory.resolve(STATIC_CONFIG);
        Path dynamicConfig = existingDynamicConfig(directory, staticConfig).orElse(null);
        if (dynamicConfig == null && Files.exists(directory.resolve(INITIAL_DYNAMIC_CONFIG))) {
            // written by prepareJoin: the ensemble to join and this member
            dynamicConfig = directory.resolve(INITIAL_DYNAMIC_CONFIG);
            checkMembership(node, serverId, dynamicConfig);
        } else if (dynamicConfig == null) {
            dynamicConfig = directory.resolve(INITIAL_DYNAMIC_CONFIG);
            Files.writeString(dynamicConfig, "server." + serverId + "=" + memberSpec(node) + "\n", UTF_8);
        } else {
            checkMembership(node, serverId, dynamicConfig);
        }

        StoreTimings timings = StoreTimings.local(node.localDir());
        // standaloneEnabled=false + a dynamic file: a one-member quorum that can grow by reconfig
        String text = String.join("\n", List.of(
                "# written by Corral at every start; ZooKeeper edits dynamicConfigFile on reconfig",
                // datacenter.cfg's store-timeouts, as this node last saw them (StoreTimings)
                "tickTime=" + timings.tickMs(),
                "initLimit=" + timings.initLimit(),
                "syncLimit=" + timings.syncLimit(),
                "dataDir=" + dataDir,
                "dataLogDir=" + logDir,
                "standaloneEnabled=false",
                "reconfigEnabled=true",
                "admin.enableServer=false",
                "4lw.commands.whitelist=srvr,ruok",
                // members talk TLS with certificates of the store CA (StoreTls); the client port is TLS only
                "sslQuorum=true",
                "portUnification=false",
                // a member without a quorum serves reads (readonlymode.enabled), and only to new local sessions
                "localSessionsEnabled=true",
                "localSessionsUpgradingEnabled=true",
                // lets the store identity reconfig the ensemble (ZooKeeper sets it as a JVM-wide property, same for every node)
                "authProvider." + StoreAdministrator.SCHEME + "=" + StoreAdministrator.class.getName(),
                "autopurge.snapRetainCount=3",
                "autopurge.purgeInterval=24",
                "dynamicConfigFile=" + dynamicConfig,
                ""));
        Files.writeString(staticConfig, text, UTF_8);
        return serverId;
    }

    /**
     * Makes {@code dir} and everything below it root-only: directories 0700, files 0600. ZooKeeper
     * writes new files with the process umask, but they sit below a 0700 directory.
     */
    static void restrict(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                if (Files.isSymbolicLink(p)) {
                    continue;
                }
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwx------" : "rw-------"));
            }
        }
    }

    private static Optional<Path> existingDynamicConfig(Path directory, Path staticConfig) throws IOException {
        if (!Files.exists(staticConfig)) {
            return Optional.empty();
        }
        Properties properties = load(staticConfig);
        String configured = properties.getProperty("dynamicConfigFile");
        if (configured == null) {
            return Optional.empty();
        }
        Path path = Path.of(configured.trim());
        if (Files.exists(path)) {
            return Optional.of(path);
        }
        // the node's data directory was moved: ZooKeeper wrote an absolute path
        Path moved = directory.resolve(path.getFileName());
        return Files.exists(moved) ? Optional.of(moved) : Optional.empty();
    }

    private static void checkMembership(Node node, long serverId, Path dynamicConfig) throws IOException {
        String recorded = load(dynamicConfig).getProperty("server." + serverId);
        String expected = memberSpec(node);
        if (recorded == null || !sameMember(recorded.trim(), expected)) {
            throw new IllegalStateException("ZooKeeper membership in " + dynamicConfig + " records member "
                    + serverId + " as '" + recorded + "' but node " + node.name() + " would be '" + expected
                    + "': start the node with the recorded address and ports or change the membership by reconfig");
        }
    }

    private static boolean sameMember(String recorded, String expected) {
        // ZooKeeper writes the role only sometimes; compare addresses and ports
        return normalize(recorded).equals(normalize(expected));
    }

    private static String normalize(String spec) {
        return spec.replace(":participant;", ";").replace(":participant", "").replace(":observer;", ";").replace(":observer", "");
    }

    /**
     * {@code host:quorum:election:participant;clientHost:clientPort}. ZooKeeper serves the client
     * port with TLS only, though the dynamic config calls it plain (see {@link Member}).
     */
    private static String memberSpec(Node node) {
        return memberSpec(node, false);
    }

    private static String memberSpec(Node node, boolean observer) {
        Node.ZooKeeperPorts ports = node.zooKeeper();
        String host = bracketed(node.bind());
        return host + ":" + ports.quorum() + ":" + ports.election() + (observer ? ":observer;" : ":participant;") + host + ":" + ports.client();
    }

    /** This member's line for {@code reconfig -add}. */
    public static String serverLine(Node node, long serverId, boolean observer) {
        return "server." + serverId + "=" + memberSpec(node, observer);
    }

    /** The client addresses of an ensemble's {@code server.N=...;host:port} lines, as a connect string. */
    public static String connectString(List<String> ensemble) {
        List<String> clients = ensemble.stream().filter(line -> line.startsWith("server.") && line.contains(";"))
                .map(line -> line.substring(line.indexOf(';') + 1).strip()).toList();
        if (clients.isEmpty()) {
            throw new IllegalArgumentException("no client address in ensemble " + ensemble);
        }
        return String.join(",", clients);
    }

    private static Path directory(Node node) {
        return node.localDir().resolve("zookeeper").toAbsolutePath();
    }

    /**
     * This node's store TLS files for joining the cluster whose store CA is given (PEM certificate and
     * key): a member certificate from that CA, kept beside the member's directory until
     * {@link #prepareJoin} copies it in. Use it to reach the cluster before the join.
     */
    public static StoreTls joiningTls(Node node, String storeCaPem, String storeCaKeyPem) {
        Path staging = directory(node).resolveSibling(JOINING_TLS);
        try {
            FileTrees.deleteTree(staging);
        } catch (IOException e) {
            throw new UncheckedIOException("can't clear " + staging, e);
        }
        return StoreTls.install(staging, storeCaPem, storeCaKeyPem, node.name());
    }

    /** Removes the files of {@link #joiningTls} once the member's directory has its copy. */
    public static void discardJoiningTls(Node node) {
        try {
            FileTrees.deleteTree(directory(node).resolveSibling(JOINING_TLS));
        } catch (IOException e) {
            throw new UncheckedIOException("can't remove " + directory(node).resolveSibling(JOINING_TLS), e);
        }
    }

    /**
     * Replaces the stopped member's files with an empty member {@code serverId} that knows
     * {@code ensemble} (the {@code server.N=} lines of the cluster's dynamic config) and itself, and
     * uses the cluster's {@code credentials} and the store TLS files of {@link #joiningTls}. The old
     * files are kept aside for {@link #undoJoin}.
     */
    public static void prepareJoin(Node node, long serverId, List<String> ensemble, boolean observer, StoreCredentials credentials,
            StoreTls tls) {
        Path directory = directory(node);
        Path aside = directory.resolveSibling(BEFORE_JOIN);
        try {
            FileTrees.deleteTree(aside);
            if (Files.exists(directory)) {
                Files.move(directory, aside);
            }
            Files.createDirectories(directory.resolve("data"));
            Files.writeString(directory.resolve("data/myid"), serverId + "\n", UTF_8);
            StringBuilder dynamic = new StringBuilder();
            for (String line : ensemble) {
                if (line.startsWith("server.") && !line.startsWith("server." + serverId + "=")) {
                    dynamic.append(line.strip()).append('\n');
                }
            }
            dynamic.append(serverLine(node, serverId, observer)).append('\n');
            Files.writeString(directory.resolve(INITIAL_DYNAMIC_CONFIG), dynamic.toString(), UTF_8);
            Path key = directory.resolve(CREDENTIALS);
            Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(key, credentials.secret() + "\n", UTF_8);
            Path tlsDirectory = Files.createDirectories(directory.resolve(StoreTls.DIRECTORY));
            try (Stream<Path> files = Files.list(tls.directory())) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    Files.copy(file, tlsDirectory.resolve(file.getFileName()));
                }
            }
            restrict(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("can't prepare ZooKeeper files to join in " + directory, e);
        }
    }

    /**
     * Replaces the stopped member's ensemble by {@code serverLines} (its own among them) under a config
     * version above the current one. ZooKeeper's reconfig needs a quorum; this is how a member that
     * lost its quorum for good gets one back ({@link ClusterStore#forceQuorum}). A former voter that
     * comes back learns the newer config from the members it reaches and takes the role it gives.
     */
    static void forceEnsemble(Node node, long serverId, List<String> serverLines) {
        Path directory = directory(node);
        Path staticConfig = directory.resolve(STATIC_CONFIG);
        try {
            Path current = existingDynamicConfig(directory, staticConfig)
                    .orElseThrow(() -> new IllegalStateException("node " + node.name() + " has no ZooKeeper membership in " + directory));
            String name = current.getFileName().toString();
            // ZooKeeper takes a dynamic config's version from its file name (hex), never from its content
            long version = name.startsWith(INITIAL_DYNAMIC_CONFIG + ".")
                    ? Long.parseLong(name.substring(INITIAL_DYNAMIC_CONFIG.length() + 1), 16) : 0;
            if (serverLines.stream().noneMatch(line -> line.startsWith("server." + serverId + "=") && line.contains(":participant;"))) {
                throw new IllegalArgumentException("the forced ensemble must keep member " + serverId + " as a voter: " + serverLines);
            }
            Path forced = directory.resolve(INITIAL_DYNAMIC_CONFIG + "." + Long.toHexString(version + 1));
            Files.writeString(forced, String.join("\n", serverLines) + "\n", UTF_8);
            String text = Files.readString(staticConfig, UTF_8).lines()
                    .map(line -> line.startsWith("dynamicConfigFile=") ? "dynamicConfigFile=" + forced : line)
                    .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
            Files.writeString(staticConfig, text, UTF_8);
            restrict(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("can't rewrite the ZooKeeper membership in " + directory, e);
        }
    }

    /** Puts back the files {@link #prepareJoin} set aside: the node is its own cluster again. */
    public static void undoJoin(Node node) {
        Path directory = directory(node);
        Path aside = directory.resolveSibling(BEFORE_JOIN);
        try {
            if (Files.exists(aside)) {
                FileTrees.deleteTree(directory);
                Files.move(aside, directory);
            }
            FileTrees.deleteTree(directory.resolveSibling(JOINING_TLS));
        } catch (IOException e) {
            throw new UncheckedIOException("can't restore ZooKeeper files from " + aside, e);
        }
    }

    private static void awaitPortsReleased(Node node, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                checkPortsFree(node);
                return;
            } catch (IllegalStateException e) {
                if (System.nanoTime() - deadline > 0) {
                    log.warn("ZooKeeper member of node {} stopped but {}", node.name(), e.getMessage());
                    return;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static void checkPortsFree(Node node) {
        Node.ZooKeeperPorts ports = node.zooKeeper();
        // ZooKeeper only logs when it can't bind the election port (exit is LOG_ONLY): fail here instead
        for (int port : List.of(ports.client(), ports.quorum(), ports.election())) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(node.bind(), port));
            } catch (IOException e) {
                throw new IllegalStateException("can't start ZooKeeper for node " + node.name() + ": port " + port
                        + " on " + node.bind() + " is not available (" + e.getMessage() + ")", e);
            }
        }
    }

    private static Properties load(Path file) throws IOException {
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            properties.load(in);
        }
        return properties;
    }

    private static String clientHost(String bind) {
        return switch (bind) {
            case "0.0.0.0", "*" -> "127.0.0.1";
            case "::", "[::]", "0:0:0:0:0:0:0:0" -> "::1";
            default -> bind;
        };
    }

    private static String hostPort(String host, int port) {
        return bracketed(host) + ":" + port;
    }

    private static String bracketed(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting ZooKeeper", e);
        }
    }

    /** ZooKeeper's own runner, keeping hold of the peer and refusing to start it once stopped. */
    private static final class Member extends QuorumPeerMain {
        private final Object lifecycle = new Object();
        private boolean stopped; // guarded by lifecycle
        private volatile QuorumPeer peer;

        @Override
        protected QuorumPeer getQuorumPeer() throws SaslException {
            QuorumPeer created = new QuorumPeer() {
                /**
                 * ZooKeeper 3.9 reads a TLS ("secure") client port from the static config only, while
                 * reconfig needs a client address in each member's dynamic line and opens a plaintext
                 * port there. Switch that port to TLS before it serves, so the store never answers in the clear.
                 */
                @Override
                public void setCnxnFactory(ServerCnxnFactory factory) {
                    if (factory instanceof NettyServerCnxnFactory netty) {
                        netty.setSecure(true);
                    } else if (factory != null) {
                        throw new IllegalStateException("the store's client port needs Netty for TLS, not " + factory.getClass().getName());
                    }
                    super.setCnxnFactory(factory);
                }

                @Override
                public synchronized void start() {
                    synchronized (lifecycle) {
                        if (stopped) {
                            // runFromConfig already bound the client port: release it
                            shutdown();
                            throw new IllegalStateException("ZooKeeper member closed before it started");
                        }
                        super.start();
                    }
                }
            };
            peer = created;
            return created;
        }

        boolean serving() {
            QuorumPeer current = peer;
            ZooKeeperServer server = current == null ? null : current.getActiveServer();
            return server != null && server.isRunning();
        }

        /** Still looking for a leader: its cluster has no quorum it can reach. */
        boolean looking() {
            QuorumPeer current = peer;
            return current != null && current.getPeerState() == QuorumPeer.ServerState.LOOKING;
        }

        String state() {
            QuorumPeer current = peer;
            return current == null ? "not created" : current.getServerState();
        }

        void stop() {
            synchronized (lifecycle) {
                stopped = true;
            }
            close();
        }
    }
}
