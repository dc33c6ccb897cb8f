package org.corral.storage;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Size strings of the storage API: {@code 1024} (KiB), {@code 512M}, {@code 32G}, {@code 1T}. */
public final class Sizes {
    public static final long KIB = 1024;
    public static final long MIB = 1024 * KIB;
    public static final long GIB = 1024 * MIB;
    public static final long TIB = 1024 * GIB;
    private static final Pattern SIZE = Pattern.compile("(\\d{1,15})([KMGT]?)");

    private Sizes() {}

    /** Parses Proxmox's alloc {@code size}: a bare number is KiB. Throws IllegalArgumentException. */
    public static long parseKiBDefault(String text) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("unable to parse size '" + VolumeNames.printable(text) + "'");
        }
        long number = Long.parseLong(m.group(1));
        long unit = switch (m.group(2)) {
            case "", "K" -> KIB;
            case "M" -> MIB;
            case "G" -> GIB;
            default -> TIB;
        };
        try {
            return Math.multiplyExact(number, unit);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("size '" + text + "' is too large", e);
        }
    }

    /** Bytes rounded up to whole KiB: image tools work in KiB. */
    public static long roundUpToKiB(long bytes) {
        return (bytes + KIB - 1) / KIB * KIB;
    }
}
