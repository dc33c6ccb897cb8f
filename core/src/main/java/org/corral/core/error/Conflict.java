package org.corral.core.error;

/** HTTP 409. */
public final class Conflict extends ApiException {
    public Conflict(String message) {
        super(409, message);
    }
}
