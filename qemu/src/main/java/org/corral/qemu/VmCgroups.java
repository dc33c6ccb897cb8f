package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.corral.core.cgroup.Cgroup;
import org.corral.core.cgroup.CgroupHost;
import org.corral.core.node.Node;
import org.corral.qemu.config.Sizes;
import org.corral.qemu.config.VmConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cgroups this node's QEMU processes run in: {@code corral-NODE-HASH/qemu-VMID}, HASH from
 * the node's run directory so that two nodes of one name on a host (parallel test runs) stay
 * apart. Being out of the daemon's own cgroup also lets QEMU outlive a daemon whose service
 * manager kills its group. The group carries {@code cpulimit}, {@code cpuunits} and a memory limit.
 */
public final class VmCgroups {
    private static final Logger log = LoggerFactory.getLogger(VmCgroups.class);
    /**
     * Room above the guest's RAM for QEMU itself (device emulation, page tables, I/O buffers, the
     * TCG code cache), so the hard limit only stops a runaway QEMU. Proxmox sets no hard memory
     * limit on a VM's scope at all; an OOM kill at exactly {@code memory} would kill healthy guests.
     */
    static final long OVERHEAD_FLOOR = 1024 * Sizes.MIB;
    private static final Duration REMOVE_WAIT = Duration.ofSeconds(2);

    private final CgroupHost host;
    private final String base;

    public VmCgroups(Node node, CgroupHost host) {
        this.host = requireNonNull(host, "host is null");
        this.base = baseName(requireNonNull(node, "node is null"));
    }

    static String baseName(Node node) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(node.runDir().toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
            return "corral-" + node.name().replaceAll("[^A-Za-z0-9_.-]", "_") + "-" + HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public CgroupHost host() {
        return host;
    }

    /** The VM's group (it may not exist). */
    public Cgroup group(int vmid) {
        return host.group(base + "/qemu-" + vmid);
    }

    /**
     * Makes the VM's group with the limits of {@code config}; answers the {@code cgroup.procs}
     * files QEMU's launcher writes its pid to before it becomes QEMU.
     */
    public List<Path> prepare(int vmid, VmConfig config) throws IOException {
        Cgroup group = group(vmid);
        group.create();
        try {
            String memory = Long.toString(memoryLimit(config));
            group.set(host.layout() == CgroupHost.Layout.V1 ? "memory.limit_in_bytes" : "memory.max", memory);
            applyCpu(vmid, config);
        } catch (RuntimeException e) {
            group.remove();
            throw new IOException(e.getMessage(), e);
        }
        return group.procsFiles();
    }

    /** Writes the VM's {@code cpulimit} and {@code cpuunits} to its group; also to a running VM's. */
    public void applyCpu(int vmid, VmConfig config) {
        group(vmid).applyCpu(cpulimit(config), cpuunits(config));
    }

    static double cpulimit(VmConfig config) {
        return config.get("cpulimit").map(Double::parseDouble).orElse(0.0);
    }

    static OptionalLong cpuunits(VmConfig config) {
        return config.get("cpuunits").map(v -> OptionalLong.of(Long.parseLong(v))).orElse(OptionalLong.empty());
    }

    /** Whether the VM asks for CPU limits a start without a cgroup would silently drop. */
    static boolean limitsCpu(VmConfig config) {
        return cpulimit(config) > 0 || config.has("cpuunits");
    }

    /** The hard memory limit: the guest's RAM plus {@link #OVERHEAD_FLOOR} or an eighth of the RAM, whichever is larger. */
    static long memoryLimit(VmConfig config) {
        long ram = config.memoryMiB() * Sizes.MIB;
        return ram + Math.max(OVERHEAD_FLOOR, ram / 8);
    }

    /** Removes the group of a stopped VM, waiting briefly for its last tasks to leave. */
    public void remove(int vmid) {
        Cgroup group = group(vmid);
        long deadline = System.nanoTime() + REMOVE_WAIT.toNanos();
        while (group.exists() && !group.remove()) {
            if (System.nanoTime() > deadline) {
                log.warn("cgroup {} is still busy ({} tasks): left in place", group.path(), group.pids().size());
                return;
            }
            QemuDriver.sleep(50);
        }
    }

    /** Removes the group of a VM that does not run if no task is left in it; false when it stays. */
    public boolean removeIfIdle(int vmid) {
        Cgroup group = group(vmid);
        if (group.pids().isEmpty() && group.remove()) {
            log.info("Removed the stale cgroup {}", group.path());
            return true;
        }
        return false;
    }

    /** Removes this node's directory when no VM group is left in it (the daemon stops). */
    public void removeBaseIfEmpty() {
        if (vmids().isEmpty()) {
            host.group(base).remove();
        }
    }

    /** The VMIDs that have a group of this node. */
    TreeSet<Integer> vmids() {
        TreeSet<Integer> ids = new TreeSet<>();
        Path dir = host.group(base).dir("cpu");
        if (!Files.isDirectory(dir)) {
            return ids;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            entries.map(p -> p.getFileName().toString()).filter(n -> n.matches("qemu-\\d{1,9}"))
                    .forEach(n -> ids.add(Integer.parseInt(n.substring(5))));
        } catch (IOException e) {
            log.debug("cannot list {}: {}", dir, e.getMessage());
        }
        return ids;
    }
}
