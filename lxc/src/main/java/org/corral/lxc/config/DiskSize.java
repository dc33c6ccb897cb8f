package org.corral.lxc.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Proxmox's {@code disk-size} values: a number of bytes with an optional K, M, G or T suffix. */
public final class DiskSize {
    public static final String PATTERN = "\\d+(?:\\.\\d+)?[KMGT]?";
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)([KMGT])?");

    private DiskSize() {}

    /** Bytes of a size text, or empty when it is not one. */
    public static OptionalLong parse(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        BigDecimal value = new BigDecimal(m.group(1));
        int shift = m.group(2) == null ? 0 : switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            default -> 40;
        };
        try {
            return OptionalLong.of(value.multiply(BigDecimal.valueOf(1L << shift)).setScale(0, RoundingMode.DOWN).longValueExact());
        } catch (ArithmeticException e) {
            return OptionalLong.empty();
        }
    }

    /** Proxmox's {@code format_size}: the largest unit that divides the size exactly. */
    public static String format(long bytes) {
        long kb = bytes / 1024;
        if (kb * 1024 != bytes) {
            return Long.toString(bytes);
        }
        long mb = kb / 1024;
        if (mb * 1024 != kb) {
            return kb + "K";
        }
        long gb = mb / 1024;
        if (gb * 1024 != mb) {
            return mb + "M";
        }
        long tb = gb / 1024;
        if (tb * 1024 != gb) {
            return gb + "G";
        }
        return tb + "T";
    }
}
