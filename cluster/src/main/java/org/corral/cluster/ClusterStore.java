package org.corral.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.AuthInfo;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;

import org.corral.core.node.Node;

/**
 * A node's running config store: its embedded ZooKeeper member and the {@link ZkConfigStore}
 * connected to it. The daemon starts it once and closes it on shutdown.
 */
public final class ClusterStore implements AutoCloseable {
    private final EmbeddedZooKeeper zooKeeper;
    private final ZkConfigStore store;

    public ClusterStore(EmbeddedZooKeeper zooKeeper, ZkConfigStore store) {
        this.zooKeeper = requireNonNull(zooKeeper, "zooKeeper is null");
        this.store = requireNonNull(store, "store is null");
    }

    /** Starts the node's ZooKeeper member, waits until it serves and connects a store to it. */
    public static ClusterStore start(Node node) {
        EmbeddedZooKeeper zooKeeper = EmbeddedZooKeeper.start(node);
        try {
            Duration session = Duration.ofSeconds(StoreTimings.local(node.localDir()).sessionSeconds());
            return new ClusterStore(zooKeeper, ZkConfigStore.connect(zooKeeper.connectString(), zooKeeper.credentials(), zooKeeper.tls(),
                    ZkConfigStore.DEFAULT_TIMEOUT, session));
        } catch (RuntimeException e) {
            zooKeeper.close();
            throw e;
        }
    }

    public ZkConfigStore store() {
        return store;
    }

    public EmbeddedZooKeeper zooKeeper() {
        return zooKeeper;
    }

    /** The {@code server.N=...} lines of the ensemble's current dynamic config. */
    public List<String> ensemble() {
        return admin(client -> new String(client.getConfig().forEnsemble(), UTF_8).lines()
                .filter(line -> line.startsWith("server.")).toList());
    }

    /**
     * Adds a member to the ensemble by ZooKeeper's {@code reconfig -add}; the member must be
     * running and connected to the leader already (ZooKeeper needs it to ack as part of the new
     * quorum). Returns the new ensemble's server lines.
     */
    public List<String> addMember(String serverLine) {
        return admin(client -> new String(client.reconfig().joining(serverLine).fromConfig(-1).forEnsemble(), UTF_8).lines()
                .filter(line -> line.startsWith("server.")).toList());
    }

    /** Removes server {@code serverId} from the ensemble by {@code reconfig -remove}; returns the new server lines. */
    public List<String> removeMember(long serverId) {
        return admin(client -> new String(client.reconfig().leaving(Long.toString(serverId)).fromConfig(-1).forEnsemble(), UTF_8).lines()
                .filter(line -> line.startsWith("server.")).toList());
    }

    /**
     * Lets online observers vote, one by one, until the cluster has as many voters as its size
     * wants ({@link ClusterConfig#wantedVoters}); answers the names of those promoted.
     */
    public List<String> promoteObservers() {
        ClusterMembership membership = new ClusterMembership(store);
        ClusterConfig config = membership.read();
        java.util.Set<String> up = java.util.Set.copyOf(store.online());
        List<String> promoted = new java.util.ArrayList<>();
        for (ClusterMember member : config.members()) {
            if (config.voters() >= ClusterConfig.wantedVoters(config.members().size())) {
                break;
            }
            if (member.observer() && up.contains(member.name())) {
                ClusterMember voter = member.withObserver(false);
                addMember(voter.zooKeeperServer());
                config = membership.update(c -> c.with(voter));
                promoted.add(member.name());
            }
        }
        return promoted;
    }

    /**
     * Proxmox's {@code pvecm expected}, for a cluster that lost its quorum for good: this node's member
     * (stopped: close this node's store first) restarts in an ensemble where only {@code voters} vote
     * and every other member observes, and cluster.cfg records the new roles. With the voters left
     * reachable, writes work again. Each voter kept must be forced the same way, and answers only once
     * they are all back; members left out follow as observers when they return. Answers the running store.
     */
    public static ClusterStore forceQuorum(Node node, ClusterConfig config, java.util.Set<String> voters, java.time.Duration timeout) {
        ClusterMember self = config.member(node.name())
                .orElseThrow(() -> new IllegalArgumentException("node " + node.name() + " is not a member of the cluster"));
        if (!voters.contains(self.name())) {
            throw new IllegalArgumentException("node " + node.name() + " must stay a voter");
        }
        for (String name : voters) {
            config.member(name).orElseThrow(() -> new IllegalArgumentException("no cluster member '" + name + "'"));
        }
        List<ClusterMember> members = config.members().stream().map(m -> m.withObserver(!voters.contains(m.name()))).toList();
        EmbeddedZooKeeper.forceEnsemble(node, self.nodeId(), members.stream().map(ClusterMember::zooKeeperServer).toList());
        ClusterStore started = start(node);
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!started.store().quorate()) {
                if (System.nanoTime() - deadline > 0) {
                    throw new ConfigStoreException("no quorum of " + voters + " within " + timeout
                            + ": every voter kept must be forced the same way", null);
                }
                Thread.sleep(100);
            }
            new ClusterMembership(started.store()).update(c -> new ClusterConfig(c.name(), c.version() + 1,
                    c.members().stream().map(m -> m.withObserver(!voters.contains(m.name()))).toList()));
            return started;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            started.close();
            throw new ConfigStoreException("interrupted while waiting for a quorum", e);
        } catch (RuntimeException e) {
            started.close();
            throw e;
        }
    }

    private interface AdminCall<T> {
        T call(CuratorFramework client) throws Exception;
    }

    /** Runs {@code call} on a short-lived client that is ZooKeeper's super user through {@link StoreAdministrator}. */
    private <T> T admin(AdminCall<T> call) {
        StoreCredentials credentials = zooKeeper.credentials();
        try (CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(zooKeeper.connectString())
                .authorization(List.of(new AuthInfo("digest", credentials.authBytes()),
                        new AuthInfo(StoreAdministrator.SCHEME, credentials.authBytes())))
                .zkClientConfig(zooKeeper.tls().clientConfig())
                .retryPolicy(new RetryNTimes(3, 200))
                .ensembleTracker(false)
                .build()) {
            client.start();
            if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
                throw new ConfigStoreException("can't connect to ZooKeeper at " + zooKeeper.connectString(), null);
            }
            return call.call(client);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConfigStoreException("interrupted while changing the ensemble", e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new ConfigStoreException("can't change the ZooKeeper ensemble: " + e.getMessage(), e);
        }
    }

    /** Closes the store first, so its session ends cleanly while the member still serves. */
    @Override
    public void close() {
        try {
            store.close();
        } finally {
            zooKeeper.close();
        }
    }
}
