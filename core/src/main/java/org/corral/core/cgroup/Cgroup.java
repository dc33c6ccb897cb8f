package org.corral.core.cgroup;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * One cgroup of a guest, by its path below the cgroup root ({@code lxc/100},
 * {@code corral-pve1-0a1b2c3d/qemu-100}): on cgroup v1 a directory in each controller's hierarchy,
 * on v2 one directory. Knows how Proxmox's {@code cpulimit} and {@code cpuunits} become controller
 * files, so VMs and containers map them alike.
 */
public record Cgroup(CgroupHost host, String path) {
    /** The CFS period Proxmox uses: {@code cpulimit} 1 is one CPU's worth of quota per period. */
    public static final long PERIOD = 100_000;
    /** The controllers a guest's cgroup is made in (those the host has). */
    public static final List<String> CONTROLLERS = List.of("cpu", "cpuacct", "memory", "blkio", "io", "pids");

    public Cgroup {
        requireNonNull(host, "host is null");
        requireNonNull(path, "path is null");
        if (path.isEmpty() || path.startsWith("/") || path.contains("..")) {
            throw new IllegalArgumentException("bad cgroup path '" + path + "'");
        }
    }

    public Cgroup child(String name) {
        return new Cgroup(host, path + "/" + name);
    }

    /** The directory in {@code controller}'s hierarchy (v1) or in the unified tree (v2). */
    public Path dir(String controller) {
        return host.layout() == CgroupHost.Layout.V1 ? host.root().resolve(controller).resolve(path) : host.root().resolve(path);
    }

    /** A controller file, its controller named by the part before the first dot ({@code cpu.max}). */
    public Path file(String name) {
        return dir(name.substring(0, name.indexOf('.'))).resolve(name);
    }

    /** Whether the group exists (its cpu directory on v1). */
    public boolean exists() {
        return Files.isDirectory(dir("cpu"));
    }

    /**
     * Creates the group in every controller the host has; on v2 enables the controllers for
     * the children of each directory above it first (a directory with children holds no tasks).
     */
    public void create() throws IOException {
        if (host.layout() == CgroupHost.Layout.V1) {
            for (String controller : CONTROLLERS) {
                if (Files.isDirectory(host.root().resolve(controller))) {
                    Files.createDirectories(dir(controller));
                }
            }
            return;
        }
        Path dir = host.root();
        for (String part : path.split("/")) {
            enableControllers(dir);
            dir = dir.resolve(part);
            try {
                Files.createDirectory(dir);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // made by an earlier start
            }
        }
    }

    private static void enableControllers(Path dir) throws IOException {
        Set<String> available = Set.of(Files.readString(dir.resolve("cgroup.controllers")).trim().split("\\s+"));
        Set<String> enabled = Set.of(Files.readString(dir.resolve("cgroup.subtree_control")).trim().split("\\s+"));
        StringBuilder add = new StringBuilder();
        for (String controller : List.of("cpu", "memory", "io", "pids")) {
            if (available.contains(controller) && !enabled.contains(controller)) {
                add.append(add.isEmpty() ? "" : " ").append('+').append(controller);
            }
        }
        if (!add.isEmpty()) {
            Files.writeString(dir.resolve("cgroup.subtree_control"), add.toString());
        }
    }

    /** The {@code cgroup.procs} files a process writes its pid to so that it and its children join the group. */
    public List<Path> procsFiles() {
        if (host.layout() == CgroupHost.Layout.V2) {
            return List.of(dir("cpu").resolve("cgroup.procs"));
        }
        List<Path> files = new ArrayList<>();
        for (String controller : CONTROLLERS) {
            if (Files.isDirectory(dir(controller))) {
                files.add(dir(controller).resolve("cgroup.procs"));
            }
        }
        return files;
    }

    /** The processes in the group (its cpu hierarchy on v1). */
    public List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(dir("cpu").resolve("cgroup.procs"))) {
                if (!line.isBlank()) {
                    pids.add(Long.parseLong(line.trim()));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // no such group: nobody in it
        }
        return pids;
    }

    /** Removes the (empty) group from every hierarchy; false when some directory is still there (busy). */
    public boolean remove() {
        boolean gone = true;
        for (String controller : host.layout() == CgroupHost.Layout.V1 ? CONTROLLERS : List.of("cpu")) {
            Path dir = dir(controller);
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                gone = false;
            }
        }
        return gone;
    }

    /** Writes one controller file; false when the kernel refuses the value or the file is missing. */
    public boolean trySet(String file, String value) {
        try {
            Files.writeString(file(file), value);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public void set(String file, String value) {
        if (!trySet(file, value)) {
            throw new IllegalStateException("could not set " + file + " of cgroup " + path + " to " + value);
        }
    }

    public Optional<String> read(String file) {
        try {
            return Optional.of(Files.readString(file(file)).trim());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** What the group has used so far. */
    public CgroupStats stats() {
        return CgroupStats.read(this);
    }

    /** Applies {@code cpulimit} (0: unlimited) and {@code cpuunits} (empty: Proxmox's default) to a running group. */
    public void applyCpu(double cpulimit, OptionalLong cpuunits) {
        cpuFiles(host.layout(), cpulimit, cpuunits, true).forEach(this::set);
    }

    /**
     * The cpu controller files for {@code cpulimit} and {@code cpuunits}, in the order to write
     * them. Without {@code unlimited} an unlimited quota is left out (a new group has none).
     */
    public static Map<String, String> cpuFiles(CgroupHost.Layout layout, double cpulimit, OptionalLong cpuunits, boolean unlimited) {
        Map<String, String> files = new LinkedHashMap<>();
        OptionalLong quota = cpuQuota(cpulimit);
        long weight = cpuWeight(layout, cpuunits);
        switch (layout) {
            case V1 -> {
                files.put("cpu.shares", Long.toString(weight));
                if (quota.isPresent() || unlimited) {
                    files.put("cpu.cfs_period_us", Long.toString(PERIOD));
                    files.put("cpu.cfs_quota_us", quota.isPresent() ? Long.toString(quota.getAsLong()) : "-1");
                }
            }
            case V2 -> {
                files.put("cpu.weight", Long.toString(weight));
                if (quota.isPresent() || unlimited) {
                    files.put("cpu.max", (quota.isPresent() ? Long.toString(quota.getAsLong()) : "max") + " " + PERIOD);
                }
            }
        }
        return files;
    }

    /** CFS quota per {@link #PERIOD} for {@code cpulimit} CPUs; empty for 0, which means unlimited. */
    public static OptionalLong cpuQuota(double cpulimit) {
        // the kernel refuses a quota below 1 ms
        return cpulimit > 0 ? OptionalLong.of(Math.max(1000, Math.round(cpulimit * PERIOD))) : OptionalLong.empty();
    }

    /**
     * The CPU weight for {@code cpuunits}, as Proxmox maps it: on v2 {@code cpu.weight} 1..10000
     * (default 100), on v1 {@code cpu.shares} 2..262144 (default 1024).
     */
    public static long cpuWeight(CgroupHost.Layout layout, OptionalLong cpuunits) {
        return switch (layout) {
            case V1 -> Math.max(2, Math.min(262_144, cpuunits.orElse(1024)));
            case V2 -> Math.max(1, Math.min(10_000, cpuunits.orElse(100)));
        };
    }
}
