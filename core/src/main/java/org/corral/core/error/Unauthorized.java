package org.corral.core.error;

/** HTTP 401. */
public final class Unauthorized extends ApiException {
    public Unauthorized(String message) {
        super(401, message);
    }
}
