package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.corral.core.error.ApiException;
import org.corral.core.node.Node;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The running QEMU processes of this node: found by pidfile, checked against
 * {@code /proc/PID/cmdline} (the process must be a QEMU with this VM's QMP socket), and reached
 * through one QMP connection per VM, kept open and reopened when it drops. Nothing here lives
 * only in memory: a restarted daemon finds its VMs the same way.
 */
public final class VmRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VmRuntime.class);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final Node node;
    private final Map<Integer, QmpClient> monitors = new ConcurrentHashMap<>();
    private final Map<Integer, ReentrantLock> connectLocks = new ConcurrentHashMap<>();
    private final Map<Integer, ReentrantLock> vmLocks = new ConcurrentHashMap<>();

    public VmRuntime(Node node) {
        this.node = requireNonNull(node, "node is null");
    }

    public VmPaths paths(int vmid) {
        return VmPaths.of(node, vmid);
    }

    /** The local lock that serializes lifecycle operations on one VM within this daemon. */
    public ReentrantLock vmLock(int vmid) {
        return vmLocks.computeIfAbsent(vmid, id -> new ReentrantLock());
    }

    /** The pid of the VM's QEMU if it runs: the pidfile names a live, non-zombie QEMU process of this VM. */
    public Optional<Long> pid(int vmid) {
        VmPaths paths = paths(vmid);
        String text;
        try {
            text = Files.readString(paths.pid()).strip();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            log.warn("Cannot read {}: {}", paths.pid(), e.getMessage());
            return Optional.empty();
        }
        if (!text.matches("\\d{1,10}")) {
            return Optional.empty();
        }
        long pid = Long.parseLong(text);
        return isOurQemu(pid, paths) ? Optional.of(pid) : Optional.empty();
    }

    public boolean isRunning(int vmid) {
        return pid(vmid).isPresent();
    }

    static boolean isOurQemu(long pid, VmPaths paths) {
        Path proc = Path.of("/proc", Long.toString(pid));
        try {
            byte[] cmdline = Files.readAllBytes(proc.resolve("cmdline"));
            String text = new String(cmdline, StandardCharsets.UTF_8).replace('\0', ' ');
            if (!text.contains("qemu-system") || !text.contains("path=" + paths.qmp() + ",")) {
                return false;
            }
            return !processState(pid).equals("Z");
        } catch (IOException e) {
            return false;
        }
    }

    /** The state letter of /proc/PID/stat ({@code R}, {@code S}, {@code Z}, ...), or {@code X} when gone. */
    static String processState(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        } catch (IOException | StringIndexOutOfBoundsException e) {
            return "X";
        }
    }

    /** Whether the process is gone (or a zombie nobody reaped yet). */
    static boolean isGone(long pid) {
        String state = processState(pid);
        return state.equals("X") || state.equals("Z");
    }

    /** The VM's QMP connection, opened when needed; refuses a VM that does not run. */
    public QmpClient qmp(int vmid) {
        QmpClient client = monitors.get(vmid);
        if (client != null && client.isOpen()) {
            return client;
        }
        ReentrantLock lock = connectLocks.computeIfAbsent(vmid, id -> new ReentrantLock());
        lock.lock();
        try {
            client = monitors.get(vmid);
            if (client != null && client.isOpen()) {
                return client;
            }
            if (!isRunning(vmid)) {
                throw notRunning(vmid);
            }
            QmpClient connected = QmpClient.connect(paths(vmid).qmp(), CONNECT_TIMEOUT);
            connected.onEvent(event -> log.debug("VM {}: QMP event {} {}", vmid, event.name(), event.data()));
            connected.closed().thenRun(() -> monitors.remove(vmid, connected));
            monitors.put(vmid, connected);
            return connected;
        } finally {
            lock.unlock();
        }
    }

    /** Runs a QMP command on a running VM; Proxmox's wording on failure. */
    public JsonNode command(int vmid, String command, Map<String, ?> arguments, Duration timeout) {
        try {
            return qmp(vmid).execute(command, arguments, timeout);
        } catch (QmpException e) {
            throw new ApiException(500, "VM " + vmid + " qmp command '" + command + "' failed - " + e.getMessage());
        }
    }

    public JsonNode command(int vmid, String command, Map<String, ?> arguments) {
        return command(vmid, command, arguments, Duration.ofSeconds(10));
    }

    public JsonNode command(int vmid, String command) {
        return command(vmid, command, Map.of());
    }

    /** Drops the QMP connection of a VM (it stopped). */
    public void disconnect(int vmid) {
        QmpClient client = monitors.remove(vmid);
        if (client != null) {
            client.close();
        }
    }

    /** Removes what a stopped VM left in the run directory. */
    public void cleanup(int vmid) {
        VmPaths paths = paths(vmid);
        for (Path file : new Path[] {paths.pid(), paths.qmp(), paths.vnc(), paths.agent(), paths.serial(0), paths.serial(1),
            paths.serial(2), paths.serial(3)}) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                log.warn("Cannot remove {}: {}", file, e.getMessage());
            }
        }
    }

    public static ApiException notRunning(int vmid) {
        return new ApiException(500, "VM " + vmid + " not running");
    }

    /** CPU ticks (user + system) and start time (ticks since boot) of a process, from /proc/PID/stat. */
    public record ProcessStat(long cpuTicks, long startTicks, long rssBytes) {}

    public static Optional<ProcessStat> stat(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22, rss 24
            long utime = Long.parseLong(fields[11]);
            long stime = Long.parseLong(fields[12]);
            long start = Long.parseLong(fields[19]);
            long rssPages = Long.parseLong(fields[21]);
            return Optional.of(new ProcessStat(utime + stime, start, rssPages * 4096));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        monitors.values().forEach(QmpClient::close);
        monitors.clear();
    }
}
