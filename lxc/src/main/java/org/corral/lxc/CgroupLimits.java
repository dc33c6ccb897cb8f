package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
    private static final long PERIOD = 100_000;

    private final LxcDriver driver;
    private final int vmid;

    CgroupLimits(LxcDriver driver, int vmid) {
        this.driver = requireNonNull(driver, "driver is null");
        this.vmid = vmid;
    }

    void apply(CtSection conf, boolean memory, boolean cpu) {
        boolean v1 = driver.host().cgroups() == HostFacts.CgroupLayout.V1;
        long mem = conf.getLong("memory", 512) * MIB;
        long swap = conf.getLong("swap", 512) * MIB;
        if (memory) {
            if (v1) {
                List<String[]> writes = new ArrayList<>();
                writes.add(new String[] {"memory.limit_in_bytes", Long.toString(mem)});
                if (driver.host().swapAccounting()) {
                    writes.add(new String[] {"memory.memsw.limit_in_bytes", Long.toString(mem + swap)});
                }
                if (!setAll(writes)) {
                    // growing: the combined limit has to grow first
                    Collections.reverse(writes);
                    if (!setAll(writes)) {
                        throw new IllegalStateException("could not change the memory limits of CT " + vmid);
                    }
                }
            } else {
                set("memory.max", Long.toString(mem));
                if (driver.host().swapAccounting()) {
                    set("memory.swap.max", Long.toString(swap));
                }
            }
        }
        if (cpu) {
            double limit = conf.getDouble("cpulimit", 0);
            long units = conf.getLong("cpuunits", v1 ? 1024 : 100);
            if (v1) {
                set("cpu.shares", Long.toString(units));
                set("cpu.cfs_period_us", Long.toString(PERIOD));
                set("cpu.cfs_quota_us", limit > 0 ? Long.toString(Math.round(limit * PERIOD)) : "-1");
            } else {
                set("cpu.weight", Long.toString(Math.max(1, Math.min(10_000, units))));
                set("cpu.max", limit > 0 ? Math.round(limit * PERIOD) + " " + PERIOD : "max " + PERIOD);
            }
            long cores = Math.min(conf.getLong("cores", driver.host().cpus()), driver.host().cpus());
            String cpus = cores <= 1 ? "0" : "0-" + (cores - 1);
            String inner = "cpuset.cpus@ns";
            if (!(trySet("cpuset.cpus", cpus) && trySet(inner, cpus)) && !(trySet(inner, cpus) && trySet("cpuset.cpus", cpus))) {
                throw new IllegalStateException("could not set the cpuset of CT " + vmid + " to " + cpus);
            }
        }
    }

    private boolean setAll(List<String[]> writes) {
        for (String[] w : writes) {
            if (!trySet(w[0], w[1])) {
                return false;
            }
        }
        return true;
    }

    private void set(String key, String value) {
        if (!trySet(key, value)) {
            throw new IllegalStateException("could not set " + key + " of CT " + vmid + " to " + value);
        }
    }

    /** Writes one controller file; {@code KEY@ns} names the file in the inner cgroup. */
    private boolean trySet(String key, String value) {
        HostFacts host = driver.host();
        boolean inner = key.endsWith("@ns");
        String file = inner ? key.substring(0, key.length() - 3) : key;
        Path dir = host.cgroups() == HostFacts.CgroupLayout.V1
                ? host.cgroupRoot().resolve(file.substring(0, file.indexOf('.'))).resolve("lxc").resolve(Integer.toString(vmid))
                : host.cgroupRoot().resolve("lxc").resolve(Integer.toString(vmid));
        if (inner) {
            dir = dir.resolve("ns");
        }
        try {
            Files.writeString(dir.resolve(file), value);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
