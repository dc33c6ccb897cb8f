package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.corral.core.guest.GuestUsage;

/**
 * Which guests of this node run, per guest type, and what they use, sampled at most once a
 * second: measuring costs processes, files and QMP round trips, and cluster listings come often.
 * One caller measures while the others keep the previous sample, and a sample equal to the one
 * before is the same object, so that answers built from it can be kept.
 */
public final class RunningGuests {
    private record Sample(long takenAt, Map<Integer, GuestUsage.Usage> running) {}

    private final Clock clock;
    private final Map<String, GuestUsage> sources;
    private final Map<String, Sample> samples = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> measuring = new ConcurrentHashMap<>();

    /** {@code sources}: guest type ({@code qemu}, {@code lxc}) to its running guests and their figures. */
    public RunningGuests(Clock clock, Map<String, GuestUsage> sources) {
        this.clock = requireNonNull(clock, "clock is null");
        this.sources = Map.copyOf(sources);
        this.sources.keySet().forEach(type -> measuring.put(type, new ReentrantLock()));
    }

    public boolean isRunning(String type, int vmid) {
        return usage(type, vmid).isPresent();
    }

    /** The figures of a running guest of this node; empty when it does not run here. */
    public Optional<GuestUsage.Usage> usage(String type, int vmid) {
        return Optional.ofNullable(running(type).get(vmid));
    }

    /** The running guests of one type with their figures; the same map until they change. */
    public Map<Integer, GuestUsage.Usage> running(String type) {
        GuestUsage source = sources.get(type);
        if (source == null) {
            return Map.of();
        }
        Sample sample = samples.get(type);
        if (sample != null && clock.millis() - sample.takenAt() < 1000) {
            return sample.running();
        }
        ReentrantLock lock = measuring.get(type);
        if (!lock.tryLock()) {
            if (sample != null && clock.millis() - sample.takenAt() < 2000) {
                // someone measures right now: figures a second old do until then
                return sample.running();
            }
            lock.lock();
        }
        try {
            sample = samples.get(type);
            long now = clock.millis();
            if (sample != null && now - sample.takenAt() < 1000) {
                return sample.running();
            }
            Map<Integer, GuestUsage.Usage> measured = Map.copyOf(source.running());
            if (sample != null && sample.running().equals(measured)) {
                measured = sample.running();
            }
            samples.put(type, new Sample(now, measured));
            return measured;
        } finally {
            lock.unlock();
        }
    }
}
