package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.corral.lxc.config.NetConfig;

/**
 * The host side of container networks: checks before start that each bridge exists and that a
 * VLAN tag can be honoured (only on a VLAN-aware bridge; this kernel may have neither 802.1Q
 * nor bridge VLAN filtering, and a tag must not silently do nothing), and after start applies
 * VLAN membership and rate limits to the {@code vethVMIDiN} devices.
 */
public final class HostNetwork {
    private final Path sysClassNet;

    public HostNetwork() {
        this(Path.of("/sys/class/net"));
    }

    public HostNetwork(Path sysClassNet) {
        this.sysClassNet = requireNonNull(sysClassNet, "sysClassNet is null");
    }

    /** Every problem that would stop the interfaces from working as configured; empty when none. */
    public List<String> problems(List<NetConfig> nets) {
        List<String> problems = new ArrayList<>();
        for (NetConfig net : nets) {
            if (net.bridge().isEmpty()) {
                continue;
            }
            String bridge = net.bridge().get();
            Path dir = sysClassNet.resolve(bridge);
            if (!Files.isDirectory(dir.resolve("bridge"))) {
                problems.add(net.key() + ": bridge '" + bridge + "' does not exist");
                continue;
            }
            if (net.tag().isPresent()) {
                Path filtering = dir.resolve("bridge/vlan_filtering");
                if (!Files.exists(filtering)) {
                    problems.add(net.key() + ": VLAN tag " + net.tag().getAsInt() + " is not supported on this host: the kernel has no "
                            + "bridge VLAN filtering (and no 802.1Q VLAN devices)");
                } else if (!read(filtering).equals("1")) {
                    problems.add(net.key() + ": VLAN tag " + net.tag().getAsInt() + " needs a VLAN-aware bridge, but bridge '" + bridge
                            + "' has vlan_filtering off");
                }
            }
            if (net.trunks().isPresent()) {
                problems.add(net.key() + ": trunks are not supported on this host");
            }
        }
        return problems;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Applies VLAN membership and rate limits to the host ends of a started container's
     * interfaces; answers warnings about limits the kernel could only partly apply.
     */
    public List<String> afterStart(int vmid, List<NetConfig> nets) {
        List<String> warnings = new ArrayList<>();
        for (NetConfig net : nets) {
            String dev = net.hostInterface(vmid);
            if (net.tag().isPresent()) {
                String tag = Integer.toString(net.tag().getAsInt());
                run("bridge", "vlan", "del", "dev", dev, "vid", "1");
                run("bridge", "vlan", "add", "dev", dev, "vid", tag, "pvid", "untagged");
            }
            if (net.rate().isPresent() && net.rate().get() > 0) {
                if (!applyRate(dev, net.rate().get())) {
                    warnings.add(net.key() + ": rate limits only traffic towards the container: the kernel lacks the tc police action");
                }
            }
        }
        return warnings;
    }

    /**
     * {@code rate} is in MB/s, as Proxmox takes it: a token bucket towards the guest and a
     * policer on what it sends. Answers false when only the first could be set up.
     */
    private static boolean applyRate(String dev, double megabytesPerSecond) {
        long bitsPerSecond = Math.round(megabytesPerSecond * 1024 * 1024 * 8);
        long burst = Math.max(bitsPerSecond / 8 / 10, 16 * 1024);
        run("tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", bitsPerSecond + "bit", "burst", Long.toString(burst),
                "latency", "25ms");
        ProcessResult ingress = ProcessRunner.of("tc", "qdisc", "replace", "dev", dev, "handle", "ffff:", "ingress")
                .timeout(Duration.ofSeconds(10)).run();
        if (!ingress.ok()) {
            return false;
        }
        ProcessResult police = ProcessRunner.of("tc", "filter", "replace", "dev", dev, "parent", "ffff:", "protocol", "all", "prio", "50",
                "u32", "match", "u32", "0", "0", "police", "rate", bitsPerSecond + "bit", "burst", Long.toString(burst),
                "mtu", "64kb", "drop").timeout(Duration.ofSeconds(10)).run();
        if (!police.ok()) {
            ProcessRunner.of("tc", "qdisc", "del", "dev", dev, "handle", "ffff:", "ingress").timeout(Duration.ofSeconds(10)).run();
            return false;
        }
        return true;
    }

    private static void run(String... command) {
        ProcessRunner.of(command).timeout(Duration.ofSeconds(10)).run().check();
    }

    /** Bytes through a host-side device: {@code rx} is what the container sent. */
    public OptionalLong counter(String dev, String name) {
        try {
            return OptionalLong.of(Long.parseLong(Files.readString(sysClassNet.resolve(dev).resolve("statistics").resolve(name)).trim()));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
