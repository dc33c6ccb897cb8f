package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.OptionalDouble;
import java.util.function.Consumer;
import org.corral.core.cgroup.CgroupStats;
import org.corral.core.cgroup.CpuSampler;
import org.corral.core.error.Conflict;
import org.corral.core.guest.GuestUsage;
import org.corral.core.json.Json;
import org.corral.core.node.Node;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.corral.lxc.config.CtOptions;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.config.MountPoint;
import org.corral.lxc.config.NetConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Runs containers with the {@code lxc-*} tools, never liblxc in this JVM. Each container has
 * its generated config under the node's own lxcpath ({@code RUN/lxc/VMID/config}), so several
 * nodes on one host do not meet, and LXC's monitor process outlives a daemon restart: all state
 * is asked from LXC and the cgroups, so a restarted daemon manages what it finds running.
 */
public final class LxcDriver {
    private static final Logger log = LoggerFactory.getLogger(LxcDriver.class);
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** LXC's container states. */
    public enum State { STOPPED, STARTING, RUNNING, STOPPING, ABORTING, FREEZING, FROZEN, THAWED }

    /** State and init pid, as {@code lxc-info} reports them. */
    public record Info(State state, OptionalLong pid) {}

    /** What a command run in the container left. */
    public record ExecResult(int exitCode, String stdout, String stderr, boolean truncated, boolean timedOut) {}

    private final Node node;
    private final HostFacts host;
    private final ContainerStorage storage;
    private final SubIds subIds;
    private final HostNetwork network;
    private final LxcConfigWriter writer;
    private final ReachableMounts reachable;
    private final CpuSampler cpuSamples = new CpuSampler();

