package org.corral.core.node;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * One Corral node: its name and every place and port it owns. Nothing below {@code main} finds
 * these any other way, so several nodes can run side by side on one host or in one JVM.
 */
public record Node(String name, Path dataDir, Path runDir, String bind, int apiPort, ZooKeeperPorts zooKeeper) {
    public Node {
        requireNonNull(name, "name is null");
        requireNonNull(dataDir, "dataDir is null");
        requireNonNull(runDir, "runDir is null");
        requireNonNull(bind, "bind is null");
        requireNonNull(zooKeeper, "zooKeeper is null");
    }

    /** Client, quorum and leader-election ports of this node's ZooKeeper member. */
    public record ZooKeeperPorts(int client, int quorum, int election) {}

    /**
     * Refuses a call's {@code node} parameter unless it names this node (or {@code localhost});
     * calls for other nodes are not proxied yet. Proxmox answers 595 for an unknown node.
     */
    public void requireLocal(String given) {
        if (!given.equals(name) && !given.equals("localhost")) {
            throw new org.corral.core.error.ApiException(595, "no such cluster node '" + given + "'");
        }
    }

    /** Node-local state that is not cluster configuration: task logs, ZooKeeper data, certificates. */
    public Path localDir() {
        return dataDir.resolve("local");
    }
}
