package org.corral.storage;

import org.corral.core.error.ApiException;

/** A storage operation failed on the host (a tool failed, the storage is offline); HTTP 500 with the reason. */
public class StorageException extends ApiException {
    public StorageException(String message) {
        super(500, message);
    }

    public StorageException(String message, Throwable cause) {
        super(500, message, cause);
    }
}
