package org.corral.core.task;

import static java.util.Objects.requireNonNull;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.corral.core.error.ParameterError;

/**
 * The parameters of {@code GET /nodes/{node}/tasks}; an absent field takes Proxmox's default
 * ({@code start} 0, {@code limit} 50, {@code source} archive, {@code errors} off, no other filter).
 *
 * <p>As in Proxmox, {@code start} and {@code limit} page over the tasks that pass the other
 * filters, {@code userfilter} matches a case-insensitive part of the user, {@code vmid} the whole
 * task id, {@code since} and {@code until} bound the start time (inclusive), and {@code errors}
 * drops tasks that ended {@code OK} and overrides {@code statusfilter}.
 */
public record TaskFilter(
        Optional<Integer> start,
        Optional<Integer> limit,
        Optional<String> userfilter,
        Optional<String> typefilter,
        Optional<Integer> vmid,
        Optional<Boolean> errors,
        Optional<Source> source,
        Optional<Long> since,
        Optional<Long> until,
        Optional<Set<StatusType>> statusfilter) {
    public static final int DEFAULT_LIMIT = 50;

    public TaskFilter {
        requireNonNull(start, "start is null");
        requireNonNull(limit, "limit is null");
        requireNonNull(userfilter, "userfilter is null");
        requireNonNull(typefilter, "typefilter is null");
        requireNonNull(vmid, "vmid is null");
        requireNonNull(errors, "errors is null");
        requireNonNull(source, "source is null");
        requireNonNull(since, "since is null");
        requireNonNull(until, "until is null");
        requireNonNull(statusfilter, "statusfilter is null");
        start.filter(value -> value < 0).ifPresent(value -> {
            throw new ParameterError("start", "value must have a minimum value of 0");
        });
        limit.filter(value -> value < 0).ifPresent(value -> {
            throw new ParameterError("limit", "value must have a minimum value of 0");
        });
        statusfilter = statusfilter.map(Set::copyOf);
    }

    /** No filter: the newest 50 finished tasks. */
    public static TaskFilter defaults() {
        return new TaskFilter(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    public TaskFilter withStart(int value) {
        return new TaskFilter(Optional.of(value), limit, userfilter, typefilter, vmid, errors, source, since, until, statusfilter);
    }

    public TaskFilter withLimit(int value) {
        return new TaskFilter(start, Optional.of(value), userfilter, typefilter, vmid, errors, source, since, until, statusfilter);
    }

    public TaskFilter withUserfilter(String value) {
        return new TaskFilter(start, limit, Optional.of(value), typefilter, vmid, errors, source, since, until, statusfilter);
    }

    public TaskFilter withTypefilter(String value) {
        return new TaskFilter(start, limit, userfilter, Optional.of(value), vmid, errors, source, since, until, statusfilter);
    }

    public TaskFilter withVmid(int value) {
        return new TaskFilter(start, limit, userfilter, typefilter, Optional.of(value), errors, source, since, until, statusfilter);
    }

    public TaskFilter withErrors(boolean value) {
        return new TaskFilter(start, limit, userfilter, typefilter, vmid, Optional.of(value), source, since, until, statusfilter);
    }

    public TaskFilter withSource(Source value) {
        return new TaskFilter(start, limit, userfilter, typefilter, vmid, errors, Optional.of(value), since, until, statusfilter);
    }

    public TaskFilter withSince(long value) {
        return new TaskFilter(start, limit, userfilter, typefilter, vmid, errors, source, Optional.of(value), until, statusfilter);
    }

    public TaskFilter withUntil(long value) {
        return new TaskFilter(start, limit, userfilter, typefilter, vmid, errors, source, since, Optional.of(value), statusfilter);
    }

    public TaskFilter withStatusfilter(Set<StatusType> value) {
        return new TaskFilter(start, limit, userfilter, typefilter, vmid, errors, source, since, until, Optional.of(value));
    }

    int startOrDefault() {
        return start.orElse(0);
    }

    int limitOrDefault() {
        return limit.orElse(DEFAULT_LIMIT);
    }

    Source sourceOrDefault() {
        return source.orElse(Source.ARCHIVE);
    }

    /** Whether a task passes every filter but paging. */
    boolean matches(TaskEntry task) {
        if (userfilter.isPresent() && !task.user().toLowerCase(Locale.ROOT).contains(userfilter.get().toLowerCase(Locale.ROOT))) {
            return false;
        }
        if (typefilter.isPresent() && !typefilter.get().isEmpty() && !task.type().equals(typefilter.get())) {
            return false;
        }
        // Proxmox ignores vmid 0 ("no filter")
        if (vmid.isPresent() && vmid.get() != 0 && !task.id().equals(vmid.get().toString())) {
            return false;
        }
        if (since.isPresent() && task.starttime() < since.get()) {
            return false;
        }
        if (until.isPresent() && task.starttime() > until.get()) {
            return false;
        }
        return acceptedStatusTypes().contains(StatusType.of(task.status()));
    }

    /** Whether the status filters ({@code errors}, {@code statusfilter}) leave out any task. */
    boolean filtersStatus() {
        return acceptedStatusTypes().size() < StatusType.values().length;
    }

    /** Whether tasks whose exit status is of class {@code type} pass the status filters. */
    boolean matchesStatus(StatusType type) {
        return acceptedStatusTypes().contains(type);
    }

    private Set<StatusType> acceptedStatusTypes() {
        if (errors.orElse(false)) {
            return EnumSet.complementOf(EnumSet.of(StatusType.OK));
        }
        return statusfilter.orElse(EnumSet.allOf(StatusType.class));
    }

    /** Which tasks to list: finished ones ({@code archive}), running ones ({@code active}) or both. */
    public enum Source {
        ARCHIVE,
        ACTIVE,
        ALL;

        public static Source parse(String value) {
            requireNonNull(value, "value is null");
            for (Source source : values()) {
                if (source.value().equals(value)) {
                    return source;
                }
            }
            throw new ParameterError("source", "value '" + value + "' does not have a value in the enumeration 'archive, active, all'");
        }

        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }

        boolean includesRunning() {
            return this != ARCHIVE;
        }

        boolean includesFinished() {
            return this != ACTIVE;
        }
    }

    /** Proxmox's classes of exit status ({@code upid_normalize_status_type}), for {@code statusfilter}. */
    public enum StatusType {
        OK,
        WARNING,
        ERROR,
        UNKNOWN;

        private static final Pattern WARNINGS = Pattern.compile("WARNINGS: \\d+");
        private static final Pattern LIST_SEPARATOR = Pattern.compile("[;,\\s]+");

        /** The class of an exit status; a running task (no status) is {@code unknown}. */
        public static StatusType of(Optional<String> exitStatus) {
            requireNonNull(exitStatus, "exitStatus is null");
            if (exitStatus.isEmpty() || exitStatus.get().isEmpty() || exitStatus.get().equals(TaskManager.UNEXPECTED)) {
                return UNKNOWN;
            }
            if (exitStatus.get().equals(TaskManager.OK)) {
                return OK;
            }
            return WARNINGS.matcher(exitStatus.get()).matches() ? WARNING : ERROR;
        }

        /** Parses Proxmox's {@code pve-task-status-type-list}, such as {@code ok,warning}; case does not matter. */
        public static Set<StatusType> parseList(String text) {
            requireNonNull(text, "text is null");
            Set<StatusType> types = EnumSet.noneOf(StatusType.class);
            for (String item : LIST_SEPARATOR.split(text.strip())) {
                if (item.isEmpty()) {
                    continue;
                }
                types.add(parse(item));
            }
            return types;
        }

        public static StatusType parse(String value) {
            requireNonNull(value, "value is null");
            for (StatusType type : values()) {
                if (type.value().equalsIgnoreCase(value)) {
                    return type;
                }
            }
            throw new ParameterError("statusfilter", "invalid status type '" + value + "', expected ok, warning, error or unknown");
        }

        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
