package org.corral.server.host;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/** Figures about this host, read from /proc and the root file system, as Proxmox reports them. */
public final class HostStatus {
    /** USER_HZ is 100 on Linux: a second of one CPU. */
    private static final long MIN_WINDOW_JIFFIES = 100;
    /** KSM counts base pages, 4 KiB on x86_64. */
    private static final long PAGE_SIZE = 4096;

    private final Path proc;
    private final Path root;
    private final Path sys;
    private final AtomicReference<CpuTimes> reference = new AtomicReference<>();
    private volatile CpuShares lastShares;

    public HostStatus(Path proc, Path sys, Path root) {
        this.proc = requireNonNull(proc, "proc is null");
        this.sys = requireNonNull(sys, "sys is null");
        this.root = requireNonNull(root, "root is null");
    }

    public static HostStatus local() {
        return new HostStatus(Path.of("/proc"), Path.of("/sys"), Path.of("/"));
    }

    /** Shares (0..1) of all CPUs' time: busy, waiting for I/O, idle. */
    public record CpuShares(double cpu, double iowait, double idle) {}

    /** Jiffies from the first line of /proc/stat: all, idle and iowait. */
    private record CpuTimes(long total, long idle, long iowait) {}

    /** CPU busy fraction (0..1) over all CPUs, measured over the last second or more. */
    public double cpu() {
        return cpuShares().map(CpuShares::cpu).orElse(0.0);
    }

    /**
     * Busy, iowait and idle shares from /proc/stat between the reference sample and now; the
     * reference moves on once a second has passed, so callers close together see the same window.
     * The first call measures since boot. Empty when /proc/stat cannot be read.
     */
    public Optional<CpuShares> cpuShares() {
        CpuTimes now;
        try {
            String[] f = Files.readAllLines(proc.resolve("stat")).getFirst().trim().split("\\s+");
            long total = 0;
            // user nice system idle iowait irq softirq steal; guest time is already in user and nice
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                total += Long.parseLong(f[i]);
            }
            now = new CpuTimes(total, Long.parseLong(f[4]), Long.parseLong(f[5]));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        CpuTimes before = reference.get();
        if (before == null || now.total() - before.total() >= MIN_WINDOW_JIFFIES * cpus()) {
            reference.compareAndSet(before, now);
            if (before != null) {
                lastShares = shares(before, now);
            }
        }
        CpuShares last = lastShares;
        return Optional.of(last != null ? last : shares(new CpuTimes(0, 0, 0), now));
    }

    private static CpuShares shares(CpuTimes before, CpuTimes now) {
        double total = now.total() - before.total();
        if (total <= 0) {
            return new CpuShares(0, 0, 1);
        }
        double idle = (now.idle() - before.idle()) / total;
        double wait = (now.iowait() - before.iowait()) / total;
        return new CpuShares(Math.max(0, 1 - idle - wait), wait, idle);
    }

    /** Memory that KSM deduplicates now, in bytes; empty where the kernel has no KSM. */
    public Optional<Long> ksmShared() {
        try {
            long pages = Long.parseLong(Files.readString(sys.resolve("kernel/mm/ksm/pages_sharing")).trim());
            return Optional.of(pages * PAGE_SIZE);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public int cpus() {
        return Runtime.getRuntime().availableProcessors();
    }

    public Map<String, Long> memory() {
        Map<String, Long> info = meminfo();
        long total = info.getOrDefault("MemTotal", 0L) * 1024;
        long available = info.getOrDefault("MemAvailable", info.getOrDefault("MemFree", 0L)) * 1024;
        Map<String, Long> out = new LinkedHashMap<>();
        out.put("total", total);
        out.put("used", total - available);
        out.put("free", available);
        out.put("available", available);
        return out;
    }

    public Map<String, Long> swap() {
        Map<String, Long> info = meminfo();
        long total = info.getOrDefault("SwapTotal", 0L) * 1024;
        long free = info.getOrDefault("SwapFree", 0L) * 1024;
        return Map.of("total", total, "used", total - free, "free", free);
    }

    public Map<String, Long> rootfs() {
        try {
            FileStore store = Files.getFileStore(root);
            long total = store.getTotalSpace();
            long avail = store.getUsableSpace();
            long free = store.getUnallocatedSpace();
            return Map.of("total", total, "used", total - free, "free", free, "avail", avail);
        } catch (IOException e) {
            return Map.of("total", 0L, "used", 0L, "free", 0L, "avail", 0L);
        }
    }

    public long uptime() {
        try {
            return (long) Double.parseDouble(Files.readString(proc.resolve("uptime")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    public List<String> loadavg() {
        try {
            String[] f = Files.readString(proc.resolve("loadavg")).trim().split("\\s+");
            return List.of(f[0], f[1], f[2]);
        } catch (IOException | RuntimeException e) {
            return List.of("0.00", "0.00", "0.00");
        }
    }

    public String kernelVersion() {
        try {
            return Files.readString(proc.resolve("version")).trim();
        } catch (IOException e) {
            return System.getProperty("os.name") + " " + System.getProperty("os.version");
        }
    }

    public Map<String, Object> cpuInfo() {
        Map<String, Object> out = new LinkedHashMap<>();
        String model = "unknown";
        double mhz = 0;
        java.util.Set<String> sockets = new java.util.HashSet<>();
        int cores = 0;
        try {
            for (String line : Files.readAllLines(proc.resolve("cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String key = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                switch (key) {
                    case "model name" -> model = value;
                    case "cpu MHz" -> mhz = Double.parseDouble(value);
                    case "physical id" -> sockets.add(value);
                    case "cpu cores" -> cores = Integer.parseInt(value);
                    default -> { }
                }
            }
        } catch (IOException | RuntimeException e) {
            // keep what was read
        }
        int socketCount = Math.max(1, sockets.size());
        out.put("model", model);
        out.put("cpus", cpus());
        out.put("sockets", socketCount);
        out.put("cores", cores > 0 ? cores * socketCount : cpus());
        out.put("mhz", String.format(java.util.Locale.ROOT, "%.3f", mhz));
        out.put("hvm", "1");
        return out;
    }

    private Map<String, Long> meminfo() {
        Map<String, Long> out = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(proc.resolve("meminfo"))) {
                String[] f = line.split("[:\\s]+");
                if (f.length >= 2) {
                    out.put(f[0], Long.parseLong(f[1]));
                }
            }
        } catch (IOException | RuntimeException e) {
            // an empty map reads as zero
        }
        return out;
    }
}
