import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.data.Stat;
import org.corral.cluster.ClusterStore;
import org.corral.cluster.EmbeddedZooKeeper;
import org.corral.cluster.StoreTls;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;

/**
 * Write latency of the config store on a 3-member ensemble: Corral's compare-and-set write
 * (ZkConfigStore.write, a VM config-sized file) against a raw Curator setData with a version on a
 * znode of the same size, by clients of the same member. Rounds alternate so that both see the
 * same machine load; percentiles are over all rounds.
 */
public class StoreBench {
    private static final int ROUNDS = 4;

    public static void main(String[] args) throws Exception {
        int writes = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        Path dir = Files.createTempDirectory("corral-store-bench");
        List<ClusterStore> members = new ArrayList<>();
        try {
            Node[] nodes = {node(dir, "pve1"), node(dir, "pve2"), node(dir, "pve3")};
            ClusterStore first = ClusterStore.start(nodes[0]);
            members.add(first);
            for (int i = 1; i < nodes.length; i++) {
                ClusterStore member = members.getLast();
                StoreTls tls = EmbeddedZooKeeper.joiningTls(nodes[i], member.zooKeeper().tls().caPem(), member.zooKeeper().tls().caKeyPem());
                EmbeddedZooKeeper.prepareJoin(nodes[i], i + 1, member.ensemble(), false, member.zooKeeper().credentials(), tls);
                ClusterStore joined = ClusterStore.start(nodes[i]);
                members.add(joined);
                joined.addMember(EmbeddedZooKeeper.serverLine(nodes[i], i + 1, false));
                EmbeddedZooKeeper.discardJoiningTls(nodes[i]);
            }
            System.out.printf("ensemble: %s%n", first.ensemble());
            ClusterStore client = members.get(1); // a follower's store: writes go through the leader, as on most nodes
            String text = "boot: order=scsi0\ncores: 2\nmemory: 2048\nname: bench\nnet0: virtio=BC:24:11:00:00:01,bridge=vmbr0\n"
                    + "scsi0: local:100/vm-100-disk-0.raw,size=8G\nscsihw: virtio-scsi-pci\n".repeat(2);
            byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);

            ConfigStore store = client.store();
            String path = "nodes/pve2/qemu-server/100.conf";
            store.write(path, text, ConfigStore.NEW);
            try (CuratorFramework raw = CuratorFrameworkFactory.builder()
                    .connectString(client.zooKeeper().connectString())
                    .authorization("digest", client.zooKeeper().credentials().authBytes())
                    .zkClientConfig(client.zooKeeper().tls().clientConfig())
                    .retryPolicy(new RetryNTimes(3, 100)).ensembleTracker(false).build()) {
                raw.start();
                raw.blockUntilConnected(30, TimeUnit.SECONDS);
                String znode = "/bench-raw";
                raw.create().withACL(client.zooKeeper().credentials().acl()).forPath(znode, bytes);

                long[] corral = new long[writes * ROUNDS];
                long[] zk = new long[writes * ROUNDS];
                warmUp(store, path, text, raw, znode, bytes, writes / 4);
                for (int round = 0; round < ROUNDS; round++) {
                    int version = store.read(path).orElseThrow().version();
                    for (int i = 0; i < writes; i++) {
                        long start = System.nanoTime();
                        version = store.write(path, text, version);
                        corral[round * writes + i] = System.nanoTime() - start;
                    }
                    Stat stat = raw.checkExists().forPath(znode);
                    int rawVersion = stat.getVersion();
                    for (int i = 0; i < writes; i++) {
                        long start = System.nanoTime();
                        rawVersion = raw.setData().withVersion(rawVersion).forPath(znode, bytes).getVersion();
                        zk[round * writes + i] = System.nanoTime() - start;
                    }
                }
                report("raw ZooKeeper (Curator setData)", zk, null);
                report("Corral store (ZkConfigStore.write)", corral, zk);
            }
        } finally {
            for (int i = members.size() - 1; i >= 0; i--) {
                members.get(i).close();
            }
            try (var all = Files.walk(dir)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void warmUp(ConfigStore store, String path, String text, CuratorFramework raw, String znode, byte[] bytes, int n)
            throws Exception {
        int version = store.read(path).orElseThrow().version();
        for (int i = 0; i < n; i++) {
            version = store.write(path, text, version);
            raw.setData().forPath(znode, bytes);
        }
    }

    private static void report(String name, long[] nanos, long[] baseline) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        double p50 = pct(sorted, 0.50), p95 = pct(sorted, 0.95), p99 = pct(sorted, 0.99);
        String ratio = "";
        if (baseline != null) {
            long[] base = baseline.clone();
            Arrays.sort(base);
            ratio = String.format("   p50 ratio %.2fx, p95 ratio %.2fx of raw ZooKeeper", p50 / pct(base, 0.50), p95 / pct(base, 0.95));
        }
        System.out.printf("%-36s %6d writes  p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms%s%n", name, nanos.length, p50 / 1e6, p95 / 1e6,
                p99 / 1e6, ratio);
    }

    private static double pct(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
    }

    private static Node node(Path dir, String name) throws Exception {
        int[] ports = new int[4];
        ServerSocket[] sockets = new ServerSocket[4];
        for (int i = 0; i < 4; i++) {
            sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            ports[i] = sockets[i].getLocalPort();
        }
        for (ServerSocket socket : sockets) {
            socket.close();
        }
        Path nodeDir = dir.resolve(name);
        return new Node(name, nodeDir.resolve("data"), nodeDir.resolve("run"), "127.0.0.1", ports[0],
                new Node.ZooKeeperPorts(ports[1], ports[2], ports[3]));
    }
}
