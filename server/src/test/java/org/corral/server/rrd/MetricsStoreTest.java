package org.corral.server.rrd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rrd4j.ConsolFun;

class MetricsStoreTest {
    /** A multiple of every archive step up to 30 minutes. */
    private static final long BASE = 1_800_000_000L;

    @TempDir
    Path dir;

    /** Feeds one sample a minute for {@code minutes}: cpu k/100 and 6000 k bytes in at minute k. */
    private static void feedMinutes(MetricsStore store, int minutes) {
        store.update(RrdLayout.Kind.NODE, "node", "n1", BASE, Map.of("cpu", 0.0, "netin", 0.0));
        for (int k = 1; k <= minutes; k++) {
            store.update(RrdLayout.Kind.NODE, "node", "n1", BASE + 60L * k, Map.of("cpu", k / 100.0, "netin", 6000.0 * k * k,
                    "memtotal", 1000.0));
        }
    }

    @Test
    void hourAnswersSeventyMinutePointsLabelledByTheirStart() {
        try (MetricsStore store = new MetricsStore(dir, RrdLayout.PROXMOX)) {
            feedMinutes(store, 60);
            List<Map<String, Object>> points = store.read(RrdLayout.Kind.NODE, "node", "n1", RrdLayout.Timeframe.HOUR,
                    ConsolFun.AVERAGE, BASE + 3600 + 30);
            assertThat(points).hasSize(70);
            assertThat(points.getFirst().get("time")).isEqualTo(BASE + 3600 - 70 * 60);
            assertThat(points.getLast().get("time")).isEqualTo(BASE + 3540);
            for (int k = 1; k <= 60; k++) {
                Map<String, Object> point = points.get(9 + k);
                assertThat(point.get("time")).isEqualTo(BASE + 60L * (k - 1));
                assertThat((double) point.get("cpu")).as("minute %d", k).isCloseTo(k / 100.0, within(1e-9));
                // the counter went up by 6000 (2k - 1) bytes in minute k: a rate per second
                assertThat((double) point.get("netin")).as("minute %d", k).isCloseTo(100.0 * (2 * k - 1), within(1e-6));
                assertThat((double) point.get("memtotal")).isEqualTo(1000.0);
                // never fed: left out, not 0
                assertThat(point).doesNotContainKeys("iowait", "loadavg", "rootused");
            }
            // before the first sample: time only
            assertThat(points.getFirst()).containsOnlyKeys("time");
        }
    }

    @Test
    void dayConsolidatesHalfHoursToTheirAverageAndMaximum() {
        try (MetricsStore store = new MetricsStore(dir, RrdLayout.PROXMOX)) {
            feedMinutes(store, 60);
            long now = BASE + 3600 + 5;
            List<Map<String, Object>> average = store.read(RrdLayout.Kind.NODE, "node", "n1", RrdLayout.Timeframe.DAY,
                    ConsolFun.AVERAGE, now);
            List<Map<String, Object>> max = store.read(RrdLayout.Kind.NODE, "node", "n1", RrdLayout.Timeframe.DAY,
                    ConsolFun.MAX, now);
            assertThat(average).hasSize(70);
            assertThat(average.getLast().get("time")).isEqualTo(BASE + 1800);
            Map<String, Object> first = average.get(68);
            assertThat(first.get("time")).isEqualTo(BASE);
            // minutes 1..30: cpu 0.01..0.30, then 31..60
            assertThat((double) first.get("cpu")).isCloseTo(0.155, within(1e-9));
            assertThat((double) average.get(69).get("cpu")).isCloseTo(0.455, within(1e-9));
            assertThat((double) max.get(68).get("cpu")).isCloseTo(0.30, within(1e-9));
            assertThat((double) max.get(69).get("cpu")).isCloseTo(0.60, within(1e-9));
            assertThat((double) max.get(69).get("netin")).isCloseTo(100.0 * (2 * 60 - 1), within(1e-6));
            assertThat(average.get(67)).containsOnlyKeys("time");
        }
    }

