package org.corral.core.error;

/** HTTP 403. */
public final class PermissionDenied extends ApiException {
    public PermissionDenied(String message) {
        super(403, message);
    }
}
