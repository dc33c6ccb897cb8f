package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Which guests of this node run, per guest type, sampled at most once a second: asking LXC or
 * QEMU costs a process or a socket round trip, and cluster listings come often.
 */
public final class RunningGuests {
    private record Sample(long takenAt, Set<Integer> ids) {}

    private final Clock clock;
    private final Map<String, Supplier<Collection<Integer>>> sources;
    private final Map<String, Sample> samples = new ConcurrentHashMap<>();

    /** {@code sources}: guest type ({@code qemu}, {@code lxc}) to the VMIDs running now. */
    public RunningGuests(Clock clock, Map<String, Supplier<Collection<Integer>>> sources) {
        this.clock = requireNonNull(clock, "clock is null");
        this.sources = Map.copyOf(sources);
    }

    public boolean isRunning(String type, int vmid) {
        Supplier<Collection<Integer>> source = sources.get(type);
        if (source == null) {
            return false;
        }
        long now = clock.millis();
        Sample sample = samples.get(type);
        if (sample == null || now - sample.takenAt() >= 1000) {
            sample = new Sample(now, Set.copyOf(source.get()));
            samples.put(type, sample);
        }
        return sample.ids().contains(vmid);
    }
}
