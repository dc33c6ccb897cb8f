package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What the generated LXC config depends on about this host: where the resource controllers
 * live (cgroup v1 hierarchies, as here, or a pure cgroup v2 tree), whether AppArmor is on,
 * whether swap is accounted, LXC's shipped config directory, and the CPU count.
 *
 * @param cgroupRoot where cgroup file systems are mounted ({@code /sys/fs/cgroup})
 * @param commonSeccomp the text of LXC's {@code common.seccomp}, the base of each container's rules
 */
public record HostFacts(
        CgroupLayout cgroups,
        Path cgroupRoot,
        boolean apparmor,
        boolean swapAccounting,
        Path lxcConfigDir,
        Optional<String> commonSeccomp,
        int cpus) {
    /** V1: controllers on legacy hierarchies (pure v1 or hybrid); V2: one unified tree holds them. */
    public enum CgroupLayout { V1, V2 }

    public HostFacts {
        requireNonNull(cgroups, "cgroups is null");
        requireNonNull(cgroupRoot, "cgroupRoot is null");
        requireNonNull(lxcConfigDir, "lxcConfigDir is null");
        requireNonNull(commonSeccomp, "commonSeccomp is null");
    }

    public static HostFacts detect() {
        Path root = Path.of("/sys/fs/cgroup");
        CgroupLayout layout = Files.exists(root.resolve("cgroup.controllers")) ? CgroupLayout.V2 : CgroupLayout.V1;
        boolean swap = layout == CgroupLayout.V1
                ? Files.exists(root.resolve("memory/memory.memsw.limit_in_bytes"))
                : Files.exists(root.resolve("init.scope/memory.swap.max")) || Files.exists(root.resolve("system.slice/memory.swap.max"));
        Path lxcConfig = Path.of("/usr/share/lxc/config");
        return new HostFacts(layout, root, apparmorEnabled(), swap, lxcConfig, read(lxcConfig.resolve("common.seccomp")),
                Runtime.getRuntime().availableProcessors());
    }

    private static boolean apparmorEnabled() {
        return read(Path.of("/sys/module/apparmor/parameters/enabled")).map(s -> s.trim().equals("Y")).orElse(false)
                && Files.isExecutable(Path.of("/sbin/apparmor_parser"));
    }

    private static Optional<String> read(Path path) {
        try {
            return Optional.of(Files.readString(path));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
