package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * A volume id, {@code STORAGE:VOLNAME}: {@code local:100/vm-100-disk-0.qcow2}, {@code local:iso/x.iso},
 * {@code local-lvm:vm-100-disk-0}. Parsing refuses every volume name that could leave the storage
 * (see {@link VolumeNames#checkSafe}); what the name means is up to the storage type.
 */
public record VolumeId(String storage, String volname) {
    private static final Pattern STORAGE = Pattern.compile("[a-z][a-z0-9\\-_.]*[a-z0-9]");

    public VolumeId {
        requireNonNull(storage, "storage is null");
        requireNonNull(volname, "volname is null");
        if (!STORAGE.matcher(storage).matches()) {
            throw new IllegalArgumentException("storage ID '" + VolumeNames.printable(storage) + "' contains illegal characters");
        }
        VolumeNames.checkSafe(volname);
    }

    /** Parses {@code STORAGE:VOLNAME}; throws IllegalArgumentException saying what is wrong. */
    public static VolumeId parse(String text) {
        requireNonNull(text, "text is null");
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("unable to parse volume ID '" + VolumeNames.printable(text) + "'");
        }
        try {
            return new VolumeId(text.substring(0, colon), text.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unable to parse volume ID '" + VolumeNames.printable(text) + "' - " + e.getMessage(), e);
        }
    }

    /** Whether {@code text} looks like a volume id at all (has a storage part), without checking it. */
    public static boolean looksLikeVolumeId(String text) {
        int colon = text.indexOf(':');
        return colon > 0 && STORAGE.matcher(text.substring(0, colon)).matches();
    }

    @Override
    public String toString() {
        return storage + ":" + volname;
    }
}
