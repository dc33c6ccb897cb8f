package org.corral.cluster;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedZooKeeperTest {
    @TempDir
    Path dir;

    @Test
    void singleMemberRunsAsGrowableQuorumLeaderNotStandalone() throws Exception {
        Node node = TestNodes.node(dir, "pve1");
        try (EmbeddedZooKeeper zooKeeper = EmbeddedZooKeeper.start(node)) {
            assertThat(zooKeeper.isServing()).isTrue();
            assertThat(fourLetterWord(zooKeeper, "srvr")).contains("Mode: leader");
            // the client port speaks TLS only: in the clear it answers nothing
            assertThat(plainFourLetterWord(node, "srvr")).doesNotContain("Mode", "Zookeeper version");

            Node.ZooKeeperPorts ports = node.zooKeeper();
            try (CuratorFramework client = CuratorFrameworkFactory.builder().connectString(zooKeeper.connectString())
                    .zkClientConfig(zooKeeper.tls().clientConfig()).retryPolicy(new RetryNTimes(3, 100)).build()) {
                client.start();
                String membership = new String(client.getConfig().forEnsemble(), US_ASCII);
                assertThat(membership).contains("server.1=127.0.0.1:" + ports.quorum() + ":" + ports.election()
                        + ":participant;127.0.0.1:" + ports.client());
            }
            assertThat(Files.readString(zooKeeper.directory().resolve("zoo.cfg")))
                    .contains("standaloneEnabled=false", "reconfigEnabled=true", "admin.enableServer=false");
            assertThat(zooKeeper.directory()).isEqualTo(node.localDir().resolve("zookeeper").toAbsolutePath());
        }
    }

    @Test
    void restartOnSameDataDirKeepsEveryFileAndVersion() {
        Node node = TestNodes.node(dir, "pve1");
        try (ClusterStore cluster = ClusterStore.start(node)) {
            ConfigStore store = cluster.store();
            store.write("user.cfg", "user:root@pam:1:0:::\n", ConfigStore.NEW);
            store.write("nodes/pve1/qemu-server/100.conf", "memory: 512\n", ConfigStore.NEW);
            store.write("nodes/pve1/qemu-server/100.conf", "memory: 1024\n", 0);
        }
        try (ClusterStore cluster = ClusterStore.start(node)) {
            ConfigStore store = cluster.store();
            assertThat(store.read("user.cfg")).contains(new ConfigFile("user.cfg", "user:root@pam:1:0:::\n", 0));
            assertThat(store.read("nodes/pve1/qemu-server/100.conf"))
                    .contains(new ConfigFile("nodes/pve1/qemu-server/100.conf", "memory: 1024\n", 1));
        }
    }

    @Test
    void twoNodesRunSideBySideInOneJvmWithSeparateData() {
        ClusterStore first = ClusterStore.start(TestNodes.node(dir, "pve1"));
        try {
            try (ClusterStore second = ClusterStore.start(TestNodes.node(dir, "pve2"))) {
                first.store().write("datacenter.cfg", "keyboard: en-us\n", ConfigStore.NEW);
                second.store().write("datacenter.cfg", "keyboard: de\n", ConfigStore.NEW);

                assertThat(first.store().read("datacenter.cfg")).map(ConfigFile::text).contains("keyboard: en-us\n");
                assertThat(second.store().read("datacenter.cfg")).map(ConfigFile::text).contains("keyboard: de\n");
            }
            // ZooKeeper keeps some state in statics (metrics, JMX): the survivor must not depend on it
            assertThat(first.zooKeeper().isServing()).isTrue();
            first.store().write("datacenter.cfg", "keyboard: fr\n", 0);
            assertThat(first.store().read("datacenter.cfg")).map(ConfigFile::text).contains("keyboard: fr\n");

            try (ClusterStore third = ClusterStore.start(TestNodes.node(dir, "pve3"))) {
                first.close();
                assertThat(first.zooKeeper().isServing()).isFalse();
                assertThat(third.zooKeeper().isServing()).isTrue();
                third.store().write("datacenter.cfg", "keyboard: it\n", ConfigStore.NEW);
                assertThat(third.store().read("datacenter.cfg")).map(ConfigFile::text).contains("keyboard: it\n");
            }
        } finally {
            first.close();
        }
    }

    @Test
    void closeReleasesAllThreePorts() throws IOException {
        Node node = TestNodes.node(dir, "pve1");
        EmbeddedZooKeeper.start(node).close();

        Node.ZooKeeperPorts ports = node.zooKeeper();
        for (int port : List.of(ports.client(), ports.quorum(), ports.election())) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(node.bind(), port));
            }
        }
    }

    @Test
    void startFailsNamingThePortWhenItIsTaken() throws IOException {
        Node node = TestNodes.node(dir, "pve1");
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(node.bind(), node.zooKeeper().election()));

            assertThatThrownBy(() -> EmbeddedZooKeeper.start(node))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("port " + node.zooKeeper().election())
                    .hasMessageContaining("not available");
        }
    }

    @Test
    void restartWithOtherPortsIsRefusedBecauseTheMembershipRecordsTheOldOnes() {
        Node node = TestNodes.node(dir, "pve1");
        EmbeddedZooKeeper.start(node).close();
        int[] other = TestNodes.freePorts(3);
        Node moved = TestNodes.node(dir, "pve1", new Node.ZooKeeperPorts(other[0], other[1], other[2]), node.apiPort());

        assertThatThrownBy(() -> EmbeddedZooKeeper.start(moved))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("membership")
                .hasMessageContaining(":" + node.zooKeeper().quorum() + ":");
    }

    @Test
    void clientQuorumAndElectionPortsAcceptOnlyCertificatesOfTheStoreCa() throws Exception {
        Node node = TestNodes.node(dir, "pve1");
        try (EmbeddedZooKeeper zooKeeper = EmbeddedZooKeeper.start(node)) {
            // another CA's certificate, trusting the real store CA: only the member's check of the client stops it
            Path foreignDir = dir.resolve("foreign");
            StoreTls.loadOrCreate(foreignDir, "intruder");
            Files.writeString(foreignDir.resolve("ca.pem"), zooKeeper.tls().caPem());
            StoreTls foreign = StoreTls.loadOrCreate(foreignDir, "intruder");

            Node.ZooKeeperPorts ports = node.zooKeeper();
            for (int port : List.of(ports.client(), ports.quorum(), ports.election())) {
                assertThat(accepted(zooKeeper.tls().sslContext(), node, port)).as("member certificate on port " + port).isTrue();
                assertThat(accepted(foreign.sslContext(), node, port)).as("foreign certificate on port " + port).isFalse();
            }
        }
    }

    /**
     * Whether the member keeps a TLS 1.3 connection with this client's certificate. The server
     * judges the client's certificate after the client's handshake ends and answers a refusal with
     * an alert, so read: an accepted client is left waiting (the member expects the client to speak).
     */
    private static boolean accepted(javax.net.ssl.SSLContext context, Node node, int port) throws IOException {
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket(node.bind(), port)) {
            socket.setSoTimeout(2_000);
            socket.startHandshake();
            return socket.getInputStream().read() >= 0;
        } catch (java.net.SocketTimeoutException e) {
            return true;
        } catch (javax.net.ssl.SSLException | java.net.SocketException e) {
            return false;
        }
    }

    private static String fourLetterWord(EmbeddedZooKeeper zooKeeper, String word) throws IOException {
        Node node = zooKeeper.node();
        try (Socket socket = zooKeeper.tls().sslContext().getSocketFactory().createSocket(node.bind(), node.zooKeeper().client())) {
            socket.getOutputStream().write(word.getBytes(US_ASCII));
            socket.getOutputStream().flush();
            try (InputStream in = socket.getInputStream()) {
                return new String(in.readAllBytes(), US_ASCII);
            }
        }
    }

    private static String plainFourLetterWord(Node node, String word) throws IOException {
        try (Socket socket = new Socket(node.bind(), node.zooKeeper().client())) {
            socket.setSoTimeout(2_000);
            socket.getOutputStream().write(word.getBytes(US_ASCII));
            socket.getOutputStream().flush();
            try (InputStream in = socket.getInputStream()) {
                return new String(in.readAllBytes(), US_ASCII);
            } catch (java.net.SocketException | java.net.SocketTimeoutException e) {
                return ""; // reset or left waiting for a TLS record by the server
            }
        }
    }
}
