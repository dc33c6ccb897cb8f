import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.StaleVersionException;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.node.Node;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskManager;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.corral.lxc.LxcService;
import org.corral.lxc.template.BusyboxTemplate;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;

/**
 * Container benchmark (issue 6), on a loop-file btrfs and a bridge it makes and removes:
 * (1) the time from the API's status/start call until the container runs (the task ends when
 * lxc-info reports RUNNING), median of 20 runs, against the baseline measured in the same run
 * and interleaved with it: a bare `lxc-start -d` of the same generated config followed by
 * `lxc-info` until RUNNING; target less than 100 ms added. (2) The rate of creating and
 * starting 50 containers from one template as linked clones on btrfs, one after another and
 * with 8 at a time. Run: bench/lxc/run
 */
public final class LxcBench {
    private static final int RUNS = 20;
    private static final int WARMUP = 3;
    private static final int CLONES = 50;
    private static final int PARALLEL = 8;
    private static final int CT = 8000;
    private static final AuthContext ROOT = AuthContext.user("root@pam", "127.0.0.1");

    public static void main(String[] args) throws Exception {
        Path work = Path.of("/var/tmp", "corral-lxc-bench-" + UUID.randomUUID().toString().substring(0, 8));
        Files.createDirectories(work);
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path image = work.resolve("btrfs.img");
        Path mount = Files.createDirectories(work.resolve("btrfs"));
        String loop = null;
        String bridge = "corrbench0";
        Node node = new Node("benchnode", work.resolve("data"), work.resolve("run"), "127.0.0.1", 0, new Node.ZooKeeperPorts(0, 0, 0));
        TaskManager tasks = new TaskManager(node);
        LxcService lxc = null;
        try {
            run("truncate", "-s", "4G", image.toString());
            loop = run("losetup", "--find", "--show", image.toString()).trim();
            run("mkfs.btrfs", "-q", "-f", loop);
            run("mount", loop, mount.toString());
            Files.setPosixFilePermissions(mount, PosixFilePermissions.fromString("rwxr-xr-x"));
            ProcessRunner.of("ip", "link", "del", bridge).run();
            run("ip", "link", "add", bridge, "type", "bridge");
            run("ip", "addr", "add", "10.249.0.1/16", "dev", bridge);
            run("ip", "link", "set", bridge, "up");

            MemoryStore store = new MemoryStore();
            StorageService storage = new StorageService(node, store, tasks, Clock.systemUTC());
            storage.updateConfig(cfg -> cfg.with(new StorageConfig("dir", "local", Map.of("path", work.resolve("local").toString(),
                    "content", "vztmpl,rootdir,images"))).with(new StorageConfig("btrfs", "tank", Map.of("path", mount.toString(),
                    "content", "rootdir,images"))));
            Path templates = Files.createDirectories(storage.contentDirectory("local", org.corral.storage.ContentType.VZTMPL));
            Files.copy(busybox(), templates.resolve("busybox.tar.gz"));
            lxc = new LxcService(node, store, tasks, new ConsoleProxies(Clock.systemUTC()), storage, Clock.systemUTC());
            ApiDispatcher api = new ApiDispatcher(new ApiRegistry(lxc.apiModules()), (auth, path) -> EnumSet.allOf(Privilege.class));
            String ct = "/nodes/benchnode/lxc/" + CT;

            await(tasks, api.dispatch(HttpVerb.POST, "/nodes/benchnode/lxc", Map.of("vmid", Integer.toString(CT),
                    "ostemplate", "local:vztmpl/busybox.tar.gz", "rootfs", "tank:0.25", "memory", "64", "swap", "0", "cores", "1",
                    "net0", "name=eth0,bridge=" + bridge + ",ip=10.249.0.2/16,gw=10.249.0.1"), ROOT));

            // (1) start latency, API and bare lxc-start interleaved
            String lxcpath = lxc.driver().lxcPath().toString();
            List<Double> viaApi = new ArrayList<>();
            List<Double> bare = new ArrayList<>();
            for (int i = 0; i < WARMUP + RUNS; i++) {
                long t0 = System.nanoTime();
                await(tasks, api.dispatch(HttpVerb.POST, ct + "/status/start", Map.of(), ROOT));
                double apiMs = (System.nanoTime() - t0) / 1e6;
                lxc.driver().stop(CT);
                long t1 = System.nanoTime();
                run("lxc-start", "-P", lxcpath, "-n", Integer.toString(CT), "-d");
                while (!run("lxc-info", "-P", lxcpath, "-n", Integer.toString(CT), "-s").contains("RUNNING")) {
                    Thread.onSpinWait();
                }
                double bareMs = (System.nanoTime() - t1) / 1e6;
                run("lxc-stop", "-P", lxcpath, "-n", Integer.toString(CT), "-k");
                if (i >= WARMUP) {
                    viaApi.add(apiMs);
                    bare.add(bareMs);
                }
            }

            // (2) 50 linked clones of a template on btrfs, created and started
            lxc.provisioning().template(CT);
            LxcService service = lxc;
            double sequential = clones(api, tasks, service, 8100, 1);
            double parallel = clones(api, tasks, service, 8200, PARALLEL);

            double apiMedian = median(viaApi);
            double bareMedian = median(bare);
            System.out.println();
            System.out.printf("%-62s %10s %10s%n", "benchmark", "median ms", "p90 ms");
            System.out.printf("%-62s %10.1f %10.1f%n", "start until RUNNING, bare lxc-start -d + lxc-info (baseline)", bareMedian,
                    percentile(bare, 0.9));
            System.out.printf("%-62s %10.1f %10.1f%n", "start until RUNNING, Corral API status/start task", apiMedian,
                    percentile(viaApi, 0.9));
            System.out.printf("%-62s %10.1f   (target < 100 ms, ratio %.2fx)%n", "added by Corral", apiMedian - bareMedian,
                    apiMedian / bareMedian);
            System.out.println();
            System.out.printf("%-62s %10s %10s%n", CLONES + " linked clones on btrfs, clone + start each", "total s", "CTs/s");
            System.out.printf("%-62s %10.2f %10.2f%n", "one after another", sequential, CLONES / sequential);
            System.out.printf("%-62s %10.2f %10.2f%n", PARALLEL + " at a time", parallel, CLONES / parallel);
        } finally {
            if (lxc != null) {
                for (int vmid : lxc.configs().list()) {
                    try {
                        lxc.driver().stop(vmid);
                    } catch (RuntimeException e) {
                        System.err.println("stop " + vmid + ": " + e.getMessage());
                    }
                }
            }
            tasks.close();
            ProcessRunner.of("ip", "link", "del", bridge).run();
            ProcessRunner.of("umount", mount.toString()).run();
            if (loop != null) {
                ProcessRunner.of("losetup", "-d", loop).run();
            }
            try (Stream<Path> walk = Files.walk(work)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Clones the template {@code count} times and starts each clone; answers the seconds taken, then removes them. */
    private static double clones(ApiDispatcher api, TaskManager tasks, LxcService lxc, int firstId, int threads) throws Exception {
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < CLONES; i++) {
                int vmid = firstId + i;
                done.add(pool.submit(() -> {
                    await(tasks, api.dispatch(HttpVerb.POST, "/nodes/benchnode/lxc/" + CT + "/clone",
                            Map.of("newid", Integer.toString(vmid), "hostname", "clone" + vmid), ROOT));
                    await(tasks, api.dispatch(HttpVerb.POST, "/nodes/benchnode/lxc/" + vmid + "/status/start", Map.of(), ROOT));
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (int i = 0; i < CLONES; i++) {
            int vmid = firstId + i;
            await(tasks, api.dispatch(HttpVerb.DELETE, "/nodes/benchnode/lxc/" + vmid, Map.of("force", "1", "purge", "1"), ROOT));
        }
        return seconds;
    }

    private static void await(TaskManager tasks, Object upid) {
        TaskStatus status = tasks.awaitCompletion(Upid.parse((String) upid), Duration.ofMinutes(5));
        if (!status.exitstatus().orElse("running").equals("OK")) {
            throw new IllegalStateException("task " + upid + " ended with " + status.exitstatus().orElse("running"));
        }
    }

    private static Path busybox() throws IOException {
        Path cache = Path.of(System.getProperty("user.home"), ".cache", "corral", "lxc");
        Files.createDirectories(cache);
        try (Stream<Path> list = Files.list(cache)) {
            Optional<Path> cached = list.filter(p -> p.getFileName().toString().matches("busybox-.*-corral_1_amd64\\.tar\\.gz")).findFirst();
            if (cached.isPresent()) {
                return cached.get();
            }
        }
        return new BusyboxTemplate().build(cache);
    }

    private static String run(String... command) {
        return ProcessRunner.of(command).timeout(Duration.ofMinutes(2)).run().check().stdout();
    }

    private static double median(List<Double> values) {
        return percentile(values, 0.5);
    }

    private static double percentile(List<Double> values, double p) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get((int) Math.min(sorted.size() - 1, Math.round(p * (sorted.size() - 1))));
    }

    /** The config store in memory, with compare-and-set writes and listings. */
    private static final class MemoryStore implements ConfigStore {
        private final TreeMap<String, ConfigFile> files = new TreeMap<>();

        @Override
        public synchronized Optional<ConfigFile> read(String path) {
            return Optional.ofNullable(files.get(path));
        }

        @Override
        public synchronized int write(String path, String text, int expectedVersion) {
            int version = files.containsKey(path) ? files.get(path).version() : NEW;
            if (version != expectedVersion) {
                throw new StaleVersionException(path);
            }
            files.put(path, new ConfigFile(path, text, version + 1));
            return version + 1;
        }

        @Override
        public synchronized int overwrite(String path, String text) {
            int version = files.containsKey(path) ? files.get(path).version() + 1 : 0;
            files.put(path, new ConfigFile(path, text, version));
            return version;
        }

        @Override
        public synchronized boolean delete(String path, int expectedVersion) {
            ConfigFile current = files.get(path);
            if (current == null) {
                return false;
            }
            if (current.version() != expectedVersion) {
                throw new StaleVersionException(path);
            }
            files.remove(path);
            return true;
        }

        @Override
        public synchronized List<String> list(String dir) {
            String prefix = dir.isEmpty() ? "" : dir + "/";
            return files.keySet().stream().filter(p -> p.startsWith(prefix)).map(p -> p.substring(prefix.length()).split("/")[0])
                    .distinct().sorted().toList();
        }

        @Override
        public boolean quorate() {
            return true;
        }

        @Override
        public void sync() {}

        @Override
        public AutoCloseable watch(String prefix, Consumer<String> listener) {
            return () -> { };
        }

        @Override
        public Lock lock(String name, Duration timeout) {
            return () -> { };
        }

        @Override
        public void close() {}
    }
}
