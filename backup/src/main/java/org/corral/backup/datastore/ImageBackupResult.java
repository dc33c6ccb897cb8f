package org.corral.backup.datastore;

import java.time.Duration;

/**
 * What backing up one image did. {@code bytesRead} is what was read from the source; {@code chunksReused} were taken
 * from the previous snapshot's index without reading; {@code newChunks}/{@code bytesStored} is what landed on disk.
 * {@code fullReadReason} says why an incremental base could not be used (empty when it was, or none was given).
 */
public record ImageBackupResult(String archive, long size, int chunks, int chunksRead, int chunksReused, int zeroChunks,
        int newChunks, long bytesRead, long bytesStored, String csum, String fullReadReason, Duration duration) {}
