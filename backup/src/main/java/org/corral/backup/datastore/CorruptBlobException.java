package org.corral.backup.datastore;

/** A stored blob or chunk that cannot be read back as it was written. */
public final class CorruptBlobException extends Exception {
    public CorruptBlobException(String message) {
        super(message);
    }
}
