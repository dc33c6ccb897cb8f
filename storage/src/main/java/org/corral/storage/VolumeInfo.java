package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * One volume as a content listing shows it. {@code size} is the virtual size a guest sees,
 * {@code used} what it really occupies (less than {@code size} on thin-provisioned volumes).
 *
 * @param parent the base volume of a linked clone
 */
public record VolumeInfo(
        String volname,
        ContentType content,
        String format,
        long size,
        Optional<Long> used,
        Optional<Integer> vmid,
        Optional<Long> ctime,
        Optional<String> parent,
        Optional<String> notes,
        boolean isProtected) {
    public VolumeInfo {
        requireNonNull(volname, "volname is null");
        requireNonNull(content, "content is null");
        requireNonNull(format, "format is null");
        requireNonNull(used, "used is null");
        requireNonNull(vmid, "vmid is null");
        requireNonNull(ctime, "ctime is null");
        requireNonNull(parent, "parent is null");
        requireNonNull(notes, "notes is null");
    }
}
