package org.corral.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.file.Path;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;

/**
 * Run in a separate JVM by {@link ZkConfigStoreDurabilityIT}: starts a node's store and creates
 * numbered files as fast as it can, printing {@code ACK <path> END} once each write is acknowledged,
 * until it is killed.
 */
public final class DurabilityWriter {
    static final String DIRECTORY = "durability";

    private DurabilityWriter() {}

    /** Arguments: node base directory, client port, quorum port, election port. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Node node = TestNodes.node(dir, "pve1",
                new Node.ZooKeeperPorts(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3])), 0);
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), UTF_8));
        ClusterStore cluster = ClusterStore.start(node);
        for (int i = 0; ; i++) {
            String path = path(i);
            cluster.store().write(path, content(i), ConfigStore.NEW);
            out.write("ACK " + path + " END\n");
            out.flush();
        }
    }

    static String path(int i) {
        return DIRECTORY + "/file-" + String.format("%07d", i);
    }

    static String content(int i) {
        return "number: " + i + "\n" + "padding: " + "x".repeat(200) + "\n";
    }
}
