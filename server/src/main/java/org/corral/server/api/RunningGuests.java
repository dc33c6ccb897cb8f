package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.corral.core.guest.GuestUsage;

/**
 * Which guests of this node run, per guest type, and what they use, sampled at most once a
 * second: measuring costs processes, files and QMP round trips, and cluster listings come often.
 */
public final class RunningGuests {
    private record Sample(long takenAt, Map<Integer, GuestUsage.Usage> running) {}

    private final Clock clock;
    private final Map<String, GuestUsage> sources;
    private final Map<String, Sample> samples = new ConcurrentHashMap<>();

    /** {@code sources}: guest type ({@code qemu}, {@code lxc}) to its running guests and their figures. */
    public RunningGuests(Clock clock, Map<String, GuestUsage> sources) {
        this.clock = requireNonNull(clock, "clock is null");
        this.sources = Map.copyOf(sources);
    }

    public boolean isRunning(String type, int vmid) {
        return usage(type, vmid).isPresent();
    }

    /** The figures of a running guest of this node; empty when it does not run here. */
    public Optional<GuestUsage.Usage> usage(String type, int vmid) {
        GuestUsage source = sources.get(type);
        if (source == null) {
            return Optional.empty();
        }
        long now = clock.millis();
        Sample sample = samples.get(type);
        if (sample == null || now - sample.takenAt() >= 1000) {
            sample = new Sample(now, Map.copyOf(source.running()));
            samples.put(type, sample);
        }
        return Optional.ofNullable(sample.running().get(vmid));
    }
}
