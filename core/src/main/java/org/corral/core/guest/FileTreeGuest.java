package org.corral.core.guest;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A guest whose volumes are directory trees on the host (containers): a backup archives the
 * trees, after a storage snapshot of them where the storage can take one.
 */
public interface FileTreeGuest extends GuestDriver {
    /**
     * One volume a backup includes: its config key ({@code rootfs}, {@code mp0}), where the guest
     * mounts it, and the host directory that holds its files (a snapshot's, when asked for one).
     */
    record TreeVolume(String key, String guestPath, Path hostPath) {}

    /**
     * The volumes a backup includes, root first, read from {@code snapshot} when given; mount
     * points that a backup can't include throw IllegalStateException naming them.
     */
    List<TreeVolume> backupVolumes(int vmid, Optional<String> snapshot);

    /** Whether every volume {@link #backupVolumes} answers can be snapshotted. */
    boolean canSnapshot(int vmid);

    /** Takes a storage snapshot {@code name} of every backed-up volume (undone on failure). */
    void snapshot(int vmid, String name);

    /** Removes the storage snapshots {@link #snapshot} took. */
    void deleteSnapshot(int vmid, String name);

    /**
     * The host id that the guest's root user (uid and gid 0) has: 0 for a privileged container,
     * the id map's base for an unprivileged one. An archive stores the guest's own ids.
     */
    long rootId(int vmid);
}
