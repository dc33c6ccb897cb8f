package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * A volume name parsed by its storage type (Proxmox's {@code parse_volname}): its content type, the
 * file or volume name, the owning VMID, the base volume of a linked clone, whether it is itself a
 * base volume, and its format where it has one.
 *
 * @param volname the part of the volume id after {@code storage:}
 */
public record Volume(
        String volname,
        ContentType content,
        String name,
        Optional<Integer> vmid,
        Optional<String> baseName,
        Optional<Integer> baseVmid,
        boolean isBase,
        Optional<VolumeFormat> format) {
    public Volume {
        requireNonNull(volname, "volname is null");
        requireNonNull(content, "content is null");
        requireNonNull(name, "name is null");
        requireNonNull(vmid, "vmid is null");
        requireNonNull(baseName, "baseName is null");
        requireNonNull(baseVmid, "baseVmid is null");
        requireNonNull(format, "format is null");
    }

    /** A guest image or container volume. */
    public static Volume image(String volname, String name, int vmid, VolumeFormat format, boolean isBase) {
        return new Volume(volname, ContentType.IMAGES, name, Optional.of(vmid), Optional.empty(), Optional.empty(), isBase,
                Optional.of(format));
    }

    /** A file that belongs to no guest in particular (ISO, template, snippet, import) or a backup of {@code vmid}. */
    public static Volume file(String volname, ContentType content, String name, Optional<Integer> vmid) {
        return new Volume(volname, content, name, vmid, Optional.empty(), Optional.empty(), false, Optional.empty());
    }

    /** The same volume as a linked clone of {@code baseName} owned by {@code baseVmid}. */
    public Volume withBase(String base, int owner) {
        return new Volume(volname, content, name, vmid, Optional.of(base), Optional.of(owner), isBase, format);
    }

    public boolean isImage() {
        return content == ContentType.IMAGES || content == ContentType.ROOTDIR;
    }

    public VolumeFormat requireFormat() {
        return format.orElseThrow(() -> new StorageException("volume '" + volname + "' is not a guest image"));
    }
}
