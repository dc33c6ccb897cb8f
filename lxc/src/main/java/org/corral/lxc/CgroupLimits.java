package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import org.corral.core.cgroup.Cgroup;
import org.corral.core.cgroup.CgroupHost;
import org.corral.lxc.config.CtSection;

/**
 * Changes the memory and CPU limits of a running container in its cgroup ({@code lxc/VMID}),
 * so that a config change takes effect without a restart. The files are written directly:
 * {@code lxc-cgroup} would reach the inner {@code ns} cgroup, not the one the limits are on. On
 * cgroup v1 the memory+swap limit must never fall below the memory limit, so the order of the
 * two writes follows the direction; a cpuset shrinks inside first and grows outside first.
 */
final class CgroupLimits {
    private static final long MIB = 1024L * 1024;

    private final LxcDriver driver;
    private final int vmid;

    CgroupLimits(LxcDriver driver, int vmid) {
        this.driver = requireNonNull(driver, "driver is null");
        this.vmid = vmid;
    }

    void apply(CtSection conf, boolean memory, boolean cpu) {
        boolean v1 = driver.host().cgroups() == CgroupHost.Layout.V1;
        Cgroup group = driver.host().container(vmid);
        long mem = conf.getLong("memory", 512) * MIB;
        long swap = conf.getLong("swap", 512) * MIB;
        if (memory) {
            if (v1) {
                List<String[]> writes = new ArrayList<>();
                writes.add(new String[] {"memory.limit_in_bytes", Long.toString(mem)});
                if (driver.host().swapAccounting()) {
                    writes.add(new String[] {"memory.memsw.limit_in_bytes", Long.toString(mem + swap)});
                }
                if (!setAll(group, writes)) {
                    // growing: the combined limit has to grow first
                    Collections.reverse(writes);
                    if (!setAll(group, writes)) {
                        throw new IllegalStateException("could not change the memory limits of CT " + vmid);
                    }
                }
            } else {
                group.set("memory.max", Long.toString(mem));
                if (driver.host().swapAccounting()) {
                    group.set("memory.swap.max", Long.toString(swap));
                }
            }
        }
        if (cpu) {
            OptionalLong units = conf.get("cpuunits").isPresent() ? OptionalLong.of(conf.getLong("cpuunits", 0)) : OptionalLong.empty();
            group.applyCpu(conf.getDouble("cpulimit", 0), units);
            long cores = Math.min(conf.getLong("cores", driver.host().cpus()), driver.host().cpus());
            String cpus = cores <= 1 ? "0" : "0-" + (cores - 1);
            Cgroup inner = group.child("ns");
            if (!(group.trySet("cpuset.cpus", cpus) && inner.trySet("cpuset.cpus", cpus))
                    && !(inner.trySet("cpuset.cpus", cpus) && group.trySet("cpuset.cpus", cpus))) {
                throw new IllegalStateException("could not set the cpuset of CT " + vmid + " to " + cpus);
            }
        }
    }

    private static boolean setAll(Cgroup group, List<String[]> writes) {
        for (String[] w : writes) {
            if (!group.trySet(w[0], w[1])) {
                return false;
            }
        }
        return true;
    }
}
