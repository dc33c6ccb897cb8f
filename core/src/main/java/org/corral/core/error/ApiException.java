package org.corral.core.error;

import java.util.Map;

/** An error with an HTTP status that the API turns into a Proxmox-style answer. */
public class ApiException extends RuntimeException {
    private final int status;

    public ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    public ApiException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public int status() {
        return status;
    }

    /** Per-parameter errors for the {@code errors} field of the answer; empty for most errors. */
    public Map<String, String> errors() {
        return Map.of();
    }
}
