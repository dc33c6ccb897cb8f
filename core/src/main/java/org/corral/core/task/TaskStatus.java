package org.corral.core.task;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Optional;

/**
 * The answer of {@code GET /nodes/{node}/tasks/{upid}/status}: the decoded UPID, {@code status}
 * {@code running} or {@code stopped}, and for a stopped task its {@code exitstatus} and {@code endtime}.
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record TaskStatus(
        String upid,
        String node,
        long pid,
        long pstart,
        long starttime,
        String type,
        String id,
        String user,
        String status,
        Optional<String> exitstatus,
        Optional<Long> endtime) {
    public static final String RUNNING = "running";
    public static final String STOPPED = "stopped";

    public TaskStatus {
        requireNonNull(upid, "upid is null");
        requireNonNull(node, "node is null");
        requireNonNull(type, "type is null");
        requireNonNull(id, "id is null");
        requireNonNull(user, "user is null");
        requireNonNull(status, "status is null");
        requireNonNull(exitstatus, "exitstatus is null");
        requireNonNull(endtime, "endtime is null");
        if (!status.equals(RUNNING) && !status.equals(STOPPED)) {
            throw new IllegalArgumentException("status must be running or stopped: " + status);
        }
    }

    static TaskStatus of(Upid upid, Optional<String> exitStatus, Optional<Long> endTime) {
        return new TaskStatus(upid.format(), upid.node(), upid.pid(), upid.pstart(), upid.startTime(),
                upid.type(), upid.id(), upid.user(), exitStatus.isPresent() ? STOPPED : RUNNING, exitStatus, endTime);
    }
}
