package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.corral.core.error.ParameterError;
import org.corral.core.process.ProcessException;
import org.corral.core.process.ProcessRunner;
import org.corral.qemu.config.NetDevice;

/**
 * Puts a VM's taps on their bridges, as Proxmox's tap_plug does: bridge port, MTU, VLAN on a
 * VLAN-aware bridge, rate limit with tc. QEMU creates the taps itself (so they go away with it);
 * this runs while the VM is still paused.
 */
public final class HostNetwork {
    private static final Path SYS_NET = Path.of("/sys/class/net");
    private static final long BURST = 1024 * 1024;
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);

    /** Refuses a NIC whose bridge does not exist on this host. */
    public void checkBridge(String key, NetDevice net) {
        Optional<String> bridge = net.bridge();
        if (bridge.isPresent() && !Files.isDirectory(SYS_NET.resolve(bridge.get()).resolve("bridge"))) {
            throw new ParameterError(key, "bridge '" + bridge.get() + "' does not exist");
        }
    }

    /** Plugs the NIC's tap into its bridge; what could not be applied (a rate limit the kernel can't do) goes to {@code warn}. */
    public void plug(int vmid, NetDevice net, java.util.function.Consumer<String> warn) {
        String tap = net.tapName(vmid);
        String bridge = net.bridge().orElseThrow();
        checkBridge(net.key(), net);
        Optional<String> mtu = net.get("mtu").map(m -> m.equals("1") ? read(SYS_NET.resolve(bridge).resolve("mtu")) : m);
        if (mtu.isPresent()) {
            run(List.of("ip", "link", "set", "dev", tap, "mtu", mtu.get()));
        }
        run(List.of("ip", "link", "set", "dev", tap, "master", bridge));
        Optional<String> tag = net.get("tag");
        if (tag.isPresent() || net.get("trunks").isPresent()) {
            if (!"1".equals(read(SYS_NET.resolve(bridge).resolve("bridge/vlan_filtering")))) {
                throw new ParameterError(net.key(), "VLAN tag on bridge '" + bridge + "', which is not VLAN aware (vlan_filtering=0)");
            }
            run(List.of("bridge", "vlan", "del", "dev", tap, "vid", "1-4094"));
            if (tag.isPresent()) {
                run(List.of("bridge", "vlan", "add", "dev", tap, "vid", tag.get(), "pvid", "untagged"));
            }
            for (String trunk : net.get("trunks").map(t -> t.split(";")).orElse(new String[0])) {
                run(List.of("bridge", "vlan", "add", "dev", tap, "vid", trunk));
            }
        }
        run(List.of("ip", "link", "set", "dev", tap, "up"));
        net.get("rate").ifPresent(rate -> {
            try {
                rateLimit(tap, rate);
            } catch (ProcessException e) {
                warn.accept(net.key() + ": rate limit not applied - " + e.getMessage());
            }
        });
    }

    private static void run(List<String> command) {
        ProcessRunner.of(command).timeout(TOOL_TIMEOUT).run().check();
    }

    /** Proxmox's tap_rate_limit: police what the guest sends, shape what it receives; rate in MB/s. */
    void rateLimit(String tap, String rateMbps) {
        long rate = new BigDecimal(rateMbps).multiply(BigDecimal.valueOf(1024 * 1024)).longValue();
        if (rate <= 0) {
            return;
        }
        run(List.of("tc", "qdisc", "add", "dev", tap, "root", "handle", "1:", "htb", "default", "1"));
        run(List.of("tc", "class", "add", "dev", tap, "parent", "1:", "classid", "1:1", "htb", "rate", rate + "bps",
                "burst", BURST + "b"));
        run(List.of("tc", "qdisc", "add", "dev", tap, "handle", "ffff:", "ingress"));
        run(List.of("tc", "filter", "add", "dev", tap, "parent", "ffff:", "protocol", "all", "u32", "match", "u32", "0", "0",
                "police", "rate", rate + "bps", "burst", BURST + "b", "mtu", "64kb", "drop"));
    }

    /** Bytes the host received from (rx) and sent to (tx) the guest on a tap; zero when it is gone. */
    public static long[] tapBytes(String tap) {
        Path stats = SYS_NET.resolve(tap).resolve("statistics");
        try {
            return new long[] {Long.parseLong(Files.readString(stats.resolve("rx_bytes")).strip()),
                Long.parseLong(Files.readString(stats.resolve("tx_bytes")).strip())};
        } catch (IOException | NumberFormatException e) {
            return new long[] {0, 0};
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
