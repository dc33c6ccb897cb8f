package org.corral.cluster;

import static java.util.Objects.requireNonNull;

import org.corral.core.node.Node;

/**
 * One node of the cluster as {@code cluster.cfg} records it: its node id (also its ZooKeeper
 * server id), the address other nodes reach it on, its API port and certificate fingerprint, its
 * ZooKeeper ports and whether its member votes or only observes.
 */
public record ClusterMember(String name, int nodeId, String address, int apiPort, String fingerprint, int votes,
        Node.ZooKeeperPorts zooKeeper, boolean observer) {
    public ClusterMember {
        requireNonNull(name, "name is null");
        requireNonNull(address, "address is null");
        requireNonNull(fingerprint, "fingerprint is null");
        requireNonNull(zooKeeper, "zooKeeper is null");
        if (nodeId < 1) {
            throw new IllegalArgumentException("invalid node id " + nodeId);
        }
    }

    /** The member's line in ZooKeeper's dynamic config, {@code server.N=host:quorum:election:role;host:client}. */
    public String zooKeeperServer() {
        String host = address.contains(":") && !address.startsWith("[") ? "[" + address + "]" : address;
        return "server." + nodeId + "=" + host + ":" + zooKeeper.quorum() + ":" + zooKeeper.election() + ":"
                + (observer ? "observer" : "participant") + ";" + host + ":" + zooKeeper.client();
    }

    /** The member as a voter ({@code false}) or an observer ({@code true}). */
    public ClusterMember withObserver(boolean newObserver) {
        return new ClusterMember(name, nodeId, address, apiPort, fingerprint, votes, zooKeeper, newObserver);
    }

    public ClusterMember withApi(String newAddress, int newPort, String newFingerprint) {
        return new ClusterMember(name, nodeId, newAddress, newPort, newFingerprint, votes, zooKeeper, observer);
    }
}