    @Test
    void everyTimeframeHasProxmoxsResolutionAndLength() {
        try (MetricsStore store = new MetricsStore(dir, RrdLayout.PROXMOX)) {
            feedMinutes(store, 2);
            long now = BASE + 1_000_000;
            Map<RrdLayout.Timeframe, Long> resolution = Map.of(RrdLayout.Timeframe.HOUR, 60L, RrdLayout.Timeframe.DAY, 1800L,
                    RrdLayout.Timeframe.WEEK, 10800L, RrdLayout.Timeframe.MONTH, 43200L, RrdLayout.Timeframe.YEAR, 604800L,
                    RrdLayout.Timeframe.DECADE, 604800L);
            for (RrdLayout.Timeframe frame : RrdLayout.Timeframe.values()) {
                List<Map<String, Object>> points = store.read(RrdLayout.Kind.NODE, "node", "n1", frame, ConsolFun.MAX, now);
                assertThat(points).hasSize(frame == RrdLayout.Timeframe.DECADE ? 520 : 70);
                long reso = resolution.get(frame);
                assertThat((long) points.get(1).get("time") - (long) points.get(0).get("time")).isEqualTo(reso);
                assertThat((long) points.getLast().get("time")).isEqualTo(reso * (now / reso) - reso);
            }
        }
    }

    @Test
    void oneFilePerObjectThatReopensWithItsData() {
        try (MetricsStore store = new MetricsStore(dir, RrdLayout.PROXMOX)) {
            store.update(RrdLayout.Kind.STORAGE, "storage", "local", BASE, Map.of("total", 100.0, "used", 10.0));
            store.update(RrdLayout.Kind.STORAGE, "storage", "local", BASE + 60, Map.of("total", 100.0, "used", 40.0));
            store.update(RrdLayout.Kind.GUEST, "qemu", "100", BASE + 60, Map.of("cpu", 0.5));
        }
        assertThat(dir.resolve("storage/local.rrd")).isRegularFile();
        assertThat(dir.resolve("qemu/100.rrd")).isRegularFile();
        try (MetricsStore store = new MetricsStore(dir, RrdLayout.PROXMOX)) {
            List<Map<String, Object>> points = store.read(RrdLayout.Kind.STORAGE, "storage", "local", RrdLayout.Timeframe.HOUR,
                    ConsolFun.AVERAGE, BASE + 60);
            assertThat(points.get(69)).containsExactly(Map.entry("time", BASE), Map.entry("total", 100.0), Map.entry("used", 40.0));
            // an object never sampled answers points without values
            assertThat(store.read(RrdLayout.Kind.GUEST, "lxc", "101", RrdLayout.Timeframe.HOUR, ConsolFun.AVERAGE, BASE))
                    .hasSize(70).allSatisfy(p -> assertThat(p).containsOnlyKeys("time"));
            assertThat(Files.exists(dir.resolve("lxc/101.rrd"))).isFalse();
        }
    }

    @Test
    void anUpdateNotLaterThanTheLastIsDropped() {
        try (MetricsStore store = new MetricsStore(dir, RrdLayout.PROXMOX)) {
            store.update(RrdLayout.Kind.GUEST, "lxc", "101", BASE, Map.of("mem", 5.0));
            store.update(RrdLayout.Kind.GUEST, "lxc", "101", BASE + 60, Map.of("mem", 5.0));
            store.update(RrdLayout.Kind.GUEST, "lxc", "101", BASE + 60, Map.of("mem", 500.0));
            assertThat(store.read(RrdLayout.Kind.GUEST, "lxc", "101", RrdLayout.Timeframe.HOUR, ConsolFun.MAX, BASE + 60)
                    .get(69).get("mem")).isEqualTo(5.0);
        }
    }
}
