package org.corral.backup.datastore;

import static java.util.Objects.requireNonNull;

import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Proxmox's retention rules (Proxmox Backup Server "Prune", also {@code prune-backups} in PVE):
 * <ul>
 *   <li>snapshots are taken newest first; each option runs in the order last, hourly, daily, weekly, monthly,
 *       yearly over the snapshots not yet kept;</li>
 *   <li>{@code keep-last N} keeps the N newest; {@code keep-hourly N} keeps the newest snapshot of each of the N
 *       most recent hours that have one, and likewise days, ISO weeks (Monday start), months and years, in local
 *       time; a period that already has a kept snapshot is skipped;</li>
 *   <li>protected snapshots are always kept and do not count toward any option;</li>
 *   <li>an incomplete snapshot is kept only when it is the newest of all (it may still be running);</li>
 *   <li>with no option set, everything is kept.</li>
 * </ul>
 */
public final class Prune {
    public enum Mark { KEEP, KEEP_PARTIAL, PROTECTED, REMOVE }

    /** The keep options; null means not set. */
    public record Options(Integer keepLast, Integer keepHourly, Integer keepDaily, Integer keepWeekly, Integer keepMonthly,
            Integer keepYearly) {
        public Options {
            for (Integer n : new Integer[] {keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly}) {
                if (n != null && n < 0) {
                    throw new IllegalArgumentException("keep options must not be negative");
                }
            }
        }

        public boolean keepsAll() {
            return keepLast == null && keepHourly == null && keepDaily == null && keepWeekly == null && keepMonthly == null
                    && keepYearly == null;
        }
    }

    public record Candidate(SnapshotId id, boolean complete, boolean isProtected) {
        public Candidate {
            requireNonNull(id, "id is null");
        }
    }

    public record Decision(Candidate snapshot, Mark mark) {}

    private Prune() {}

    /** Decides every snapshot of one group, returned newest first. */
    public static List<Decision> compute(List<Candidate> snapshots, Options options, ZoneId zone) {
        List<Candidate> list = new ArrayList<>(snapshots);
        list.sort(Comparator.comparing((Candidate c) -> c.id().time()).reversed());
        Map<Candidate, Mark> marks = new HashMap<>();
        boolean keepUnfinished = true;
        for (Candidate c : list) {
            if (c.complete()) {
                keepUnfinished = false;
            } else {
                marks.put(c, keepUnfinished ? Mark.KEEP_PARTIAL : Mark.REMOVE);
                keepUnfinished = false;
            }
        }
        if (options.keepsAll()) {
            for (Candidate c : list) {
                marks.putIfAbsent(c, c.isProtected() ? Mark.PROTECTED : Mark.KEEP);
            }
        } else {
            select(marks, list, options.keepLast(), c -> c.id().timeString());
            select(marks, list, options.keepHourly(), c -> local(c, zone).withMinute(0).withSecond(0).toLocalDateTime().toString());
            select(marks, list, options.keepDaily(), c -> local(c, zone).toLocalDate().toString());
            select(marks, list, options.keepWeekly(), c -> {
                ZonedDateTime t = local(c, zone);
                return t.get(IsoFields.WEEK_BASED_YEAR) + "/" + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR);
            });
            select(marks, list, options.keepMonthly(), c -> local(c, zone).getYear() + "/" + local(c, zone).getMonthValue());
            select(marks, list, options.keepYearly(), c -> Integer.toString(local(c, zone).getYear()));
        }
        List<Decision> out = new ArrayList<>();
        for (Candidate c : list) {
            Mark mark = marks.getOrDefault(c, c.isProtected() ? Mark.PROTECTED : Mark.REMOVE);
            out.add(new Decision(c, mark));
        }
        return out;
    }

    private static void select(Map<Candidate, Mark> marks, List<Candidate> list, Integer keep, Function<Candidate, String> period) {
        if (keep == null) {
            return;
        }
        Set<String> alreadyKept = new HashSet<>();
        for (Candidate c : list) {
            if (marks.get(c) == Mark.KEEP) {
                alreadyKept.add(period.apply(c));
            }
        }
        Set<String> kept = new HashSet<>();
        for (Candidate c : list) {
            if (marks.containsKey(c)) {
                continue;
            }
            if (c.isProtected()) {
                marks.put(c, Mark.PROTECTED);
                continue;
            }
            String id = period.apply(c);
            if (alreadyKept.contains(id)) {
                continue;
            }
            if (!kept.contains(id)) {
                if (kept.size() >= keep) {
                    break;
                }
                kept.add(id);
                marks.put(c, Mark.KEEP);
            } else {
                marks.put(c, Mark.REMOVE);
            }
        }
    }

    private static ZonedDateTime local(Candidate c, ZoneId zone) {
        return c.id().time().atZone(zone);
    }
}
