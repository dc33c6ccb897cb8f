package org.corral.cluster;

/** The config store could not do an operation: ZooKeeper unreachable, no quorum, timeout, interrupt. */
public final class ConfigStoreException extends RuntimeException {
    public ConfigStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
