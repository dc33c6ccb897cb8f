package org.corral.backup.datastore;

import java.util.Optional;

/**
 * A snapshot as listed: {@code complete} is false for a directory without a manifest, either still being written
 * ({@code inProgress}) or left by a killed writer (removed by the next garbage collection).
 */
public record SnapshotInfo(SnapshotId id, boolean complete, boolean inProgress, boolean isProtected,
        Optional<String> verifyState) {}
