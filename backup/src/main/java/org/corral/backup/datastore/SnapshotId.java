package org.corral.backup.datastore;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.regex.Pattern;

/** One snapshot: {@code <type>/<id>/<RFC 3339 UTC time>}, as Proxmox Backup Server names them ({@code vm/100/2026-12-03T12:00:00Z}). */
public record SnapshotId(String type, String id, Instant time) implements Comparable<SnapshotId> {
    public static final Set<String> TYPES = Set.of("vm", "ct", "host");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");

    public SnapshotId {
        requireNonNull(type, "type is null");
        requireNonNull(id, "id is null");
        requireNonNull(time, "time is null");
        if (!TYPES.contains(type)) {
            throw new IllegalArgumentException("backup type '" + type + "' is not one of vm, ct, host");
        }
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("backup id '" + id + "' is not valid");
        }
        time = time.truncatedTo(ChronoUnit.SECONDS);
    }

    /** Parses {@code type/id/time}. */
    public static SnapshotId parse(String path) {
        String[] parts = path.split("/");
        if (parts.length != 3) {
            throw new IllegalArgumentException("snapshot '" + path + "' is not <type>/<id>/<time>");
        }
        try {
            return new SnapshotId(parts[0], parts[1], Instant.parse(parts[2]));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("snapshot '" + path + "' has a bad time '" + parts[2] + "'", e);
        }
    }

    public String timeString() {
        return time.toString();
    }

    public String group() {
        return type + "/" + id;
    }

    Path dir(Path datastore) {
        return datastore.resolve(type).resolve(id).resolve(timeString());
    }

    @Override
    public int compareTo(SnapshotId other) {
        int c = type.compareTo(other.type);
        if (c == 0) {
            c = id.compareTo(other.id);
        }
        return c != 0 ? c : time.compareTo(other.time);
    }

    @Override
    public String toString() {
        return type + "/" + id + "/" + timeString();
    }
}
