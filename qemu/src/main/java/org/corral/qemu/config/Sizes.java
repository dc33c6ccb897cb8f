package org.corral.qemu.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Disk sizes as Proxmox writes them: bytes, or a number with K, M, G or T (powers of 1024). */
public final class Sizes {
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)([KMGT])?");
    public static final long KIB = 1024;
    public static final long MIB = KIB * 1024;
    public static final long GIB = MIB * 1024;
    public static final long TIB = GIB * 1024;

    private Sizes() {}

    /** Bytes of {@code 32G}, {@code 512M}, {@code 1.5G} or {@code 1048576}. */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("unable to parse size '" + text + "'");
        }
        long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
            case "K" -> KIB;
            case "M" -> MIB;
            case "G" -> GIB;
            default -> TIB;
        };
        return new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)).setScale(0, RoundingMode.CEILING).longValueExact();
    }

    /** The shortest exact form, as Proxmox's {@code format_size}: {@code 34359738368} is {@code 32G}. */
    public static String format(long bytes) {
        if (bytes % KIB != 0) {
            return Long.toString(bytes);
        }
        long kb = bytes / KIB;
        if (kb % 1024 != 0) {
            return kb + "K";
        }
        long mb = kb / 1024;
        if (mb % 1024 != 0) {
            return mb + "M";
        }
        long gb = mb / 1024;
        if (gb % 1024 != 0) {
            return gb + "G";
        }
        return gb / 1024 + "T";
    }

    /**
     * A resize request: {@code +1G} grows by, {@code 40G} grows to. Answers the new size in bytes
     * given the current one.
     */
    public static long resizeTarget(String text, long current) {
        String value = text.strip().toUpperCase(Locale.ROOT);
        if (value.startsWith("+")) {
            return current + parse(value.substring(1));
        }
        return parse(value);
    }
}
