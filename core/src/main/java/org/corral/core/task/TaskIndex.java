package org.corral.core.task;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * Ended tasks in listing order (newest first), with the same order kept per object id (the
 * {@code vmid} filter) and per type ({@code typefilter}), so that a page of a long history costs
 * the page, not a sort and a pass over every task. {@code since} and {@code until} narrow the walk
 * to a range of start times; only {@code userfilter} (a substring) and the status filters still
 * look at each task of the chosen range. Not thread-safe: {@link TaskManager} guards it.
 */
final class TaskIndex {
    /** Newest first, as Proxmox lists tasks; the UPID breaks ties, so no two tasks compare equal. */
    static final Comparator<TaskEntry> ORDER = Comparator.comparingLong(TaskEntry::starttime)
            .thenComparingLong(TaskEntry::pstart)
            .thenComparing(TaskEntry::upid)
            .reversed();

    private final NavigableSet<TaskEntry> all = new TreeSet<>(ORDER);
    private final Map<String, NavigableSet<TaskEntry>> byId = new HashMap<>();
    private final Map<String, NavigableSet<TaskEntry>> byType = new HashMap<>();

    /** Adds an ended task, or replaces the entry of the same UPID. */
    void add(TaskEntry entry) {
        requireNonNull(entry, "entry is null");
        if (all.remove(entry)) {
            byId.get(entry.id()).remove(entry);
            byType.get(entry.type()).remove(entry);
        }
        all.add(entry);
        byId.computeIfAbsent(entry.id(), k -> new TreeSet<>(ORDER)).add(entry);
        byType.computeIfAbsent(entry.type(), k -> new TreeSet<>(ORDER)).add(entry);
    }

    int size() {
        return all.size();
    }

    /**
     * The page of ended tasks that {@code filter} asks for, merged in order with {@code running}
     * (tasks without an end, few), and the number of all that match.
     */
    TaskPage page(TaskFilter filter, Collection<TaskEntry> running) {
        int start = filter.startOrDefault();
        int limit = filter.limitOrDefault();
        long wanted = (long) start + limit;
        List<TaskEntry> live = new ArrayList<>();
        for (TaskEntry entry : running) {
            if (filter.matches(entry)) {
                live.add(entry);
            }
        }
        live.sort(ORDER);
        Walk ended = walk(filter, (int) Math.min(Integer.MAX_VALUE, wanted));
        // merge the two ordered lists up to the end of the page
        List<TaskEntry> page = new ArrayList<>();
        int i = 0;
        int j = 0;
        for (long n = 0; n < wanted && (i < live.size() || j < ended.first().size()); n++) {
            TaskEntry next;
            if (j >= ended.first().size() || i < live.size() && ORDER.compare(live.get(i), ended.first().get(j)) < 0) {
                next = live.get(i++);
            } else {
                next = ended.first().get(j++);
            }
            if (n >= start) {
                page.add(next);
            }
        }
        return new TaskPage(page, live.size() + ended.total());
    }

    private record Walk(List<TaskEntry> first, int total) {}

    /** The first {@code wanted} ended tasks that match and how many match in all. */
    private Walk walk(TaskFilter filter, int wanted) {
        NavigableSet<TaskEntry> range = all;
        boolean byVmid = filter.vmid().isPresent() && filter.vmid().get() != 0;
        boolean byTypefilter = filter.typefilter().isPresent() && !filter.typefilter().get().isEmpty();
        if (byVmid) {
            range = byId.getOrDefault(filter.vmid().get().toString(), EMPTY);
        }
        if (byTypefilter) {
            NavigableSet<TaskEntry> ofType = byType.getOrDefault(filter.typefilter().get(), EMPTY);
            if (!byVmid || ofType.size() < range.size()) {
                range = ofType;
            }
        }
        if (filter.since().isPresent() || filter.until().isPresent()) {
            range = timeRange(range, filter);
        }
        // whether every task of the range matches: then the count is the range's size
        // (the chosen set implies the vmid or the type filter, not both)
        boolean exact = !(byVmid && byTypefilter) && filter.userfilter().filter(u -> !u.isEmpty()).isEmpty()
                && !filter.filtersStatus();
        List<TaskEntry> first = new ArrayList<>(Math.min(wanted, 1024));
        if (exact) {
            for (TaskEntry entry : range) {
                if (first.size() >= wanted) {
                    break;
                }
                first.add(entry);
            }
            return new Walk(first, range.size());
        }
        int total = 0;
        for (TaskEntry entry : range) {
            if (filter.matches(entry)) {
                total++;
                if (first.size() < wanted) {
                    first.add(entry);
                }
            }
        }
        return new Walk(first, total);
    }

    /** The tasks of {@code set} that started in {@code [since, until]}; the set is newest first. */
    private static NavigableSet<TaskEntry> timeRange(NavigableSet<TaskEntry> set, TaskFilter filter) {
        long since = filter.since().orElse(Long.MIN_VALUE);
        long until = filter.until().orElse(Long.MAX_VALUE);
        if (since > until) {
            return EMPTY;
        }
        // the first possible entry at 'until' and the last possible one at 'since', in listing order
        TaskEntry newest = bound(until, Long.MAX_VALUE, "\uffff");
        TaskEntry oldest = bound(since, Long.MIN_VALUE, "");
        return set.subSet(newest, true, oldest, true);
    }

    private static TaskEntry bound(long starttime, long pstart, String upid) {
        return new TaskEntry(upid, "", 0, pstart, starttime, "", "", "", java.util.Optional.empty(), java.util.Optional.empty());
    }

    private static final NavigableSet<TaskEntry> EMPTY = java.util.Collections.unmodifiableNavigableSet(new TreeSet<>(ORDER));
}
