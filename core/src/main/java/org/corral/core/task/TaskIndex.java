package org.corral.core.task;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Ended tasks in listing order (newest first), with the same order kept per object id (the
 * {@code vmid} filter), per type ({@code typefilter}) and per class of exit status
 * ({@code errors}, {@code statusfilter}), so that a page of a long history costs the page, not a
 * sort and a pass over every task. {@code since} and {@code until} narrow the walk to a range of
 * start times. Only {@code userfilter} (a substring), and a second filter next to {@code vmid} or
 * {@code typefilter}, still look at each task of the chosen set. Not thread-safe: {@link
 * TaskManager} guards it.
 */
final class TaskIndex {
    /** Newest first, as Proxmox lists tasks; the UPID breaks ties, so no two tasks compare equal. */
    static final Comparator<TaskEntry> ORDER = Comparator.comparingLong(TaskEntry::starttime)
            .thenComparingLong(TaskEntry::pstart)
            .thenComparing(TaskEntry::upid)
            .reversed();

    private static final Ordered EMPTY = new Ordered();

    private final Ordered all = new Ordered();
    private final Map<String, Ordered> byId = new HashMap<>();
    private final Map<String, Ordered> byType = new HashMap<>();
    private final Map<TaskFilter.StatusType, Ordered> byStatus = new EnumMap<>(TaskFilter.StatusType.class);

    /** Adds an ended task, or replaces the entry of the same UPID. */
    void add(TaskEntry entry) {
        requireNonNull(entry, "entry is null");
        Optional<TaskEntry> before = all.remove(entry);
        before.ifPresent(old -> {
            byId.get(old.id()).remove(old);
            byType.get(old.type()).remove(old);
            byStatus.get(TaskFilter.StatusType.of(old.status())).remove(old);
        });
        all.add(entry);
        byId.computeIfAbsent(entry.id(), k -> new Ordered()).add(entry);
        byType.computeIfAbsent(entry.type(), k -> new Ordered()).add(entry);
        byStatus.computeIfAbsent(TaskFilter.StatusType.of(entry.status()), k -> new Ordered()).add(entry);
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
        List<TaskEntry> live = new ArrayList<>();
        for (TaskEntry entry : running) {
            if (filter.matches(entry)) {
                live.add(entry);
            }
        }
        live.sort(ORDER);
        // each running task before the page moves it by one: up to live.size() ended tasks more may be needed
        long to = (long) start + limit;
        Walk ended = walk(filter, Math.max(0, start - live.size()), to);
        if (ended.first().isEmpty() && ended.skipped() > 0) {
            // the page lies past the ended tasks: merge from the beginning
            ended = walk(filter, 0, to);
        }
        // the merged position of the first ended task fetched, and the running tasks that come after it
        long position = 0;
        List<TaskEntry> after = live;
        if (ended.skipped() > 0) {
            TaskEntry firstFetched = ended.first().get(0);
            after = live.stream().filter(t -> ORDER.compare(t, firstFetched) > 0).toList();
            position = ended.skipped() + live.size() - after.size();
        }
        List<TaskEntry> page = new ArrayList<>();
        List<TaskEntry> first = ended.first();
        int i = 0;
        int j = 0;
        while (position < to && (i < after.size() || j < first.size())) {
            TaskEntry next = j >= first.size() || i < after.size() && ORDER.compare(after.get(i), first.get(j)) < 0
                    ? after.get(i++) : first.get(j++);
            if (position >= start) {
                page.add(next);
            }
            position++;
        }
        return new TaskPage(page, live.size() + ended.total());
    }

    /**
     * Ended tasks that match: {@code first} holds those at positions {@code skipped} up to
     * {@code skipped + first.size()}, {@code total} counts all.
     */
    private record Walk(List<TaskEntry> first, int skipped, int total) {}

