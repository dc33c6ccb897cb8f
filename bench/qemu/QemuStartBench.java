import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.corral.cluster.ClusterStore;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.node.Node;
import org.corral.core.task.TaskManager;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.corral.qemu.QmpClient;
import org.corral.qemu.QemuService;
import org.corral.qemu.VmPaths;
import org.corral.qemu.config.VmConfig;
import org.corral.storage.StorageService;

/**
 * VM start latency: the API call {@code POST /nodes/{node}/qemu/100/status/start} (in process,
 * through the real dispatcher) until its task reports QEMU up, QMP negotiated, taps plugged and
 * the guest continued; against the baseline of launching {@code qemu-system-x86_64} with the very
 * same command line and negotiating QMP. Both under TCG, a 1 GiB qcow2 disk, the test guest ISO
 * as cdrom when it is cached. Median of N runs after warm-up. Run: bench/qemu/run [N]
 */
public final class QemuStartBench {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "cqb");
        int[] ports = freePorts(4);
        Node node = new Node("bench", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", ports[0],
                new Node.ZooKeeperPorts(ports[1], ports[2], ports[3]));
        Files.createDirectories(node.localDir());
        try (ClusterStore cluster = ClusterStore.start(node); TaskManager tasks = new TaskManager(node)) {
            StorageService storage = new StorageService(node, cluster.store(), tasks, Clock.systemUTC());
            storage.initialize();
            try (QemuService qemu = new QemuService(node, cluster.store(), tasks, new ConsoleProxies(Clock.systemUTC()), storage,
                    Clock.systemUTC())) {
                AuthContext root = AuthContext.user("root@pam", "127.0.0.1");
                ApiDispatcher api = new ApiDispatcher(new ApiRegistry(qemu.apiModules()), (auth, path) -> EnumSet.allOf(Privilege.class));
                Map<String, String> create = new java.util.LinkedHashMap<>(Map.of("vmid", "100", "kvm", "0", "memory", "256",
                        "scsihw", "virtio-scsi-pci", "scsi0", "local:1,format=qcow2", "serial0", "socket"));
                Path cache = Path.of(System.getProperty("user.home"), ".cache/corral/qemu-guest");
                Optional<Path> guest = Optional.empty();
                if (Files.isDirectory(cache)) {
                    try (Stream<Path> files = Files.list(cache)) {
                        guest = files.filter(p -> p.getFileName().toString().matches("corral-guest-v\\d+\\.iso")).findFirst();
                    }
                }
                if (guest.isPresent()) {
                    Path iso = guest.get();
                    Path target = node.dataDir().resolve("storage/local/template/iso/guest.iso");
                    Files.createDirectories(target.getParent());
                    Files.copy(iso, target);
                    create.put("ide2", "local:iso/guest.iso,media=cdrom");
                }
                await(tasks, (String) api.dispatch(HttpVerb.POST, "/nodes/bench/qemu", create, root));
                VmConfig config = qemu.configs().load(100).config();
                List<String> command = qemu.driver().commandLine(100, config, Optional.empty());
                VmPaths paths = VmPaths.of(node, 100);

                List<Double> corral = new ArrayList<>();
                List<Double> bare = new ArrayList<>();
                int warmup = 3;
                for (int i = 0; i < runs + warmup; i++) {
                    long t0 = System.nanoTime();
                    String upid = (String) api.dispatch(HttpVerb.POST, "/nodes/bench/qemu/100/status/start", Map.of(), root);
                    await(tasks, upid);
                    long t1 = System.nanoTime();
                    await(tasks, (String) api.dispatch(HttpVerb.POST, "/nodes/bench/qemu/100/status/stop", Map.of(), root));

                    long b0 = System.nanoTime();
                    Process launcher = new ProcessBuilder(command).redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
                    if (!launcher.waitFor(30, TimeUnit.SECONDS) || launcher.exitValue() != 0) {
                        throw new IllegalStateException("bare QEMU did not start");
                    }
                    try (QmpClient client = QmpClient.connect(paths.qmp(), Duration.ofSeconds(10))) {
                        long b1 = System.nanoTime();
                        long pid = Long.parseLong(Files.readString(paths.pid()).strip());
                        client.execute("quit");
                        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                                && !Files.readString(Path.of("/proc/" + pid + "/stat")).contains(") Z ")) {
                            Thread.sleep(10);
                        }
                        if (i >= warmup) {
                            corral.add((t1 - t0) / 1e6);
                            bare.add((b1 - b0) / 1e6);
                        }
                    }
                }
                double corralMedian = median(corral);
                double bareMedian = median(bare);
                System.out.println();
                System.out.printf("%-52s %10s %10s %10s%n", "VM start to QMP ready (TCG, " + runs + " runs)", "median ms", "p90 ms", "min ms");
                System.out.printf("%-52s %10.1f %10.1f %10.1f%n", "bare qemu-system-x86_64 (same command line)", bareMedian,
                        percentile(bare, 0.9), percentile(bare, 0));
                System.out.printf("%-52s %10.1f %10.1f %10.1f%n", "corral API start call -> task done", corralMedian,
                        percentile(corral, 0.9), percentile(corral, 0));
                System.out.printf("added by corral: %.1f ms (target < 100 ms): %s%n", corralMedian - bareMedian,
                        corralMedian - bareMedian < 100 ? "OK" : "MISSED");
                await(tasks, (String) api.dispatch(HttpVerb.DELETE, "/nodes/bench/qemu/100", Map.of("purge", "1"), root));
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static void await(TaskManager tasks, String upid) {
        TaskStatus status = tasks.awaitCompletion(Upid.parse(upid), Duration.ofMinutes(2));
        if (!status.exitstatus().orElse("running").equals("OK")) {
            throw new IllegalStateException("task " + upid + " ended with " + status.exitstatus().orElse("running"));
        }
    }

    static double median(List<Double> values) {
        return percentile(values, 0.5);
    }

    static double percentile(List<Double> values, double p) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get((int) Math.min(sorted.size() - 1, Math.round(p * (sorted.size() - 1))));
    }

    static int[] freePorts(int count) throws Exception {
        ServerSocket[] sockets = new ServerSocket[count];
        int[] ports = new int[count];
        for (int i = 0; i < count; i++) {
            sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            ports[i] = sockets[i].getLocalPort();
        }
        for (ServerSocket s : sockets) {
            s.close();
        }
        return ports;
    }
}
