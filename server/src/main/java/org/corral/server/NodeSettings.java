package org.corral.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import org.corral.core.json.Json;
import org.corral.core.node.Node;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a node fixes on its first start and keeps: its name and its ZooKeeper ports, in
 * {@code DATA/local/node.json}. A later start with another name refuses to run.
 */
final class NodeSettings {
    private NodeSettings() {}

    static Path file(Path dataDir) {
        return dataDir.resolve("local/node.json");
    }

    static Optional<Node.ZooKeeperPorts> read(Path dataDir, String expectedName) throws IOException {
        Path file = file(dataDir);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        JsonNode json = Json.read(Files.readString(file));
        String name = json.path("name").asString();
        if (!name.equals(expectedName)) {
            throw new IllegalStateException("data directory " + dataDir + " belongs to node '" + name
                    + "', not '" + expectedName + "' (start with --node " + name + ")");
        }
        JsonNode zk = json.path("zookeeper");
        return Optional.of(new Node.ZooKeeperPorts(zk.path("client").asInt(), zk.path("quorum").asInt(), zk.path("election").asInt()));
    }

    static void write(Path dataDir, String name, Node.ZooKeeperPorts ports) throws IOException {
        ObjectNode json = Json.object();
        json.put("name", name);
        ObjectNode zk = json.putObject("zookeeper");
        zk.put("client", ports.client());
        zk.put("quorum", ports.quorum());
        zk.put("election", ports.election());
        Path file = file(dataDir);
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling("node.json.tmp");
        Files.writeString(tmp, Json.write(json) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** ZooKeeper ports for a new node: 10000/20000/30000 above the API port, or free ones. */
    static Node.ZooKeeperPorts choose(int apiPort) throws IOException {
        if (apiPort > 0 && apiPort + 30_000 <= 65_535) {
            return new Node.ZooKeeperPorts(apiPort + 10_000, apiPort + 20_000, apiPort + 30_000);
        }
        // all three held open at once, so they differ
        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0); ServerSocket c = new ServerSocket(0)) {
            return new Node.ZooKeeperPorts(a.getLocalPort(), b.getLocalPort(), c.getLocalPort());
        }
    }
}
