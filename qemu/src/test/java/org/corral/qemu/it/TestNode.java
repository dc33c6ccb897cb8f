package org.corral.qemu.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.corral.cluster.ClusterStore;
import org.corral.core.config.ConfigStore;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.io.FileTrees;
import org.corral.core.node.Node;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskManager;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.corral.qemu.KvmProbe;
import org.corral.qemu.QemuService;
import org.corral.qemu.disk.StorageVolumes;
import org.corral.qemu.disk.Volumes;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;

/**
 * One node for integration tests: a one-member ZooKeeper config store, a task manager and the
 * qemu service, in a short temporary directory (unix socket paths must stay short). Closing it
 * kills every QEMU it started and removes the directory.
 */
public final class TestNode implements AutoCloseable {
    private final Path dir;
    private final Node node;
    private final ClusterStore cluster;
    private final TaskManager tasks;
    private final ConsoleProxies consoles;
    private final StorageService storage;
    private final Volumes volumes;
    private final KvmProbe kvm;
    private QemuService service;

    public TestNode(String name) throws IOException {
        this(name, KvmProbe.standard(Path.of("/tmp")));
    }

    /** A node whose KVM verdict comes from {@code kvm}. */
    public TestNode(String name, KvmProbe kvm) throws IOException {
        this.kvm = kvm;
        this.dir = Files.createTempDirectory(Path.of("/tmp"), "cq");
        int[] ports = freePorts(4);
        this.node = new Node(name, dir.resolve("data"), dir.resolve("run"), "127.0.0.1", ports[0],
                new Node.ZooKeeperPorts(ports[1], ports[2], ports[3]));
        Files.createDirectories(node.runDir());
        Files.createDirectories(node.localDir());
        this.cluster = ClusterStore.start(node);
        this.tasks = new TaskManager(node);
        this.consoles = new ConsoleProxies(Clock.systemUTC());
        this.storage = new StorageService(node, cluster.store(), tasks, Clock.systemUTC());
        storage.initialize();
        Path other = node.dataDir().resolve("storage/other");
        Files.createDirectories(other);
        storage.updateConfig(cfg -> cfg.with(new StorageConfig("dir", "other", Map.of("path", other.toString(), "content", "images,iso"))));
        this.volumes = new StorageVolumes(storage);
        this.service = newService();
    }

    private QemuService newService() {
        return new QemuService(node, cluster.store(), tasks, consoles, volumes, Clock.systemUTC(), kvm);
    }

    /** A new service on the same node, as after a daemon restart (the VMs keep running). */
    public QemuService restartService() {
        service.close();
        service = newService();
        service.recover();
        return service;
    }

    public QemuService service() {
        return service;
    }

    public Node node() {
        return node;
    }

    public ConfigStore store() {
        return cluster.store();
    }

    public TaskManager tasks() {
        return tasks;
    }

    public ConsoleProxies consoles() {
        return consoles;
    }

    public Volumes volumes() {
        return volumes;
    }

    public Path dir() {
        return dir;
    }

    public StorageService storage() {
        return storage;
    }

    /** The test guest ISO in storage {@code local} as {@code local:iso/corral-guest.iso} (a hard link to the cached one). */
    public String guestIso() throws IOException {
        Path target = storageRoot().resolve("local/template/iso/corral-guest.iso");
        if (!Files.exists(target)) {
            Files.createDirectories(target.getParent());
            try {
                Files.createLink(target, GuestImage.iso());
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(GuestImage.iso(), target);
            }
        }
        return "local:iso/corral-guest.iso";
    }

    private Path storageRoot() {
        return node.dataDir().resolve("storage");
    }

    /** Waits for a task to end and answers its exit status. */
    public String await(String upid, Duration timeout) {
        TaskStatus status = tasks.awaitCompletion(Upid.parse(upid), timeout);
        return status.exitstatus().orElse("running");
    }

    /** The task's log, for assertion messages. */
    public String log(String upid) {
        StringBuilder out = new StringBuilder();
        tasks.log(Upid.parse(upid), 0, 0).lines().forEach(l -> out.append(l.t()).append('\n'));
        return out.toString();
    }

