package org.corral.core.task;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** A page of the task list, newest first, and how many tasks matched the filter in all (Proxmox's {@code total}). */
public record TaskPage(List<TaskEntry> tasks, int total) {
    public TaskPage {
        tasks = List.copyOf(requireNonNull(tasks, "tasks is null"));
    }
}
