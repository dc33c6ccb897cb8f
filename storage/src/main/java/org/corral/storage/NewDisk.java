package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A disk to be allocated, written {@code STORAGE:SIZE} in a guest create or config call, the size in
 * GiB ({@code local-lvm:32}, {@code local:0.5}; {@code local:0} asks for a size-less container
 * directory). A bare {@code SIZE} leaves the storage to the caller's default.
 */
public record NewDisk(Optional<String> storage, BigDecimal sizeGiB) {
    private static final Pattern NEW_DISK = Pattern.compile("(?:([a-z][a-z0-9\\-_.]*[a-z0-9]):)?(\\d{1,9}(?:\\.\\d{1,9})?)");
    private static final BigDecimal KIB_PER_GIB = BigDecimal.valueOf(1024L * 1024);

    public NewDisk {
        requireNonNull(storage, "storage is null");
        requireNonNull(sizeGiB, "sizeGiB is null");
        if (sizeGiB.signum() < 0) {
            throw new IllegalArgumentException("disk size must not be negative");
        }
    }

    /** Whether {@code text} is new-disk syntax rather than an existing volume id. */
    public static boolean matches(String text) {
        return NEW_DISK.matcher(text).matches();
    }

    public static Optional<NewDisk> parse(String text) {
        Matcher m = NEW_DISK.matcher(requireNonNull(text, "text is null"));
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new NewDisk(Optional.ofNullable(m.group(1)), new BigDecimal(m.group(2))));
    }

    /** The size in bytes, rounded up to whole KiB as Proxmox allocates in KiB. */
    public long sizeBytes() {
        return sizeGiB.multiply(KIB_PER_GIB).setScale(0, java.math.RoundingMode.CEILING).longValueExact() * 1024;
    }
}
