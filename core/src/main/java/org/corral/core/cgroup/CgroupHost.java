package org.corral.core.cgroup;

import static java.util.Objects.requireNonNull;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where this host's resource controllers live: on cgroup v1 hierarchies (pure v1, or hybrid
 * with an empty cgroup2 at {@code unified}) or in one cgroup v2 tree.
 *
 * @param root where the cgroup file systems are mounted ({@code /sys/fs/cgroup})
 * @param swapAccounting whether the memory controller accounts swap (memsw / swap.max files)
 * @param cpus the host's CPU count
 */
public record CgroupHost(Layout layout, Path root, boolean swapAccounting, int cpus) {
    /** V1: controllers on legacy hierarchies (pure v1 or hybrid); V2: one unified tree holds them. */
    public enum Layout { V1, V2 }

    public CgroupHost {
        requireNonNull(layout, "layout is null");
        requireNonNull(root, "root is null");
    }

    public static CgroupHost detect() {
        Path root = Path.of("/sys/fs/cgroup");
        // a hybrid host's cgroup2 at /sys/fs/cgroup/unified holds no controllers: only a v2 root does
        Layout layout = Files.exists(root.resolve("cgroup.controllers")) ? Layout.V2 : Layout.V1;
        boolean swap = layout == Layout.V1
                ? Files.exists(root.resolve("memory/memory.memsw.limit_in_bytes"))
                : Files.exists(root.resolve("init.scope/memory.swap.max")) || Files.exists(root.resolve("system.slice/memory.swap.max"));
        return new CgroupHost(layout, root, swap, Runtime.getRuntime().availableProcessors());
    }

    /** The cgroup at {@code path} (relative, {@code lxc/100}), in every controller's hierarchy on v1. */
    public Cgroup group(String path) {
        return new Cgroup(this, path);
    }
}
