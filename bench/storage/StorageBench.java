import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
import org.corral.core.node.Node;
import org.corral.core.task.TaskManager;
import org.corral.storage.Sizes;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;

/**
 * Storage benchmark (issue 4), on a dir storage in a temporary directory:
 * creating and freeing 1,000 volumes through StorageService (raw images through qemu-img, and
 * container directories), and listing content with 10,000 volumes present (through the service
 * and through the API dispatcher). Baselines come from the same run: the same number of plain
 * Files.createFile/delete and mkdir/rmdir calls, the same number of bare `qemu-img create`
 * processes, and `ls -lR` / a Java walk of the same tree. Run: bench/storage/run
 */
public final class StorageBench {
    private static final int VOLUMES = 1_000;
    private static final int LISTED = 10_000;
    private static final int ROUNDS = 5;

    record Result(String name, double millis, int operations, String baseline) {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("corral-storage-bench");
        List<Result> results = new ArrayList<>();
        Map<String, Double> baselines = new HashMap<>();
        Node node = new Node("benchnode", dir.resolve("node/data"), dir.resolve("node/run"), "127.0.0.1", 0, new Node.ZooKeeperPorts(0, 0, 0));
        try (TaskManager tasks = new TaskManager(node)) {
            StorageService storages = new StorageService(node, new MemoryStore(), tasks, Clock.systemUTC());
            Path path = dir.resolve("bench");
            storages.updateConfig(cfg -> cfg.with(new StorageConfig("dir", "bench", Map.of("path", path.toString(),
                    "content", "images,rootdir,iso"))));
            storages.state("bench");

            // warm-up: JIT and the page cache
            cycle(storages, 100, VolumeFormat.RAW);
            cycle(storages, 100, VolumeFormat.SUBVOL);

            Path plain = dir.resolve("plain");
            Files.createDirectories(plain);
            baselines.put("file", time(() -> {
                for (int i = 0; i < VOLUMES; i++) {
                    Files.createFile(plain.resolve("f" + i));
                }
                for (int i = 0; i < VOLUMES; i++) {
                    Files.delete(plain.resolve("f" + i));
                }
            }));
            results.add(new Result("baseline: Files.createFile + delete", baselines.get("file"), VOLUMES, "file"));
            baselines.put("dir", time(() -> {
                for (int i = 0; i < VOLUMES; i++) {
                    Files.createDirectory(plain.resolve("d" + i));
                }
                for (int i = 0; i < VOLUMES; i++) {
                    Files.delete(plain.resolve("d" + i));
                }
            }));
            results.add(new Result("baseline: Files.createDirectory + delete", baselines.get("dir"), VOLUMES, "dir"));
            baselines.put("qemu-img", time(() -> {
                for (int i = 0; i < VOLUMES; i++) {
                    Process p = new ProcessBuilder("qemu-img", "create", "-f", "raw", plain.resolve("q" + i).toString(), "1M")
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    if (p.waitFor() != 0) {
                        throw new IllegalStateException("qemu-img failed");
                    }
                }
                for (int i = 0; i < VOLUMES; i++) {
                    Files.delete(plain.resolve("q" + i));
                }
            }));
            results.add(new Result("baseline: qemu-img create process + delete", baselines.get("qemu-img"), VOLUMES, "qemu-img"));

            long[] split = new long[2];
            double raw = time(() -> split(storages, VOLUMES, VolumeFormat.RAW, split));
            results.add(new Result("alloc+free raw (qemu-img)", raw, VOLUMES, "qemu-img"));
            results.add(new Result("  of which alloc", split[0] / 1e6, VOLUMES, "qemu-img"));
            results.add(new Result("  of which free", split[1] / 1e6, VOLUMES, "file"));
            double subvol = time(() -> split(storages, VOLUMES, VolumeFormat.SUBVOL, split));
            results.add(new Result("alloc+free subvol (directory)", subvol, VOLUMES, "dir"));

            seed(path, LISTED);
            int listed = storages.list("bench", Optional.empty(), Optional.empty()).size();
            if (listed != LISTED) {
                throw new IllegalStateException("expected " + LISTED + " volumes, listed " + listed);
            }
            baselines.put("ls", median(() -> {
                Process p = new ProcessBuilder("ls", "-lR", path.resolve("images").toString()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                p.waitFor();
            }));
            results.add(new Result("baseline: ls -lR images/ (10,000 files)", baselines.get("ls"), LISTED, "ls"));
            double walk = median(() -> {
                try (Stream<Path> files = Files.walk(path.resolve("images"))) {
                    long count = files.filter(Files::isRegularFile).mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }).count();
                    if (count != LISTED) {
                        throw new IllegalStateException("walk saw " + count);
                    }
                }
            });
            results.add(new Result("baseline: Java Files.walk + size", walk, LISTED, "ls"));
            results.add(new Result("StorageService.list, 10,000 volumes", median(() -> {
                List<VolumeInfo> all = storages.list("bench", Optional.empty(), Optional.empty());
                if (all.size() != LISTED) {
                    throw new IllegalStateException("listed " + all.size());
                }
            }), LISTED, "ls"));
            ApiDispatcher dispatcher = new ApiDispatcher(new ApiRegistry(storages.apiModules()),
                    (auth, p) -> EnumSet.allOf(Privilege.class));
            AuthContext root = AuthContext.user("root@pam", "127.0.0.1");
            results.add(new Result("GET .../content via dispatcher, 10,000", median(() -> {
                Object answer = dispatcher.dispatch(HttpVerb.GET, "/nodes/benchnode/storage/bench/content", Map.of(), root);
                if (((List<?>) answer).size() != LISTED) {
                    throw new IllegalStateException("API listed " + ((List<?>) answer).size());
                }
            }), LISTED, "ls"));
            results.add(new Result("StorageService.list, one VM of 1,000", median(() -> {
                if (storages.list("bench", Optional.of(1500), Optional.empty()).size() != LISTED / 1000) {
                    throw new IllegalStateException("one VM");
                }
            }), LISTED / 1000, "ls"));
        } finally {
            deleteTree(dir);
        }
        System.out.println();
        System.out.printf("%-44s %10s %10s %14s%n", "benchmark (dir storage, " + Runtime.getRuntime().availableProcessors() + " cpus)", "total ms",
                "us/op", "vs baseline");
        for (Result r : results) {
            double base = baselines.get(r.baseline());
            String ratio = r.name().startsWith("baseline") ? "" : String.format("%.2fx %s", r.millis() / base, r.baseline());
            System.out.printf("%-44s %10.1f %10.1f %14s%n", r.name(), r.millis(), r.millis() * 1000 / r.operations(), ratio);
        }
        System.out.println("ratios: time relative to the named baseline of the same run (file: createFile+delete, dir: mkdir+rmdir, "
                + "qemu-img: bare qemu-img processes, ls: ls -lR of the 10,000 files)");
    }

    private static void cycle(StorageService storages, int count, VolumeFormat format) {
        split(storages, count, format, new long[2]);
    }

    private static void split(StorageService storages, int count, VolumeFormat format, long[] nanos) {
        List<String> volumes = new ArrayList<>(count);
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            volumes.add(storages.alloc("bench", 1000 + i / 10, Optional.of(format), Optional.empty(), Sizes.MIB));
        }
        long middle = System.nanoTime();
        for (String volid : volumes) {
            storages.free(volid);
        }
        nanos[0] = middle - start;
        nanos[1] = System.nanoTime() - middle;
    }

    /** 10,000 volumes of 1,000 VMs, made directly: 9 sparse raw files and 1 qcow2 image each. */
    private static void seed(Path storage, int count) throws Exception {
        Path template = storage.resolve("template.qcow2");
        Process p = new ProcessBuilder("qemu-img", "create", "-f", "qcow2", template.toString(), "32G").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("qemu-img failed");
        }
        for (int i = 0; i < count; i++) {
            int vmid = 1000 + i / 10;
            int disk = i % 10;
            Path vm = storage.resolve("images/" + vmid);
            Files.createDirectories(vm);
            if (disk == 9) {
                Files.copy(template, vm.resolve("vm-" + vmid + "-disk-" + disk + ".qcow2"));
            } else {
                try (RandomAccessFile file = new RandomAccessFile(vm.resolve("vm-" + vmid + "-disk-" + disk + ".raw").toFile(), "rw")) {
                    file.setLength(32 * Sizes.GIB);
                }
            }
        }
        Files.delete(template);
    }

    interface Work {
        void run() throws Exception;
    }

    private static double time(Work work) throws Exception {
        long start = System.nanoTime();
        work.run();
        return (System.nanoTime() - start) / 1e6;
    }

    private static double median(Work work) throws Exception {
        work.run();
        double[] times = new double[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            times[i] = time(work);
        }
        Arrays.sort(times);
        return times[ROUNDS / 2];
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The smallest config store: versions and compare-and-set, in memory. */
    private static final class MemoryStore implements ConfigStore {
        private final Map<String, ConfigFile> files = new HashMap<>();

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
            return files.remove(path) != null;
        }

        @Override
        public List<String> list(String dir) {
            return List.of();
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
