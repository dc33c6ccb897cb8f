package org.corral.lxc;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Reads a container backup that is not a file on a storage (a snapshot in a datastore) as its plain tar stream, for
 * {@code pct restore}. The backup module provides it; the default knows none, so every backup is read as a file.
 */
@FunctionalInterface
public interface BackupStreams {
    BackupStreams NONE = volid -> Optional.empty();

    /**
     * The uncompressed tar stream of the backup {@code volid}, or empty when it is a file to read as such. Bad
     * volumes (not a container backup, missing, unreadable) throw with a message naming them.
     */
    Optional<InputStream> open(String volid) throws IOException;
}
