package org.corral.backup.datastore;

import java.time.Duration;

/** What restoring one image did: every chunk read was decoded and its digest checked; zero chunks were not read. */
public record RestoreResult(String archive, long size, int chunks, int zeroChunks, long bytesRead, Duration duration) {}
