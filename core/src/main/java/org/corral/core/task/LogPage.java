package org.corral.core.task;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** A slice of a task log and the log's line count, Proxmox's {@code total} extra field. */
public record LogPage(List<LogLine> lines, int total) {
    public LogPage {
        lines = List.copyOf(requireNonNull(lines, "lines is null"));
    }
}
