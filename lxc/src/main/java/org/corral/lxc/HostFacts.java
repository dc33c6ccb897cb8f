package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.corral.core.cgroup.CgroupHost;

/**
 * What the generated LXC config depends on about this host: where the resource controllers
 * live (cgroup v1 hierarchies, as here, or a pure cgroup v2 tree), whether AppArmor is on,
 * whether swap is accounted, LXC's shipped config directory, and the CPU count.
 *
 * @param cgroupRoot where cgroup file systems are mounted ({@code /sys/fs/cgroup})
 * @param commonSeccomp the text of LXC's {@code common.seccomp}, the base of each container's rules
 */
public record HostFacts(
        CgroupHost.Layout cgroups,
        Path cgroupRoot,
        boolean apparmor,
        boolean swapAccounting,
        Path lxcConfigDir,
        Optional<String> commonSeccomp,
        int cpus) {
    public HostFacts {
        requireNonNull(cgroups, "cgroups is null");
        requireNonNull(cgroupRoot, "cgroupRoot is null");
        requireNonNull(lxcConfigDir, "lxcConfigDir is null");
        requireNonNull(commonSeccomp, "commonSeccomp is null");
    }

    public static HostFacts detect() {
        CgroupHost cgroups = CgroupHost.detect();
        Path lxcConfig = Path.of("/usr/share/lxc/config");
        return new HostFacts(cgroups.layout(), cgroups.root(), apparmorEnabled(), cgroups.swapAccounting(), lxcConfig,
                read(lxcConfig.resolve("common.seccomp")), cgroups.cpus());
    }

    /** The cgroup facts alone, shared with VMs. */
    public CgroupHost cgroupHost() {
        return new CgroupHost(cgroups, cgroupRoot, swapAccounting, cpus);
    }

    /** A container's cgroup, where the generated config puts it ({@code lxc/VMID}). */
    public org.corral.core.cgroup.Cgroup container(int vmid) {
        return cgroupHost().group("lxc/" + vmid);
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
