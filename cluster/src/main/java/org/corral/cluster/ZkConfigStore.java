package org.corral.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.CuratorCacheStorage;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.common.PathUtils;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.StaleVersionException;
import org.corral.core.error.Conflict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ConfigStore} on a ZooKeeper ensemble through Curator. A file {@code a/b.cfg} is the znode
 * {@code /corral/pve/a/b.cfg} holding the UTF-8 text; its version is the znode's data version.
 * Directories are znodes too (created empty as parents), so {@link #list} shows files and
 * directories alike. Locks are Curator {@link InterProcessMutex}es under {@code /corral/locks}.
 * Thread-safe; one instance per process is enough.
 */
public final class ZkConfigStore implements ConfigStore {
    private static final Logger log = LoggerFactory.getLogger(ZkConfigStore.class);

    static final String ROOT = "/corral/pve";
    static final String LOCKS = "/corral/locks";
    static final String ONLINE = "/corral/online";

    /** Largest file accepted; ZooKeeper drops the connection on requests above jute.maxbuffer (1 MiB). */
    public static final int MAX_FILE_BYTES = 1000 * 1024;

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private static final int CONNECTION_TIMEOUT_MS = 15_000;

    private final CuratorFramework client;
    private final Duration timeout;
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();

    private ZkConfigStore(CuratorFramework client, Duration timeout) {
        this.client = requireNonNull(client, "client is null");
        this.timeout = requireNonNull(timeout, "timeout is null");
    }

    /**
     * Connects over TLS with {@code tls} to the ensemble at {@code connectString} ({@code host:port,...})
     * as {@code credentials}, waiting at most 30 s.
     */
    public static ZkConfigStore connect(String connectString, StoreCredentials credentials, StoreTls tls) {
        return connect(connectString, credentials, tls, DEFAULT_TIMEOUT);
    }

    /**
     * Connects over TLS with {@code tls} to the ensemble as {@code credentials}, waiting at most {@code timeout} for the
     * connection; the same timeout bounds {@link #sync()} and the start of a {@link #watch}. Every
     * znode this store creates gets the credentials' ACL, and znodes left open by an older version
     * are locked on connect.
     */
    public static ZkConfigStore connect(String connectString, StoreCredentials credentials, StoreTls tls, Duration timeout) {
        return connect(connectString, credentials, tls, timeout, Duration.ofSeconds(StoreTimings.DEFAULTS.sessionSeconds()));
    }

    /**
     * As {@link #connect(String, StoreCredentials, StoreTls, Duration)}, with a session that ends (and
     * drops this node's presence and locks) after {@code session} without contact.
     */
    public static ZkConfigStore connect(String connectString, StoreCredentials credentials, StoreTls tls, Duration timeout,
            Duration session) {
        requireNonNull(session, "session is null");
        requireNonNull(connectString, "connectString is null");
        requireNonNull(credentials, "credentials is null");
        requireNonNull(tls, "tls is null");
        requireNonNull(timeout, "timeout is null");
        List<ACL> acl = credentials.acl();
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .authorization("digest", credentials.authBytes())
                .zkClientConfig(tls.clientConfig())
                // without a quorum a member still answers reads; writes fail and quorate() says so
                .canBeReadOnly(true)
                // stay on the given members: following reconfigs, ZooKeeper's client would move to other
                // members to balance load, where a read right after sync() may miss what sync() waited for
                .ensembleTracker(false)
                .aclProvider(new ACLProvider() {
                    @Override
                    public List<ACL> getDefaultAcl() {
                        return acl;
                    }

                    @Override
                    public List<ACL> getAclForPath(String path) {
                        return acl;
                    }
                })
                .sessionTimeoutMs((int) session.toMillis())
                .connectionTimeoutMs(CONNECTION_TIMEOUT_MS)
                .retryPolicy(new BoundedExponentialBackoffRetry(100, 2_000, 10))
                .waitForShutdownTimeoutMs(5_000)
                .build();
        client.start();
        try {
            if (!client.blockUntilConnected((int) timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ConfigStoreException("can't connect to ZooKeeper at " + connectString + " within " + timeout, null);
            }
            ZkConfigStore store = new ZkConfigStore(client, timeout);
            store.lockDown(acl);
            // persistent roots, so Curator never makes them containers that vanish when empty
            store.createRoot(ROOT);
            store.createRoot(LOCKS);
            store.createRoot(ONLINE);
            return store;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            client.close();
            throw new ConfigStoreException("interrupted while connecting to ZooKeeper at " + connectString, e);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /**
     * Gives the root and every Corral znode the store's ACL, unless the root has it already (then
     * an earlier start did this): data written before znodes had ACLs must not stay open.
     */
    private void lockDown(List<ACL> acl) {
        call("lock down", "/", () -> {
            if (acl.equals(client.getACL().forPath("/"))) {
                return null;
            }
            client.setACL().withACL(acl).forPath("/");
            if (client.checkExists().forPath("/corral") != null) {
                lockTree("/corral", acl);
            }
            log.info("Locked the config store's znodes to the node daemons' identity");
            return null;
        });
    }

    private void lockTree(String znode, List<ACL> acl) throws Exception {
        client.setACL().withACL(acl).forPath(znode);
        for (String child : client.getChildren().forPath(znode)) {
            lockTree(znode + "/" + child, acl);
        }
    }

    @Override
    public Optional<ConfigFile> read(String path) {
        String znode = file(path);
        return call("read", path, () -> {
            Stat stat = new Stat();
            try {
                byte[] data = client.getData().storingStatIn(stat).forPath(znode);
                return Optional.of(new ConfigFile(path, text(data), stat.getVersion()));
            } catch (KeeperException.NoNodeException e) {
                return Optional.empty();
            }
        });
    }

    @Override
    public int write(String path, String text, int expectedVersion) {
        String znode = file(path);
        byte[] data = bytes(path, text);
        checkVersion(expectedVersion);
        return call("write", path, () -> {
            try {
                if (expectedVersion == NEW) {
                    client.create().creatingParentsIfNeeded().forPath(znode, data);
                    return 0;
                }
                return client.setData().withVersion(expectedVersion).forPath(znode, data).getVersion();
            } catch (KeeperException.BadVersionException
                    | KeeperException.NodeExistsException
                    | KeeperException.NoNodeException e) {
                throw new StaleVersionException(path);
            }
        });
    }

    @Override
    public int overwrite(String path, String text) {
        String znode = file(path);
        byte[] data = bytes(path, text);
        return call("write", path, () -> {
            while (true) {
                try {
                    return client.setData().forPath(znode, data).getVersion();
                } catch (KeeperException.NoNodeException missing) {
                    try {
                        client.create().creatingParentsIfNeeded().forPath(znode, data);
                        return 0;
                    } catch (KeeperException.NodeExistsException raced) {
                        // created by someone else in between: set it again
                    }
                }
            }
        });
    }

    /**
     * Deletes the file at {@code expectedVersion}. With {@link #NEW} ("must not exist") it returns
     * false when the file is missing and throws {@link StaleVersionException} when it exists.
     * A directory that still has children is refused with {@link Conflict}.
     */
    @Override
    public boolean delete(String path, int expectedVersion) {
        String znode = file(path);
        checkVersion(expectedVersion);
        return call("delete", path, () -> {
            if (expectedVersion == NEW) {
                if (client.checkExists().forPath(znode) != null) {
                    throw new StaleVersionException(path);
                }
                return false;
            }
            try {
                client.delete().withVersion(expectedVersion).forPath(znode);
                return true;
            } catch (KeeperException.NoNodeException e) {
                return false;
            } catch (KeeperException.BadVersionException e) {
                throw new StaleVersionException(path);
            } catch (KeeperException.NotEmptyException e) {
                throw new Conflict("can't delete '" + path + "' - directory not empty");
            }
        });
    }

    /**
     * As {@link ConfigStore#update}, but after each lost race it waits a random few milliseconds so
     * that many writers of one file all get through; gives up after the store's timeout.
     */
    @Override
    public String update(String path, UnaryOperator<String> change) {
        requireNonNull(change, "change is null");
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int attempt = 0; ; attempt++) {
            Optional<ConfigFile> current = read(path);
            String next = change.apply(current.map(ConfigFile::text).orElse(""));
            try {
                write(path, next, current.map(ConfigFile::version).orElse(NEW));
                return next;
            } catch (StaleVersionException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                // random backoff, so contending writers stop colliding in lockstep
                long pauseMillis = ThreadLocalRandom.current().nextLong(1, 2L << Math.min(attempt, 5));
                try {
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new ConfigStoreException("config store: interrupted during update '" + path + "'", interrupted);
                }
            }
        }
    }

    /** Direct children of {@code dir} ("" for the top), sorted; empty when it does not exist. */
    @Override
    public List<String> list(String dir) {
        String znode = directory(dir);
        return call("list", dir, () -> {
            try {
                List<String> children = new ArrayList<>(client.getChildren().forPath(znode));
                children.sort(null);
                return List.copyOf(children);
            } catch (KeeperException.NoNodeException e) {
                return List.of();
            }
        });
    }

    @Override
    public boolean quorate() {
        // a member that lost its quorum serves reads only (read-only mode): connected, but not quorate
        if (!client.getZookeeperClient().isConnected()) {
            return false;
        }
        try {
            return client.getZookeeperClient().getZooKeeper().getState() == ZooKeeper.States.CONNECTED;
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public void sync() {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        call("sync", "", () -> client.sync()
                .inBackground((ignored, event) -> done.complete(event.getResultCode()))
                .forPath(ROOT));
        try {
            int code = done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (code != KeeperException.Code.OK.intValue()) {
                throw new ConfigStoreException("config store: sync failed", KeeperException.create(KeeperException.Code.get(code)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConfigStoreException("config store: interrupted during sync", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new ConfigStoreException("config store: sync did not finish within " + timeout, e);
        }
    }

    /**
     * Reports paths (relative, as given to {@link #write}) created, changed or deleted under
     * {@code prefix} ("" for everything) after this call returns; directories created as parents
     * are reported too. Quick successive changes of one file may be reported once. The listener
     * runs on a thread of this watch, one call at a time, and may use the store.
     */
    @Override
    public Watch watch(String prefix, Consumer<String> listener) {
        String znode = directory(prefix);
        requireNonNull(listener, "listener is null");
        ExecutorService events = Executors.newSingleThreadExecutor(
                Thread.ofVirtual().name("config-watch-" + prefix + "-", 0).factory());
        AtomicBoolean closed = new AtomicBoolean();
        CountDownLatch initialized = new CountDownLatch(1);
        // stats only: versions tell changes apart, the data is read by whoever listens
        CuratorCache cache = CuratorCache.builder(client, znode)
                .withStorage(CuratorCacheStorage.dataNotCached())
                .build();
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forAll((type, before, after) -> report(prefix, listener, closed, after != null ? after : before))
                .forInitialized(initialized::countDown)
                .afterInitialized()
                .build(), events);
        Watch watch = new Watch() {
            @Override
            public void close() {
                if (closed.compareAndSet(false, true)) {
                    watches.remove(this);
                    cache.close();
                    events.shutdown();
                }
            }
        };
        watches.add(watch);
        cache.start();
        try {
            if (!initialized.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                watch.close();
                throw new ConfigStoreException("config store: watch on '" + prefix + "' did not start within " + timeout, null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            watch.close();
            throw new ConfigStoreException("config store: interrupted while starting watch on '" + prefix + "'", e);
        }
        return watch;
    }

    /**
     * Takes the lock {@code name} (a path like {@code vm-100} or {@code storage/local}), waiting at
     * most {@code timeout}. The lock is not reentrant: a second {@code lock} of the same name waits
     * even in the same thread. Release it by closing it <b>in the thread that took it</b> (Curator
     * ties the lock to that thread); it is also released when this store's session ends.
     */
    @Override
    public Lock lock(String name, Duration timeout) {
        String znode = LOCKS + "/" + checkPath(name, false);
        requireNonNull(timeout, "timeout is null");
        InterProcessMutex mutex = new InterProcessMutex(client, znode);
        boolean acquired = call("lock", name, () -> mutex.acquire(timeout.toMillis(), TimeUnit.MILLISECONDS));
        if (!acquired) {
            throw new Conflict("can't lock '" + name + "' - got timeout");
        }
        return new MutexLock(name, mutex);
    }

    /**
     * Marks {@code nodeName} online for as long as this store's session lives (an ephemeral znode,
     * recreated after a session expiry); closing the handle marks it offline.
     */
    public Watch announce(String nodeName) {
        String znode = ONLINE + "/" + checkPath(nodeName, false);
        PersistentNode presence = new PersistentNode(client, CreateMode.EPHEMERAL, false, znode, new byte[0]);
        presence.start();
        Watch handle = new Watch() {
            @Override
            public void close() {
                watches.remove(this);
                try {
                    presence.close();
                } catch (java.io.IOException e) {
                    log.warn("Can't remove presence of {}: {}", nodeName, e.getMessage());
                }
            }
        };
        watches.add(handle);
        try {
            if (!quorate()) {
                // created by the background recipe once the quorum is back
                log.warn("Node {} is shown online once its cluster has a quorum again", nodeName);
            } else if (!presence.waitForInitialCreate(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("Presence of node {} not created within {}", nodeName, timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return handle;
    }

    /** Names of the nodes whose daemons are connected to the ensemble now, sorted. */
    public List<String> online() {
        return call("list", ONLINE, () -> {
            List<String> names = new ArrayList<>(client.getChildren().forPath(ONLINE));
            names.sort(null);
            return List.copyOf(names);
        });
    }

    /** Stops all watches and ends the session, which releases every lock still held. */
    @Override
    public void close() {
        watches.forEach(Watch::close);
        client.close();
    }

    /** A running {@link #watch}; closing it stops the reports. */
    public interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    private static final class MutexLock implements Lock {
        private final String name;
        private final InterProcessMutex mutex;
        private final AtomicBoolean released = new AtomicBoolean();

        MutexLock(String name, InterProcessMutex mutex) {
            this.name = name;
            this.mutex = mutex;
        }

        @Override
        public void close() {
            if (released.get()) {
                return;
            }
            if (!mutex.isOwnedByCurrentThread()) {
                throw new IllegalStateException("lock '" + name + "' must be released by the thread that took it");
            }
            released.set(true);
            try {
                mutex.release();
            } catch (Exception e) {
                // the lock node is ephemeral: it goes when the session ends
                log.warn("Can't release lock '{}' cleanly", name, e);
            }
        }
    }

    private void report(String prefix, Consumer<String> listener, AtomicBoolean closed, ChildData node) {
        if (closed.get() || node == null || !node.getPath().startsWith(ROOT + "/")) {
            return;
        }
        String path = node.getPath().substring(ROOT.length() + 1);
        try {
            listener.accept(path);
        } catch (RuntimeException e) {
            log.warn("Config watch listener on '{}' failed for '{}'", prefix, path, e);
        }
    }

    private void createRoot(String znode) {
        call("create", znode, () -> {
            if (client.checkExists().forPath(znode) != null) {
                // created by an earlier start; a member without a quorum could not create it now
                return null;
            }
            try {
                client.create().creatingParentsIfNeeded().forPath(znode, new byte[0]);
            } catch (KeeperException.NodeExistsException e) {
                // created by an earlier start
            }
            return null;
        });
    }

    private static void checkVersion(int expectedVersion) {
        if (expectedVersion < NEW) {
            throw new IllegalArgumentException("invalid expected version " + expectedVersion);
        }
    }

    private static String file(String path) {
        return ROOT + "/" + checkPath(path, false);
    }

    private static String directory(String path) {
        String checked = checkPath(path, true);
        return checked.isEmpty() ? ROOT : ROOT + "/" + checked;
    }

    /**
     * Accepts relative '/'-separated paths without empty, {@code .} or {@code ..} segments and
     * without control characters; throws {@link IllegalArgumentException} otherwise.
     */
    static String checkPath(String path, boolean allowTop) {
        requireNonNull(path, "path is null");
        if (path.isEmpty()) {
            if (allowTop) {
                return path;
            }
            throw invalid(path, "it is empty");
        }
        if (path.startsWith("/")) {
            throw invalid(path, "it must be relative");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                throw invalid(path, "it contains a control character");
            }
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty()) {
                throw invalid(path, "it has an empty segment");
            }
            if (segment.equals(".") || segment.equals("..")) {
                throw invalid(path, "it has a '" + segment + "' segment");
            }
        }
        try {
            PathUtils.validatePath(ROOT + "/" + path);
        } catch (IllegalArgumentException e) {
            throw invalid(path, e.getMessage());
        }
        return path;
    }

    private static IllegalArgumentException invalid(String path, String reason) {
        StringBuilder shown = new StringBuilder();
        path.codePoints().forEach(c -> shown.append(c < 0x20 || (c >= 0x7f && c <= 0x9f) ? String.format("\\u%04x", c) : Character.toString(c)));
        return new IllegalArgumentException("invalid config path '" + shown + "': " + reason);
    }

    private static byte[] bytes(String path, String text) {
        requireNonNull(text, "text is null");
        byte[] data = text.getBytes(UTF_8);
        if (data.length > MAX_FILE_BYTES) {
            throw new IllegalArgumentException("config file '" + path + "' is too large: " + data.length
                    + " bytes, at most " + MAX_FILE_BYTES);
        }
        return data;
    }

    private static String text(byte[] data) {
        return data == null ? "" : new String(data, UTF_8);
    }

    private interface ZkCall<T> {
        T call() throws Exception;
    }

    private static <T> T call(String operation, String path, ZkCall<T> call) {
        try {
            return call.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConfigStoreException("config store: interrupted during " + operation + " '" + path + "'", e);
        } catch (Exception e) {
            throw new ConfigStoreException("config store: can't " + operation + " '" + path + "': " + e.getMessage(), e);
        }
    }
}
