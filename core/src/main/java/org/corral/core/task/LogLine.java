package org.corral.core.task;

import static java.util.Objects.requireNonNull;

/** One task log line as Proxmox answers it: {@code n} counts from 1, {@code t} is the text. */
public record LogLine(int n, String t) {
    public LogLine {
        requireNonNull(t, "t is null");
    }
}
