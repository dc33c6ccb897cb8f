package org.corral.qemu.disk;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What the qemu module needs from the storage layer: allocate, free, find and change guest
 * volumes by Proxmox volume id ({@code local:100/vm-100-disk-0.qcow2}). Failures are
 * {@link org.corral.core.error.ApiException}s whose message names the volume or storage.
 */
public interface Volumes {
    /** Volume operations a storage may support for a volume's format. */
    enum Feature { SNAPSHOT, CLONE, TEMPLATE, RESIZE }

    /** Refuses a storage that does not exist, is disabled or holds no guest images here. */
    void checkStorage(String storage);

    /** Allocates {@code sizeBytes} for {@code vmid}; the format defaults to the storage's. Answers the volume id. */
    String alloc(String storage, int vmid, Optional<String> format, Optional<String> name, long sizeBytes);

    void free(String volid);

    /** The file (or device) QEMU opens for the volume, or for one of its snapshots. */
    Path path(String volid);

    /** The image format: {@code qcow2}, {@code raw}, {@code vmdk}; ISOs are {@code raw}. */
    String format(String volid);

    /** The virtual size in bytes. */
    long size(String volid);

    /** The VMID owning a guest volume; empty for ISOs and other shared content. */
    Optional<Integer> owner(String volid);

    /** Whether the volume is an ISO image (cdrom content). */
    boolean isIso(String volid);

    /** The volume's content type as Proxmox names it ({@code images}, {@code iso}, {@code import}, ...). */
    String content(String volid);

    /** Guest volumes of {@code vmid} on every storage that holds images here. */
    List<String> listImages(int vmid);

    /** Grows a stopped VM's volume. */
    void resize(String volid, long sizeBytes);

    boolean hasFeature(String volid, Feature feature);

    void snapshot(String volid, String snapshot);

    void rollback(String volid, String snapshot);

    void deleteSnapshot(String volid, String snapshot);

    /** Makes the volume a read-only base ({@code base-VMID-disk-N}); answers the base volume's id. */
    String createBase(String volid);

    /** A linked clone of a base volume for {@code vmid}; answers its id. */
    String linkedClone(String volid, int vmid);
}
