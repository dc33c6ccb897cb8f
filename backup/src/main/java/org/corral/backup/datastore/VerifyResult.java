package org.corral.backup.datastore;

import java.util.List;

/**
 * The outcome of verifying one snapshot. {@code badChunks} are digests (hex) that were missing or corrupt; they were
 * moved aside as {@code .bad} so the next backup holding their data stores them again. {@code keyless} says encrypted
 * chunks could only be checked by their CRC because no key was given.
 */
public record VerifyResult(SnapshotId snapshot, boolean ok, int chunksChecked, List<String> badChunks, List<String> errors,
        boolean keyless) {}
