package org.corral.core.guest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The live figures of this node's running guests of one type ({@code qemu}, {@code lxc}), as
 * {@code /cluster/resources} lists them. Each guest module measures its own kind.
 */
@FunctionalInterface
public interface GuestUsage {
    /** Each guest of this type that runs on this node now, by VMID, with what could be measured of it. */
    Map<Integer, Usage> running();

    /** Seconds since process {@code pid} started, from /proc (USER_HZ is 100 on Linux). */
    static OptionalLong uptime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            long startTicks = Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
            double systemUptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
            return OptionalLong.of(Math.max(0, (long) (systemUptime - startTicks / 100.0)));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * What a running guest uses; a figure that could not be measured is empty, never 0.
     *
     * @param cpu the share of the guest's CPUs in use (0..1)
     * @param mem bytes of memory in use
     * @param uptime seconds since the guest's process started
     */
    record Usage(OptionalDouble cpu, OptionalLong mem, OptionalLong uptime, OptionalLong diskread, OptionalLong diskwrite,
            OptionalLong netin, OptionalLong netout) {
        public static Usage unmeasured() {
            return new Usage(OptionalDouble.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
                    OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
        }

        /** The measured figures under Proxmox's names, in its order; the unmeasured are absent. */
        public Map<String, Object> fields() {
            Map<String, Object> out = new LinkedHashMap<>();
            cpu.ifPresent(v -> out.put("cpu", v));
            mem.ifPresent(v -> out.put("mem", v));
            uptime.ifPresent(v -> out.put("uptime", v));
            diskread.ifPresent(v -> out.put("diskread", v));
            diskwrite.ifPresent(v -> out.put("diskwrite", v));
            netin.ifPresent(v -> out.put("netin", v));
            netout.ifPresent(v -> out.put("netout", v));
            return out;
        }
    }
}