    public LxcDriver(Node node, HostFacts host, ContainerStorage storage, SubIds subIds, HostNetwork network) {
        this.node = requireNonNull(node, "node is null");
        this.host = requireNonNull(host, "host is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.subIds = requireNonNull(subIds, "subIds is null");
        this.network = requireNonNull(network, "network is null");
        this.writer = new LxcConfigWriter(host);
        this.reachable = new ReachableMounts(lxcPath());
    }

    public HostFacts host() {
        return host;
    }

    public HostNetwork network() {
        return network;
    }

    /** The lxcpath of this node's containers. */
    public Path lxcPath() {
        return node.runDir().resolve("lxc");
    }

    public Path containerDir(int vmid) {
        return lxcPath().resolve(Integer.toString(vmid));
    }

    // ---- state

    public Info info(int vmid) {
        if (!Files.exists(containerDir(vmid).resolve("config"))) {
            return new Info(State.STOPPED, OptionalLong.empty());
        }
        ProcessResult result = lxc("lxc-info", vmid, "-s", "-p");
        if (!result.ok()) {
            return new Info(State.STOPPED, OptionalLong.empty());
        }
        State state = State.STOPPED;
        OptionalLong pid = OptionalLong.empty();
        for (String line : result.stdout().split("\n")) {
            String[] parts = line.split(":", 2);
            if (parts.length != 2) {
                continue;
            }
            String value = parts[1].trim();
            if (parts[0].trim().equals("State")) {
                try {
                    state = State.valueOf(value.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    log.warn("Unknown LXC state '{}' of CT {}", value, vmid);
                }
            } else if (parts[0].trim().equals("PID")) {
                try {
                    pid = OptionalLong.of(Long.parseLong(value));
                } catch (NumberFormatException e) {
                    // no pid while stopped
                }
            }
        }
        return new Info(state, pid);
    }

    public State state(int vmid) {
        return info(vmid).state();
    }

    /** Whether LXC runs the container (also when frozen). */
    public boolean isRunning(int vmid) {
        State s = state(vmid);
        return s != State.STOPPED && s != State.ABORTING;
    }

    /** The VMIDs LXC runs under this node's lxcpath; what a restarted daemon takes over. */
    public List<Integer> running() {
        if (!Files.isDirectory(lxcPath())) {
            return List.of();
        }
        ProcessResult result = ProcessRunner.of("lxc-ls", "-P", lxcPath().toString(), "--running", "-1").timeout(TOOL_TIMEOUT).run();
        List<Integer> ids = new ArrayList<>();
        for (String name : result.stdout().split("\\s+")) {
            if (name.matches("\\d+")) {
                ids.add(Integer.parseInt(name));
            }
        }
        ids.sort(Comparator.naturalOrder());
        return ids;
    }

    /**
     * Makes sure root may map the unprivileged id range (also lxc-usernsexec needs it to
     * extract a template); answers whether /etc/subuid or /etc/subgid had to change.
     */
    public boolean prepareUnprivileged() throws IOException {
        return subIds.ensure();
    }

    // ---- config generation

    /**
     * Writes {@code RUN/lxc/VMID/config} and its seccomp rules from the container's config; an
     * unprivileged container's volumes below directories closed to others are bound where it
     * can reach them first (see {@link ReachableMounts}).
     */
    public Path writeConfig(int vmid, CtSection conf) throws IOException {
        MountPoint rootMp = MountPoint.parse("rootfs", conf.get("rootfs").orElseThrow(
                () -> new IllegalStateException("CT " + vmid + " has no rootfs")));
        boolean unprivileged = conf.getBool("unprivileged", false);
        Path rootfs = unprivileged ? reachable.reach(vmid, "rootfs", hostPath(rootMp)) : hostPath(rootMp);
        List<LxcConfigWriter.ResolvedMount> mounts = new ArrayList<>();
        for (String key : mountKeys(conf)) {
            MountPoint mp = MountPoint.parse(key, conf.get(key).orElseThrow());
            Path source = hostPath(mp);
            mounts.add(new LxcConfigWriter.ResolvedMount(mp,
                    unprivileged && mp.type() == MountPoint.Type.VOLUME ? reachable.reach(vmid, key, source) : source));
        }
        Path dir = containerDir(vmid);
        Files.createDirectories(dir);
        // the container's mapped root reads below here while LXC sets it up
        Files.setPosixFilePermissions(lxcPath(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        LxcConfigWriter.Generated generated = writer.generate(vmid, conf, dir, rootfs, mounts);
        writeAtomically(dir.resolve("rules.seccomp"), generated.seccomp());
        Path config = dir.resolve("config");
        writeAtomically(config, generated.config());
        return config;
    }

    private static String extractRootfs(Path config) throws IOException {
        for (String line : Files.readAllLines(config)) {
            if (line.startsWith("lxc.rootfs.path = dir:")) {
                return line.substring("lxc.rootfs.path = dir:".length());
            }
        }
        return "/";
    }

    /**
     * LXC sets up an unprivileged container as its mapped root, which must be able to walk to
     * the container's directory and root file system: refuse clearly when a directory on the way
     * is closed to others, instead of LXC's bare "failed to spawn".
     */
    static void checkReachable(int vmid, List<Path> paths) throws IOException {
        for (Path path : paths) {
            Optional<Path> closed = ReachableMounts.closedDirectory(path);
            if (closed.isPresent()) {
                throw new IllegalStateException("CT " + vmid + ": the unprivileged container's root (uid " + LxcConfigWriter.ID_MAP_BASE
                        + ") can't reach '" + path + "': directory '" + closed.get() + "' is closed to others (mode "
                        + PosixFilePermissions.toString(Files.getPosixFilePermissions(closed.get())) + "); allow it with chmod o+x");
            }
        }
    }

    /**
     * {@code source}, or where it is bound for an unprivileged container whose root can't reach
     * it (a storage below a directory closed to others); {@link #releaseMounts} removes the binds.
     */
    public Path reachable(int vmid, String name, Path source) throws IOException {
        return reachable.reach(vmid, name, source);
    }

    /** Removes the binds {@link #reachable} and start made for the container; call it once the container is stopped. */
    public void releaseMounts(int vmid) {
        try {
            reachable.release(vmid);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the mount table", e);
        }
    }

    static List<String> mountKeys(CtSection conf) {
        return conf.options().keySet().stream().filter(k -> CtOptions.isMountPoint(k) && !k.equals("rootfs"))
                .sorted(Comparator.comparingInt(CtOptions::index)).toList();
    }

    private Path hostPath(MountPoint mp) {
        return switch (mp.type()) {
            case VOLUME -> storage.path(mp.volume());
            case BIND -> {
                Path p = Path.of(mp.volume());
                if (!Files.isDirectory(p)) {
                    throw new IllegalArgumentException(mp.key() + ": bind mount source '" + p + "' is not a directory");
                }
                yield p;
            }
            case DEVICE -> throw new IllegalArgumentException(mp.key() + ": device mount points are not supported");
        };
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static List<NetConfig> nets(CtSection conf) {
        return conf.options().keySet().stream().filter(CtOptions::isNet)
                .sorted(Comparator.comparingInt(CtOptions::index))
                .map(k -> NetConfig.parse(k, conf.get(k).orElseThrow())).toList();
    }

    // ---- lifecycle

    /**
     * Starts the container and waits until LXC reports it running: root's sub-id range, bridges
     * and VLAN support are checked first, the LXC config is generated from {@code conf}, and
     * the host ends of the veths get their rate limits after.
     */
    public void start(int vmid, CtSection conf, Consumer<String> progress, Duration timeout) throws IOException {
        if (isRunning(vmid)) {
            throw new Conflict("CT " + vmid + " already running");
        }
        try {
            startStopped(vmid, conf, progress, timeout);
        } catch (IOException | RuntimeException e) {
            if (!isRunning(vmid)) {
                releaseQuietly(vmid);
            }
            throw e;
        }
    }

    private void startStopped(int vmid, CtSection conf, Consumer<String> progress, Duration timeout) throws IOException {
        List<NetConfig> nets = nets(conf);
        List<String> problems = network.problems(nets);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        if (conf.getBool("unprivileged", false) && prepareUnprivileged()) {
            progress.accept("added root:" + LxcConfigWriter.ID_MAP_BASE + ":" + LxcConfigWriter.ID_MAP_SIZE
                    + " to /etc/subuid and /etc/subgid");
        }
        Path config = writeConfig(vmid, conf);
        if (conf.getBool("unprivileged", false)) {
            List<Path> reached = new ArrayList<>(List.of(config.getParent(), Path.of(extractRootfs(config))));
            checkReachable(vmid, reached);
        }
        Path logFile = containerDir(vmid).resolve("lxc.log");
        Files.deleteIfExists(logFile);
        String level = conf.getBool("debug", false) ? "DEBUG" : "ERROR";
        ProcessResult result = ProcessRunner.of("lxc-start", "-P", lxcPath().toString(), "-n", Integer.toString(vmid), "-d",
                "-o", logFile.toString(), "-l", level).timeout(timeout).run();
        if (!result.ok()) {
            throw new IllegalStateException("startup for container '" + vmid + "' failed" + errors(logFile, result));
        }
        if (!await(vmid, State.RUNNING, timeout)) {
            throw new IllegalStateException("startup for container '" + vmid + "' failed: not running after " + timeout.toSeconds()
                    + " seconds" + errors(logFile, result));
        }
        network.afterStart(vmid, nets).forEach(w -> progress.accept("WARN: " + w));
        nets.stream().filter(NetConfig::firewall).forEach(n ->
                progress.accept("WARN: " + n.key() + ": firewall=1 has no effect yet (no firewall on this node)"));
    }

    private static String errors(Path logFile, ProcessResult result) {
        List<String> lines = new ArrayList<>();
        try {
            if (Files.exists(logFile)) {
                for (String line : Files.readAllLines(logFile)) {
                    if (line.contains(" ERROR ")) {
                        int dash = line.indexOf(" - ", line.indexOf(" ERROR "));
                        String text = dash >= 0 ? line.substring(dash + 3) : line;
                        int inner = text.indexOf(" - ");
                        lines.add(inner >= 0 && text.startsWith("../") ? text.substring(inner + 3) : text);
                    }
                }
            }
        } catch (IOException e) {
            // no log: the exit status is all there is
        }
        if (lines.isEmpty() && !result.stderr().isBlank()) {
            lines.add(result.stderr().strip());
        }
        return lines.isEmpty() ? "" : ": " + String.join("; ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
    }

    /** Waits for {@code wanted}; a container seen stopped for a second after start has failed. */
    private boolean await(int vmid, State wanted, Duration timeout) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        long pause = 2;
        while (true) {
            State state = state(vmid);
            if (state == wanted) {
                return true;
            }
            long now = System.nanoTime();
            if (now > deadline || wanted == State.RUNNING && state == State.STOPPED && now - start > 1_000_000_000L) {
                return false;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            pause = Math.min(pause * 2, 100);
        }
    }

    /** Kills the container at once ({@code lxc-stop -k}); its binds go with it, also when it had stopped on its own. */
    public void stop(int vmid) {
        if (!isRunning(vmid)) {
            releaseQuietly(vmid);
            return;
        }
        ProcessResult result = lxc("lxc-stop", vmid, "-k");
        if (!result.ok() && isRunning(vmid)) {
            throw new IllegalStateException("stopping CT " + vmid + " failed: " + result.describeFailure());
        }
        cpuSamples.forget(vmid);
        releaseQuietly(vmid);
    }

    private void releaseQuietly(int vmid) {
        try {
            reachable.release(vmid);
        } catch (IOException | RuntimeException e) {
            log.warn("Could not remove the binds of CT {}: {}", vmid, e.getMessage());
        }
    }

    /**
     * Asks the container's init to shut down and waits up to {@code timeout}; then kills it if
     * {@code force}, else fails leaving it running.
     */
    public void shutdown(int vmid, Duration timeout, boolean force) {
        if (!isRunning(vmid)) {
            releaseQuietly(vmid);
            return;
        }
        if (state(vmid) == State.FROZEN) {
            lxc("lxc-unfreeze", vmid);
        }
        ProcessRunner.of("lxc-stop", "-P", lxcPath().toString(), "-n", Integer.toString(vmid), "-t", Long.toString(Math.max(1, timeout.toSeconds())),
                "--nokill").timeout(timeout.plusSeconds(30)).run();
        if (!isRunning(vmid)) {
            cpuSamples.forget(vmid);
            releaseQuietly(vmid);
            return;
        }
        if (!force) {
            throw new IllegalStateException("shutdown of CT " + vmid + " timed out after " + timeout.toSeconds() + " seconds");
        }
        stop(vmid);
    }

    public void freeze(int vmid) {
        requireRunning(vmid);
        lxc("lxc-freeze", vmid).check();
    }

    public void unfreeze(int vmid) {
        requireRunning(vmid);
        lxc("lxc-unfreeze", vmid).check();
    }

    private void requireRunning(int vmid) {
        if (!isRunning(vmid)) {
            throw new Conflict("CT " + vmid + " not running");
        }
    }

    /** Removes the generated config of a container that no longer exists. */
    public void forget(int vmid) throws IOException {
        Path dir = containerDir(vmid);
        reachable.release(vmid);
        if (!ReachableMounts.mountsBelow(dir).isEmpty()) {
            // never delete into a bound volume
            throw new IOException("CT " + vmid + ": " + ReachableMounts.mountsBelow(dir) + " still mounted below " + dir);
        }
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (var files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        cpuSamples.forget(vmid);
    }

    // ---- exec

    /** Runs {@code argv} as root inside the running container with a clean environment. */
    public ExecResult exec(int vmid, List<String> argv, Optional<InputStream> input, Duration timeout, int cap) {
        requireRunning(vmid);
        List<String> cmd = new ArrayList<>(List.of("lxc-attach", "-P", lxcPath().toString(), "-n", Integer.toString(vmid),
                "--clear-env", "--set-var", "PATH=" + PATH, "--set-var", "HOME=/root", "--set-var", "TERM=dumb", "--"));
        cmd.addAll(argv);
        // SIGKILL at once: the API promises exit code 137 after a timeout
        ProcessRunner command = ProcessRunner.of(cmd).timeout(timeout).cap(cap).killGrace(Duration.ZERO);
        input.ifPresent(command::stdin);
        ProcessResult result = command.run();
        return new ExecResult(result.exitCode(), result.stdout(), result.stderr(), result.truncated(), result.timedOut());
    }

    /** The command line that attaches a console of the container ({@code cmode}: tty, console or shell). */
    public List<String> consoleCommand(int vmid, String cmode, int ttys) {
        String name = Integer.toString(vmid);
        return switch (cmode) {
            case "shell" -> List.of("lxc-attach", "-P", lxcPath().toString(), "-n", name, "--clear-env", "--set-var", "PATH=" + PATH,
                    "--set-var", "HOME=/root", "--set-var", "TERM=xterm-256color", "--", "/bin/sh", "-l");
            case "console" -> List.of("lxc-console", "-P", lxcPath().toString(), "-n", name, "-t", "0", "-e", "-1");
            default -> List.of("lxc-console", "-P", lxcPath().toString(), "-n", name, "-t", ttys > 0 ? "1" : "0", "-e", "-1");
        };
    }

    /**
     * The running container's interfaces and addresses, read in its network namespace with the
     * host's {@code ip}, so the guest needs no tools: {@code [{name, hwaddr, inet, inet6}]}.
     */
    public List<Map<String, Object>> interfaces(int vmid) {
        Info info = info(vmid);
        if (info.pid().isEmpty()) {
            throw new Conflict("CT " + vmid + " not running");
        }
        ProcessResult result = ProcessRunner.of("nsenter", "-t", Long.toString(info.pid().getAsLong()), "-n", "ip", "-j", "addr", "show")
                .timeout(TOOL_TIMEOUT).run().check();
        List<Map<String, Object>> out = new ArrayList<>();
        for (JsonNode dev : Json.read(result.stdout())) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", dev.path("ifname").asString());
            entry.put("hwaddr", dev.path("address").asString());
            for (JsonNode addr : dev.path("addr_info")) {
                String family = addr.path("family").asString();
                if ((family.equals("inet") || family.equals("inet6")) && !entry.containsKey(family)) {
                    entry.put(family, addr.path("local").asString() + "/" + addr.path("prefixlen").asInt());
                }
            }
            out.add(entry);
        }
        return out;
    }

    // ---- status

    /** Live figures of a running container, as {@code status/current} reports them. */
    public record Usage(long pid, long swap, GuestUsage.Usage figures) {}

    public Optional<Usage> usage(int vmid, CtSection conf) {
        Info info = info(vmid);
        if (info.state() == State.STOPPED || info.pid().isEmpty()) {
            return Optional.empty();
        }
        long pid = info.pid().getAsLong();
        CgroupStats stats = host.container(vmid).stats();
        OptionalLong uptime = GuestUsage.uptime(pid);
        int cpus = (int) Math.min(conf.getLong("cores", host.cpus()), host.cpus());
        OptionalDouble cpu = stats.cpuNanos().isPresent() ? cpuSamples.share(vmid, pid, stats.cpuNanos().getAsLong(), uptime, cpus)
                : OptionalDouble.empty();
        long netin = 0;
        long netout = 0;
        for (NetConfig net : nets(conf)) {
            String dev = net.hostInterface(vmid);
            // the host end receives what the container sends
            netout += network.counter(dev, "rx_bytes").orElse(0);
            netin += network.counter(dev, "tx_bytes").orElse(0);
        }
        return Optional.of(new Usage(pid, stats.swap(), new GuestUsage.Usage(cpu, stats.memory(), uptime,
                OptionalLong.of(stats.diskRead()), OptionalLong.of(stats.diskWrite()), OptionalLong.of(netin), OptionalLong.of(netout))));
    }

    private ProcessResult lxc(String tool, int vmid, String... args) {
        List<String> cmd = new ArrayList<>(List.of(tool, "-P", lxcPath().toString(), "-n", Integer.toString(vmid)));
        cmd.addAll(List.of(args));
        return ProcessRunner.of(cmd).timeout(TOOL_TIMEOUT).run();
    }
}
