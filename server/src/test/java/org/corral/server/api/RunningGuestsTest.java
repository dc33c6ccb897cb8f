package org.corral.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import org.corral.core.guest.GuestUsage;
import org.junit.jupiter.api.Test;

class RunningGuestsTest {
    static final GuestUsage.Usage BUSY = new GuestUsage.Usage(OptionalDouble.of(0.5), OptionalLong.of(100 << 20), OptionalLong.of(42),
            OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(7), OptionalLong.of(8));

    @Test
    void runningEntryCarriesTheMeasuredFiguresAndLeavesOutTheUnmeasured() {
        Map<String, Object> stopped = new LinkedHashMap<>();
        stopped.put("id", "qemu/100");
        stopped.put("status", "stopped");
        stopped.put("cpu", 0);
        stopped.put("mem", 0);
        stopped.put("disk", 0);
        stopped.put("uptime", 0);
        stopped.put("maxmem", 512L << 20);
        Map<String, Object> running = ClusterApi.runningResource(stopped, BUSY);
        assertThat(running).containsEntry("status", "running").containsEntry("cpu", 0.5).containsEntry("mem", 100L << 20)
                .containsEntry("uptime", 42L).containsEntry("netin", 7L).containsEntry("maxmem", 512L << 20)
                .doesNotContainKeys("disk", "diskread", "diskwrite");
        assertThat(ClusterApi.runningResource(stopped, GuestUsage.Usage.unmeasured())).doesNotContainKeys("cpu", "mem", "uptime");
    }

    @Test
    void guestsAreMeasuredAtMostOnceASecond() {
        AtomicInteger calls = new AtomicInteger();
        Clock clock = Clock.fixed(Instant.EPOCH, ZoneOffset.UTC);
        RunningGuests guests = new RunningGuests(clock, Map.of("qemu", () -> {
            calls.incrementAndGet();
            return Map.of(100, BUSY);
        }));
        assertThat(guests.usage("qemu", 100)).contains(BUSY);
        assertThat(guests.isRunning("qemu", 101)).isFalse();
        assertThat(guests.isRunning("lxc", 100)).isFalse();
        assertThat(calls).hasValue(1);
    }
}
