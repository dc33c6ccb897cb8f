package org.corral.core.cgroup;

import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a guest's growing CPU time counter into the share of its CPUs in use: the difference
 * to the previous sample over the time between them (at least a second apart, so that frequent
 * callers see a steady figure); the first sample gives the average since the guest started.
 */
public final class CpuSampler {
    private static final long MIN_INTERVAL = 1_000_000_000L;

    private record Sample(long instance, long cpuNanos, long wallNanos, OptionalDouble share) {}

    private final Map<Integer, Sample> samples = new ConcurrentHashMap<>();

    /**
     * The share (0..1) of {@code cpus} CPUs guest {@code vmid} used lately; {@code instance}
     * (its pid) tells a restarted guest from the old one, {@code uptime} is in seconds.
     */
    public OptionalDouble share(int vmid, long instance, long cpuNanos, OptionalLong uptime, int cpus) {
        long now = System.nanoTime();
        Sample previous = samples.get(vmid);
        if (previous != null && previous.instance() == instance && now - previous.wallNanos() < MIN_INTERVAL
                && previous.share().isPresent()) {
            return previous.share();
        }
        OptionalDouble share;
        if (previous != null && previous.instance() == instance && now > previous.wallNanos()) {
            share = OptionalDouble.of(fraction(cpuNanos - previous.cpuNanos(), now - previous.wallNanos(), cpus));
        } else if (uptime.isPresent() && uptime.getAsLong() > 0) {
            share = OptionalDouble.of(fraction(cpuNanos, uptime.getAsLong() * 1_000_000_000L, cpus));
        } else {
            share = OptionalDouble.empty();
        }
        samples.put(vmid, new Sample(instance, cpuNanos, now, share));
        return share;
    }

    /** Drops what is known of a stopped guest. */
    public void forget(int vmid) {
        samples.remove(vmid);
    }

    static double fraction(long cpuNanos, long wallNanos, int cpus) {
        return Math.max(0, Math.min(1, (double) cpuNanos / wallNanos / Math.max(1, cpus)));
    }
}