    /** The matching ended tasks at positions {@code from} up to {@code to}, and how many match in all. */
    private Walk walk(TaskFilter filter, long from, long to) {
        boolean byVmid = filter.vmid().isPresent() && filter.vmid().get() != 0;
        boolean byTypefilter = filter.typefilter().isPresent() && !filter.typefilter().get().isEmpty();
        boolean byUser = filter.userfilter().isPresent() && !filter.userfilter().get().isEmpty();
        List<Ordered> sets;
        if (byVmid || byTypefilter) {
            Ordered chosen = byVmid ? byId.getOrDefault(filter.vmid().get().toString(), EMPTY) : null;
            if (byTypefilter) {
                Ordered ofType = byType.getOrDefault(filter.typefilter().get(), EMPTY);
                if (chosen == null || ofType.size() < chosen.size()) {
                    chosen = ofType;
                }
            }
            sets = List.of(chosen);
        } else if (filter.filtersStatus()) {
            // the classes are disjoint: the accepted ones together are exactly the tasks that pass
            sets = new ArrayList<>();
            for (TaskFilter.StatusType type : TaskFilter.StatusType.values()) {
                if (filter.matchesStatus(type) && byStatus.containsKey(type)) {
                    sets.add(byStatus.get(type));
                }
            }
        } else {
            sets = List.of(all);
        }
        boolean exact = !byUser && !(byVmid && byTypefilter) && (!filter.filtersStatus() || !byVmid && !byTypefilter);
        boolean timed = filter.since().isPresent() || filter.until().isPresent();
        if (exact && !timed && sets.size() == 1) {
            // positional: the page costs its own length
            List<TaskEntry> list = sets.get(0).list();
            int skipped = (int) Math.min(from, list.size());
            return new Walk(new ArrayList<>(list.subList(skipped, (int) Math.min(list.size(), to))), skipped, list.size());
        }
        List<Iterator<TaskEntry>> iterators = new ArrayList<>();
        for (Ordered set : sets) {
            iterators.add((timed ? timeRange(set.set(), filter) : set.set()).iterator());
        }
        Iterator<TaskEntry> merged = merge(iterators);
        List<TaskEntry> first = new ArrayList<>();
        int total = 0;
        while (merged.hasNext()) {
            TaskEntry entry = merged.next();
            if (!exact && !filter.matches(entry)) {
                continue;
            }
            if (total >= from && total < to) {
                first.add(entry);
            }
            total++;
        }
        return new Walk(first, (int) Math.min(from, total), total);
    }

    /** The entries of ordered iterators over disjoint sets, in order. */
    private static Iterator<TaskEntry> merge(List<Iterator<TaskEntry>> iterators) {
        if (iterators.size() == 1) {
            return iterators.get(0);
        }
        List<TaskEntry> heads = new ArrayList<>();
        for (Iterator<TaskEntry> it : iterators) {
            heads.add(it.hasNext() ? it.next() : null);
        }
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return heads.stream().anyMatch(h -> h != null);
            }

            @Override
            public TaskEntry next() {
                int best = -1;
                for (int k = 0; k < heads.size(); k++) {
                    if (heads.get(k) != null && (best < 0 || ORDER.compare(heads.get(k), heads.get(best)) < 0)) {
                        best = k;
                    }
                }
                if (best < 0) {
                    throw new java.util.NoSuchElementException();
                }
                TaskEntry next = heads.get(best);
                heads.set(best, iterators.get(best).hasNext() ? iterators.get(best).next() : null);
                return next;
            }
        };
    }

    /** The tasks of {@code set} that started in {@code [since, until]}; the set is newest first. */
    private static NavigableSet<TaskEntry> timeRange(NavigableSet<TaskEntry> set, TaskFilter filter) {
        long since = filter.since().orElse(Long.MIN_VALUE);
        long until = filter.until().orElse(Long.MAX_VALUE);
        if (since > until) {
            return Collections.emptyNavigableSet();
        }
        // the first possible entry at 'until' and the last possible one at 'since', in listing order
        TaskEntry newest = bound(until, Long.MAX_VALUE, "\uffff");
        TaskEntry oldest = bound(since, Long.MIN_VALUE, "");
        return set.subSet(newest, true, oldest, true);
    }

    private static TaskEntry bound(long starttime, long pstart, String upid) {
        return new TaskEntry(upid, "", 0, pstart, starttime, "", "", "", Optional.empty(), Optional.empty());
    }

    /** A set in listing order with, made on demand after a change, the same as a list for positional pages. */
    private static final class Ordered {
        private final TreeSet<TaskEntry> set = new TreeSet<>(ORDER);
        private List<TaskEntry> list;

        void add(TaskEntry entry) {
            set.add(entry);
            list = null;
        }

        /** Removes the entry with the same UPID, answering the one removed. */
        Optional<TaskEntry> remove(TaskEntry entry) {
            TaskEntry found = set.ceiling(entry);
            if (found == null || ORDER.compare(found, entry) != 0) {
                return Optional.empty();
            }
            set.remove(found);
            list = null;
            return Optional.of(found);
        }

        int size() {
            return set.size();
        }

        NavigableSet<TaskEntry> set() {
            return set;
        }

        List<TaskEntry> list() {
            if (list == null) {
                list = List.copyOf(set);
            }
            return list;
        }
    }
}
