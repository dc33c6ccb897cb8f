package org.corral.core.cgroup;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * What a guest's cgroup has used so far, read from its controller files on cgroup v1
 * hierarchies or a cgroup v2 tree. CPU time and memory are empty when the group has no such
 * counter (so nobody reports a made-up 0); the others read 0.
 *
 * @param cpuNanos CPU time used so far
 * @param memory memory in use without the page cache, as Proxmox reports it
 * @param memoryLimit the memory limit the kernel enforces
 */
public record CgroupStats(OptionalLong cpuNanos, OptionalLong memory, long memoryLimit, long swap, long diskRead, long diskWrite) {
    public static CgroupStats read(Cgroup group) {
        requireNonNull(group, "group is null");
        return switch (group.host().layout()) {
            case V1 -> {
                Path mem = group.dir("memory");
                OptionalLong used = number(mem.resolve("memory.usage_in_bytes"));
                long usage = used.orElse(0);
                Map<String, Long> stat = keyed(mem.resolve("memory.stat"));
                long cache = stat.getOrDefault("total_cache", stat.getOrDefault("cache", 0L));
                long memsw = number(mem.resolve("memory.memsw.usage_in_bytes")).orElse(usage);
                long[] io = blkioV1(group.file("blkio.throttle.io_service_bytes_recursive"));
                OptionalLong memory = used.isPresent() ? OptionalLong.of(Math.max(0, usage - cache)) : OptionalLong.empty();
                yield new CgroupStats(number(group.file("cpuacct.usage")), memory, number(mem.resolve("memory.limit_in_bytes")).orElse(0),
                        Math.max(0, memsw - usage), io[0], io[1]);
            }
            case V2 -> {
                Path dir = group.dir("cpu");
                OptionalLong current = number(dir.resolve("memory.current"));
                long file = keyed(dir.resolve("memory.stat")).getOrDefault("file", 0L);
                Long usec = keyed(dir.resolve("cpu.stat")).get("usage_usec");
                OptionalLong cpu = usec == null ? OptionalLong.empty() : OptionalLong.of(usec * 1000);
                long[] io = ioV2(dir.resolve("io.stat"));
                OptionalLong memory = current.isPresent() ? OptionalLong.of(Math.max(0, current.getAsLong() - file)) : OptionalLong.empty();
                yield new CgroupStats(cpu, memory, number(dir.resolve("memory.max")).orElse(0), number(dir.resolve("memory.swap.current")).orElse(0), io[0], io[1]);
            }
        };
    }

    private static OptionalLong number(Path file) {
        try {
            String text = Files.readString(file).trim();
            return text.equals("max") ? OptionalLong.of(Long.MAX_VALUE) : OptionalLong.of(Long.parseLong(text));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private static Map<String, Long> keyed(Path file) {
        Map<String, Long> values = new HashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                String[] parts = line.trim().split("\\s+");
                if (parts.length == 2) {
                    try {
                        values.put(parts[0], Long.parseLong(parts[1]));
                    } catch (NumberFormatException e) {
                        // not a counter
                    }
                }
            }
        } catch (IOException e) {
            // no such controller file: nothing counted
        }
        return values;
    }

    private static long[] blkioV1(Path file) {
        long[] io = new long[2];
        try {
            for (String line : Files.readAllLines(file)) {
                String[] parts = line.trim().split("\\s+");
                if (parts.length == 3 && parts[1].equals("Read")) {
                    io[0] += Long.parseLong(parts[2]);
                } else if (parts.length == 3 && parts[1].equals("Write")) {
                    io[1] += Long.parseLong(parts[2]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no block I/O accounting
        }
        return io;
    }

    private static long[] ioV2(Path file) {
        long[] io = new long[2];
        try {
            for (String line : Files.readAllLines(file)) {
                for (String field : line.split("\\s+")) {
                    if (field.startsWith("rbytes=")) {
                        io[0] += Long.parseLong(field.substring(7));
                    } else if (field.startsWith("wbytes=")) {
                        io[1] += Long.parseLong(field.substring(7));
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no I/O accounting
        }
        return io;
    }
}
