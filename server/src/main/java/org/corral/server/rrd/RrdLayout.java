package org.corral.server.rrd;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.rrd4j.ConsolFun;
import org.rrd4j.DsType;
import org.rrd4j.core.RrdDef;

/**
 * The round-robin layout of Proxmox's pve2 RRD files: one base step (60 s in Proxmox), and for each
 * of AVERAGE and MAX archives of 1, 30, 180, 720 and 10080 steps, so that an hour, a day, a week, a
 * month and a year read back 70 points each at 1, 30, 180, 720 minutes and a week; the weekly archive
 * keeps ten years for the node's {@code decade}.
 */
public record RrdLayout(Duration step) {
    public static final RrdLayout PROXMOX = new RrdLayout(Duration.ofSeconds(60));

    public RrdLayout {
        requireNonNull(step, "step is null");
        if (step.toSeconds() < 1 || step.toMillis() % 1000 != 0) {
            throw new IllegalArgumentException("step must be whole seconds, at least 1: " + step);
        }
    }

    /** A data source: its Proxmox field name and whether it is a gauge or a growing counter (stored as a rate). */
    public record Source(String name, boolean counter) {}

    /** What an RRD file describes, with its fields in Proxmox's order. */
    public enum Kind {
        NODE(List.of(gauge("loadavg"), gauge("maxcpu"), gauge("cpu"), gauge("iowait"), gauge("memtotal"), gauge("memused"),
                gauge("swaptotal"), gauge("swapused"), gauge("roottotal"), gauge("rootused"), counter("netin"), counter("netout"))),
        GUEST(List.of(gauge("maxcpu"), gauge("cpu"), gauge("maxmem"), gauge("mem"), gauge("maxdisk"), gauge("disk"),
                counter("netin"), counter("netout"), counter("diskread"), counter("diskwrite"))),
        STORAGE(List.of(gauge("total"), gauge("used")));

        private final List<Source> sources;

        Kind(List<Source> sources) {
            this.sources = sources;
        }

        public List<Source> sources() {
            return sources;
        }

        private static Source gauge(String name) {
            return new Source(name, false);
        }

        private static Source counter(String name) {
            return new Source(name, true);
        }
    }

    /** A span an answer covers: how many base steps one point is and how many points there are. */
    public enum Timeframe {
        HOUR(1, 70), DAY(30, 70), WEEK(180, 70), MONTH(720, 70), YEAR(10080, 70), DECADE(10080, 520);

        private final int steps;
        private final int points;

        Timeframe(int steps, int points) {
            this.steps = steps;
            this.points = points;
        }

        public int steps() {
            return steps;
        }

        public int points() {
            return points;
        }

        public String apiName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Archives per consolidation: base steps per row and rows kept. */
    static final List<int[]> ARCHIVES = List.of(new int[] {1, 70}, new int[] {30, 70}, new int[] {180, 70},
            new int[] {720, 70}, new int[] {10080, 520});

    public long stepSeconds() {
        return step.toSeconds();
    }

    /** The definition of a new file at {@code path} whose first update comes after {@code startSeconds}. */
    RrdDef definition(Kind kind, String path, long startSeconds) {
        RrdDef def = new RrdDef(path, startSeconds, stepSeconds());
        long heartbeat = 2 * stepSeconds();
        for (Source source : kind.sources()) {
            // a counter that goes back (a restarted guest) gives no value, not a huge negative rate
            def.addDatasource(source.name(), source.counter() ? DsType.DERIVE : DsType.GAUGE, heartbeat, 0, Double.NaN);
        }
        for (ConsolFun cf : List.of(ConsolFun.AVERAGE, ConsolFun.MAX)) {
            for (int[] archive : ARCHIVES) {
                def.addArchive(cf, 0.5, archive[0], archive[1]);
            }
        }
        return def;
    }
}