    /** Files under the storages, relative: what tests check for orphans. */
    public java.util.List<String> storageFiles() throws IOException {
        Path root = storageRoot();
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).map(p -> root.relativize(p).toString())
                    .filter(p -> !p.startsWith("local/template/") && !p.startsWith("local/snippets/")).sorted().toList();
        }
    }

    /** Creates a VM through the API and waits for the task; answers the UPID. */
    public String createVm(ApiClient api, int vmid, Map<String, String> params) throws Exception {
        Map<String, String> all = new java.util.LinkedHashMap<>(params);
        all.put("vmid", Integer.toString(vmid));
        String upid = (String) api.post("/nodes/" + node.name() + "/qemu", all);
        requireOk(upid, Duration.ofSeconds(60));
        return upid;
    }

    /** A VM that boots the test guest from its cdrom under TCG, with a 1 GiB qcow2 disk and a serial socket. */
    public Map<String, String> guestVm() throws IOException {
        Map<String, String> params = new java.util.LinkedHashMap<>();
        params.put("kvm", "0");
        params.put("memory", "256");
        params.put("scsihw", "virtio-scsi-pci");
        params.put("scsi0", "local:1,format=qcow2");
        params.put("ide2", guestIso() + ",media=cdrom");
        params.put("serial0", "socket");
        params.put("boot", "order=ide2;scsi0");
        return params;
    }

    /** Runs an API call that answers a UPID and waits for the task to end OK. */
    public void requireOk(String upid, Duration timeout) {
        String status = await(upid, timeout);
        if (!status.equals("OK")) {
            throw new AssertionError("task " + upid + " ended with '" + status + "':\n" + log(upid));
        }
    }

    /** The first serial line of the VM that starts with {@code prefix}. */
    public String serialLine(int vmid, String prefix, Duration timeout) throws Exception {
        return SerialConsole.awaitLine(service.driver().runtime().paths(vmid).serial(0), l -> l.startsWith(prefix), timeout);
    }

    /** The first serial line of the VM that starts with {@code prefix} and passes {@code match}. */
    public String serialLine(int vmid, String prefix, java.util.function.Predicate<String> match, Duration timeout) throws Exception {
        return SerialConsole.awaitLine(service.driver().runtime().paths(vmid).serial(0), l -> l.startsWith(prefix) && match.test(l), timeout);
    }

    /** The first 512 bytes of a volume as text (the guest writes its marker there). */
    public String firstSector(String volid) throws IOException {
        Path raw = dir.resolve("sector-" + System.nanoTime() + ".raw");
        try {
            ProcessRunner.of("qemu-img", "dd", "-U", "-f", volumes.format(volid), "-O", "raw", "bs=512",
                    "count=1", "if=" + volumes.path(volid), "of=" + raw).output();
            return new String(Files.readAllBytes(raw), StandardCharsets.ISO_8859_1).replace("\0", "").strip();
        } finally {
            Files.deleteIfExists(raw);
        }
    }

    public Optional<String> config(int vmid) {
        return store().read("nodes/" + node.name() + "/qemu-server/" + vmid + ".conf").map(f -> f.text());
    }

    @Override
    public void close() throws IOException {
        killAll();
        try {
            service.close();
            tasks.close();
        } finally {
            cluster.close();
            FileTrees.deleteTree(dir);
        }
    }

    /** Kills every QEMU whose pidfile is in this node's run directory (checked against its command line). */
    private void killAll() throws IOException {
        Path qemuDir = node.runDir().resolve("qemu-server");
        if (!Files.isDirectory(qemuDir)) {
            return;
        }
        try (Stream<Path> files = Files.list(qemuDir)) {
            for (Path pidfile : files.filter(p -> p.toString().endsWith(".pid")).toList()) {
                long pid = Long.parseLong(Files.readString(pidfile).strip());
                Path cmdline = Path.of("/proc", Long.toString(pid), "cmdline");
                if (Files.exists(cmdline) && new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).contains(qemuDir.toString())) {
                    ProcessHandle.of(pid).ifPresent(p -> {
                        p.destroyForcibly();
                        // gone before the service closes, so that it removes the VM's cgroup
                        try {
                            p.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                        } catch (Exception e) {
                            // left to the next sweep
                        }
                    });
                }
            }
        }
    }

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
