package org.corral.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.corral.core.node.Node;

/** Nodes on loopback with free ports, each in its own directory. */
final class TestNodes {
    private TestNodes() {}

    static Node node(Path dir, String name) {
        int[] ports = freePorts(4);
        return node(dir, name, new Node.ZooKeeperPorts(ports[1], ports[2], ports[3]), ports[0]);
    }

    static Node node(Path dir, String name, Node.ZooKeeperPorts zooKeeper, int apiPort) {
        Path nodeDir = dir.resolve(name);
        return new Node(name, nodeDir.resolve("data"), nodeDir.resolve("run"), "127.0.0.1", apiPort, zooKeeper);
    }

    /**
     * Prepares the stopped {@code joining} node to start as member {@code id} of {@code member}'s
     * ensemble, with the cluster's store secret and a member certificate from its store CA.
     */
    static void prepareJoin(Node joining, long id, ClusterStore member, boolean observer) {
        StoreTls tls = EmbeddedZooKeeper.joiningTls(joining, member.zooKeeper().tls().caPem(), member.zooKeeper().tls().caKeyPem());
        EmbeddedZooKeeper.prepareJoin(joining, id, member.ensemble(), observer, member.zooKeeper().credentials(), tls);
    }

    /** Distinct ports that were free a moment ago (all held open together, so never the same twice). */
    static int[] freePorts(int count) {
        ServerSocket[] sockets = new ServerSocket[count];
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ports[i] = sockets[i].getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket socket : sockets) {
                if (socket != null) {
                    try {
                        socket.close();
                    } catch (IOException ignored) {
                        // best effort
                    }
                }
            }
        }
    }
}
