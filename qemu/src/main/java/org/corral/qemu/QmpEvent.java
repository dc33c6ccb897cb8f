package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import tools.jackson.databind.JsonNode;

/** An asynchronous QMP event ({@code SHUTDOWN}, {@code STOP}, {@code BLOCK_JOB_READY}, ...) with its data. */
public record QmpEvent(String name, JsonNode data, long seconds, long microseconds) {
    public QmpEvent {
        requireNonNull(name, "name is null");
        requireNonNull(data, "data is null");
    }
}
