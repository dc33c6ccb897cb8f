package org.corral.backup.datastore;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What a garbage collection did. {@code missingChunks} are referenced by a complete snapshot but not on disk (verify
 * will flag those snapshots); {@code cutoff} is the stamp below which unreferenced chunks were removed.
 */
public record GcResult(int snapshotsMarked, int partialSnapshotsRemoved, long chunksMarked, List<String> missingChunks,
        long chunksRemoved, long bytesRemoved, long chunksKept, long bytesKept, Instant cutoff, Duration duration) {}
