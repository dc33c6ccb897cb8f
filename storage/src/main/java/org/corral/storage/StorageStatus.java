package org.corral.storage;

/** Space of an active storage in bytes: {@code used} is what is really allocated, not the sum of volume sizes. */
public record StorageStatus(long total, long used, long avail) {
    public StorageStatus {
        if (total < 0 || used < 0 || avail < 0) {
            throw new IllegalArgumentException("negative space: total " + total + ", used " + used + ", avail " + avail);
        }
    }
}
