package org.corral.lxc;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What containers need from the storage layer: directory volumes ({@code subvol-VMID-disk-N})
 * allocated, located, snapshotted, cloned, resized and freed, and the template or backup
 * archives that containers are created from. Errors are thrown as the storage layer's API
 * exceptions (400 for bad input) with their messages intact.
 */
public interface ContainerStorage {
    /** Allocates a container directory of {@code sizeBytes} (0: no limit) on {@code storage}; answers its volume id. */
    String allocate(String storage, int vmid, long sizeBytes);

    /** The host directory of a container volume, or of its snapshot. */
    Path path(String volid, Optional<String> snapshot);

    default Path path(String volid) {
        return path(volid, Optional.empty());
    }

    void free(String volid);

    /** Whether {@code storage} exists and may hold container root directories (content {@code rootdir}). */
    void checkRootdir(String storage);

    /** Whether the volume's storage can snapshot it (btrfs yes, plain dir no). */
    boolean canSnapshot(String volid);

    void snapshot(String volid, String name);

    void rollback(String volid, String name);

    void deleteSnapshot(String volid, String name);

    /** Whether linked clones can be made of the volume (as a base volume). */
    boolean canLinkedClone(String volid);

    /** Whether the volume can become a template's base volume. */
    boolean canTemplate(String volid);

    /** Turns a volume into a read-only base for linked clones; answers the base volume's id. */
    String createBase(String volid);

    /** A linked clone of a base volume for {@code vmid}; answers the clone's id. */
    String linkedClone(String baseVolid, int vmid, Optional<String> snapshot);

    /** Grows the volume's size limit. */
    void resize(String volid, long sizeBytes);

    /** Bytes the volume uses, where the storage knows. */
    OptionalLong used(String volid);

    /** The volume's size as its storage reports it (a subvolume's quota; 0 when it has none). */
    long size(String volid);

    /** The VMID that owns a volume, from its name. */
    Optional<Integer> owner(String volid);

    /** The storage id of a volume id. */
    default String storageOf(String volid) {
        int colon = volid.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("unable to parse volume ID '" + volid + "'");
        }
        return volid.substring(0, colon);
    }

    /** The file of a {@code vztmpl} or {@code backup} volume ({@code local:vztmpl/debian.tar.zst}). */
    Path archive(String volid);

    /** Where {@code vztmpl} files of {@code storage} live (its template cache). */
    Path templateDirectory(String storage);

    /** Every guest volume of {@code vmid} on every storage, for destroy-unreferenced-disks. */
    List<String> volumesOf(int vmid);
}
