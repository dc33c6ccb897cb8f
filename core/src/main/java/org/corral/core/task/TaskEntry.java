package org.corral.core.task;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Optional;

/**
 * One row of {@code GET /nodes/{node}/tasks}: the decoded UPID plus, once the task ended, its exit
 * {@code status} and {@code endtime}; both are absent while it runs.
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record TaskEntry(
        String upid,
        String node,
        long pid,
        long pstart,
        long starttime,
        String type,
        String id,
        String user,
        Optional<String> status,
        Optional<Long> endtime) {
    public TaskEntry {
        requireNonNull(upid, "upid is null");
        requireNonNull(node, "node is null");
        requireNonNull(type, "type is null");
        requireNonNull(id, "id is null");
        requireNonNull(user, "user is null");
        requireNonNull(status, "status is null");
        requireNonNull(endtime, "endtime is null");
    }

    static TaskEntry of(Upid upid, Optional<String> status, Optional<Long> endTime) {
        return new TaskEntry(upid.format(), upid.node(), upid.pid(), upid.pstart(), upid.startTime(),
                upid.type(), upid.id(), upid.user(), status, endTime);
    }
}
