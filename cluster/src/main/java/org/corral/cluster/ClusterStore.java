package org.corral.cluster;

import static java.util.Objects.requireNonNull;

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
            return new ClusterStore(zooKeeper, ZkConfigStore.connect(zooKeeper.connectString(), zooKeeper.credentials()));
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
