package org.corral.backup.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Proxmox's documented prune rules, one row per rule. Each row lists every snapshot (newest first in the result) and
 * the exact mark it must get. Times are UTC unless a row names a zone. Snapshot specs: "time" complete, "time!"
 * protected, "time?" incomplete.
 */
class PruneTest {
    private static final ZoneId UTC = ZoneOffset.UTC;

    static Stream<Arguments> rows() {
        return Stream.of(
                row("keep-last keeps the N newest", opts(3, null, null, null, null, null), UTC,
                        List.of("2025-01-01T10:00:00Z", "2025-01-02T10:00:00Z", "2025-01-03T10:00:00Z", "2025-01-04T10:00:00Z",
                                "2025-01-05T10:00:00Z"),
                        List.of("2025-01-05T10:00:00Z", "2025-01-04T10:00:00Z", "2025-01-03T10:00:00Z")),
                row("keep-daily keeps the newest of each of the N latest days that have a backup", opts(null, null, 3, null, null, null), UTC,
                        List.of("2025-01-01T10:00:00Z", "2025-01-01T20:00:00Z", "2025-01-02T08:00:00Z", "2025-01-03T09:00:00Z",
                                "2025-01-03T23:00:00Z", "2025-01-04T12:00:00Z"),
                        List.of("2025-01-04T12:00:00Z", "2025-01-03T23:00:00Z", "2025-01-02T08:00:00Z")),
                row("keep-hourly buckets by hour", opts(null, 2, null, null, null, null), UTC,
                        List.of("2025-01-01T10:05:00Z", "2025-01-01T10:55:00Z", "2025-01-01T11:10:00Z", "2025-01-01T12:00:00Z"),
                        List.of("2025-01-01T12:00:00Z", "2025-01-01T11:10:00Z")),
                row("a day already kept by keep-last does not count for keep-daily", opts(2, null, 2, null, null, null), UTC,
                        List.of("2025-01-01T10:00:00Z", "2025-01-01T20:00:00Z", "2025-01-02T08:00:00Z", "2025-01-02T18:00:00Z",
                                "2025-01-03T09:00:00Z"),
                        List.of("2025-01-03T09:00:00Z", "2025-01-02T18:00:00Z", "2025-01-01T20:00:00Z")),
                row("keep-weekly uses ISO weeks across the year boundary", opts(null, null, null, 2, null, null), UTC,
                        // 2024-12-30 (Monday) starts ISO week 2025-W01; 2024-12-28 is 2024-W52
                        List.of("2024-12-28T12:00:00Z", "2024-12-30T12:00:00Z", "2025-01-02T12:00:00Z", "2025-01-06T12:00:00Z"),
                        List.of("2025-01-06T12:00:00Z", "2025-01-02T12:00:00Z")),
                row("keep-monthly then keep-yearly skip the years already kept", opts(null, null, null, null, 2, 2), UTC,
                        List.of("2023-06-15T12:00:00Z", "2023-12-31T12:00:00Z", "2024-01-31T12:00:00Z", "2024-02-01T12:00:00Z",
                                "2024-02-29T12:00:00Z"),
                        List.of("2024-02-29T12:00:00Z", "2024-01-31T12:00:00Z", "2023-12-31T12:00:00Z")),
                row("protected snapshots are kept and do not count", opts(1, null, null, null, null, null), UTC,
                        List.of("2025-01-01T10:00:00Z", "2025-01-02T10:00:00Z", "2025-01-03T10:00:00Z!"),
                        List.of("2025-01-03T10:00:00Z!", "2025-01-02T10:00:00Z")),
                row("a protected snapshot beyond every option is still kept", opts(1, null, null, null, null, null), UTC,
                        List.of("2025-01-01T10:00:00Z!", "2025-01-02T10:00:00Z", "2025-01-03T10:00:00Z"),
                        List.of("2025-01-03T10:00:00Z", "2025-01-01T10:00:00Z!")),
                row("no option keeps everything", opts(null, null, null, null, null, null), UTC,
                        List.of("2025-01-01T10:00:00Z", "2025-01-02T10:00:00Z"),
                        List.of("2025-01-02T10:00:00Z", "2025-01-01T10:00:00Z")),
                row("keep-last 0 keeps nothing", opts(0, null, null, null, null, null), UTC,
                        List.of("2025-01-01T10:00:00Z", "2025-01-02T10:00:00Z"),
                        List.of()),
                row("the newest incomplete snapshot is kept (it may be running), older ones are removed", opts(1, null, null, null, null, null), UTC,
                        List.of("2025-01-01T10:00:00Z?", "2025-01-02T10:00:00Z", "2025-01-03T10:00:00Z", "2025-01-04T10:00:00Z?"),
                        List.of("2025-01-04T10:00:00Z?", "2025-01-03T10:00:00Z")),
                row("days are local days: Vienna", opts(null, null, 2, null, null, null), ZoneId.of("Europe/Vienna"),
                        List.of("2025-03-01T12:00:00Z", "2025-03-01T23:30:00Z", "2025-03-02T10:00:00Z"),
                        List.of("2025-03-02T10:00:00Z", "2025-03-01T12:00:00Z")),
                row("days are local days: UTC", opts(null, null, 2, null, null, null), UTC,
                        List.of("2025-03-01T12:00:00Z", "2025-03-01T23:30:00Z", "2025-03-02T10:00:00Z"),
                        List.of("2025-03-02T10:00:00Z", "2025-03-01T23:30:00Z")),
                row("a quarter of daily backups: last 2, daily 3, weekly 2, monthly 2", opts(2, null, 3, 2, 2, null), UTC,
                        daily(LocalDate.of(2024, 1, 1), LocalDate.of(2024, 3, 31)),
                        List.of("2024-03-31T02:00:00Z", "2024-03-30T02:00:00Z", "2024-03-29T02:00:00Z", "2024-03-28T02:00:00Z",
                                "2024-03-27T02:00:00Z", "2024-03-24T02:00:00Z", "2024-03-17T02:00:00Z", "2024-02-29T02:00:00Z",
                                "2024-01-31T02:00:00Z")),
                row("two years of daily backups: weekly 3, monthly 3, yearly 3", opts(null, null, null, 3, 3, 3), UTC,
                        daily(LocalDate.of(2023, 1, 1), LocalDate.of(2024, 12, 31)),
                        // 2024-12-31 is Tuesday of ISO week 2025-W01, so weeks: 12-31, 12-29 (Sun, W52), 12-22 (W51);
                        // months: December is already kept and does not count, so 11-30, 10-31, 09-30;
                        // years: 2024 is already kept, so 2023-12-31
                        List.of("2024-12-31T02:00:00Z", "2024-12-29T02:00:00Z", "2024-12-22T02:00:00Z", "2024-11-30T02:00:00Z",
                                "2024-10-31T02:00:00Z", "2024-09-30T02:00:00Z", "2023-12-31T02:00:00Z")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void keepsExactlyWhatTheRulesSay(String rule, Prune.Options options, ZoneId zone, List<String> snapshots, List<String> kept) {
        List<Prune.Candidate> candidates = new ArrayList<>();
        Map<Instant, String> specs = new LinkedHashMap<>();
        for (String spec : snapshots) {
            String time = spec.replaceAll("[!?]$", "");
            specs.put(Instant.parse(time), spec);
            candidates.add(new Prune.Candidate(new SnapshotId("vm", "100", Instant.parse(time)), !spec.endsWith("?"), spec.endsWith("!")));
        }
        List<Prune.Decision> decisions = Prune.compute(candidates, options, zone);

        assertThat(decisions).hasSize(snapshots.size());
        assertThat(decisions).extracting(d -> d.snapshot().id().time()).isSortedAccordingTo((a, b) -> b.compareTo(a));
        List<String> actuallyKept = decisions.stream().filter(d -> d.mark() != Prune.Mark.REMOVE)
                .map(d -> specs.get(d.snapshot().id().time())).toList();
        assertThat(actuallyKept).as(rule).containsExactlyElementsOf(kept);
        for (Prune.Decision d : decisions) {
            String spec = specs.get(d.snapshot().id().time());
            if (spec.endsWith("!")) {
                assertThat(d.mark()).as(spec).isEqualTo(Prune.Mark.PROTECTED);
            } else if (spec.endsWith("?") && d.mark() != Prune.Mark.REMOVE) {
                assertThat(d.mark()).as(spec).isEqualTo(Prune.Mark.KEEP_PARTIAL);
            }
        }
    }

    private static Arguments row(String rule, Prune.Options options, ZoneId zone, List<String> snapshots, List<String> kept) {
        return Arguments.of(rule, options, zone, snapshots, kept);
    }

    private static Prune.Options opts(Integer last, Integer hourly, Integer daily, Integer weekly, Integer monthly, Integer yearly) {
        return new Prune.Options(last, hourly, daily, weekly, monthly, yearly);
    }

    private static List<String> daily(LocalDate from, LocalDate to) {
        List<String> out = new ArrayList<>();
        for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
            out.add(d + "T02:00:00Z");
        }
        return out;
    }
}
