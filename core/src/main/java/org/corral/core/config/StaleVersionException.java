package org.corral.core.config;

import org.corral.core.error.Conflict;

/** A compare-and-set write found the file at another version (or existing, or missing). */
public final class StaleVersionException extends RuntimeException {
    public StaleVersionException(String path) {
        super(Digest.MODIFIED + " (" + path + ")");
    }

    public Conflict asConflict() {
        return new Conflict(Digest.MODIFIED);
    }
}
