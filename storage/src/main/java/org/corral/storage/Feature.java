package org.corral.storage;

/** Volume operations a storage may support, per volume format (Proxmox's {@code volume_has_feature}). */
public enum Feature {
    /** Snapshots of the volume (create, rollback, delete). */
    SNAPSHOT,
    /** Linked clones from a base volume or a snapshot. */
    CLONE,
    /** Turning a volume into a read-only base volume for linked clones. */
    TEMPLATE,
    /** Growing the volume. */
    RESIZE
}
