package org.corral.server.host;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** Figures about this host, read from /proc and the root file system, as Proxmox reports them. */
public final class HostStatus {
    private final Path proc;
    private final Path root;
    private final AtomicReference<long[]> lastCpu = new AtomicReference<>();
    private volatile double cpuUsage;

    public HostStatus(Path proc, Path root) {
        this.proc = proc;
        this.root = root;
    }

    public static HostStatus local() {
        return new HostStatus(Path.of("/proc"), Path.of("/"));
    }

    /** CPU busy fraction (0..1) since the previous call, over all CPUs. */
    public double cpu() {
        try {
            String[] f = Files.readAllLines(proc.resolve("stat")).getFirst().trim().split("\\s+");
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            long total = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                total += Long.parseLong(f[i]);
            }
            long[] now = {total, idle};
            long[] before = lastCpu.getAndSet(now);
            if (before != null && now[0] > before[0]) {
                cpuUsage = 1.0 - (double) (now[1] - before[1]) / (now[0] - before[0]);
            }
            return cpuUsage;
        } catch (IOException | RuntimeException e) {
            return 0;
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
