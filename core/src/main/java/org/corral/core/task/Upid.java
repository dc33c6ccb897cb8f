package org.corral.core.task;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A worker task's unique id, written as Proxmox VE writes it:
 * {@code UPID:NODE:PID:PSTART:STARTTIME:TYPE:ID:USER@REALM:}, with PID, PSTART and STARTTIME as
 * zero-padded upper-case hex (PSTART may grow to nine digits, as in Proxmox). The id may be empty.
 *
 * <p>The string also names the task's log file, so the text fields may not hold {@code ':'},
 * whitespace, control characters or {@code '/'}.
 */
public record Upid(String node, long pid, long pstart, long startTime, String type, String id, String user) {
    private static final Pattern NODE_NAME = Pattern.compile("[a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?");
    private static final String PREFIX = "UPID:";
    private static final int FIELDS = 7;
    private static final long MAX_8_DIGITS = 0xFFFF_FFFFL;
    private static final long MAX_9_DIGITS = 0xF_FFFF_FFFFL;
    // the UPID is a file name under the task directory
    private static final int MAX_BYTES = 255;

    public Upid {
        requireNonNull(node, "node is null");
        requireNonNull(type, "type is null");
        requireNonNull(id, "id is null");
        requireNonNull(user, "user is null");
        checkNodeName(node);
        checkRange("pid", pid, MAX_8_DIGITS);
        checkRange("pstart", pstart, MAX_9_DIGITS);
        checkRange("start time", startTime, MAX_8_DIGITS);
        checkText("type", type, false);
        checkText("id", id, true);
        checkText("user", user, false);
        int bytes = format(node, pid, pstart, startTime, type, id, user).getBytes(UTF_8).length;
        if (bytes > MAX_BYTES) {
            throw new IllegalArgumentException("UPID is " + bytes + " bytes long, more than the " + MAX_BYTES
                    + " bytes a task log file name may have");
        }
    }

    /**
     * Parses a UPID as Proxmox's {@code upid_decode} accepts it (hex digits in either case).
     *
     * @throws IllegalArgumentException naming what is wrong with {@code text}
     */
    public static Upid parse(String text) {
        requireNonNull(text, "text is null");
        if (!text.startsWith(PREFIX)) {
            throw invalid(text, "does not start with '" + PREFIX + "'");
        }
        if (text.length() == PREFIX.length()) {
            throw invalid(text, "has nothing after '" + PREFIX + "'");
        }
        if (!text.endsWith(":")) {
            throw invalid(text, "does not end with ':'");
        }
        String[] fields = text.substring(PREFIX.length(), text.length() - 1).split(":", -1);
        if (fields.length != FIELDS) {
            throw invalid(text, "has " + fields.length + " fields instead of " + FIELDS
                    + " (NODE:PID:PSTART:STARTTIME:TYPE:ID:USER)");
        }
        try {
            return new Upid(
                    fields[0],
                    parseHex("pid", fields[1], 8, 8),
                    parseHex("pstart", fields[2], 8, 9),
                    parseHex("start time", fields[3], 8, 8),
                    fields[4],
                    fields[5],
                    fields[6]);
        } catch (IllegalArgumentException e) {
            throw invalid(text, e.getMessage());
        }
    }

    /** Checks a node name against Proxmox's {@code pve-node} rule, which a UPID repeats. */
    public static void checkNodeName(String node) {
        requireNonNull(node, "node is null");
        if (!NODE_NAME.matcher(node).matches()) {
            throw new IllegalArgumentException("node name '" + node
                    + "' must be letters, digits and inner '-', starting and ending with a letter or digit");
        }
    }

    /** The UPID string, {@code UPID:NODE:PID:PSTART:STARTTIME:TYPE:ID:USER:}. */
    public String format() {
        return format(node, pid, pstart, startTime, type, id, user);
    }

    @Override
    public String toString() {
        return format();
    }

    private static String format(String node, long pid, long pstart, long startTime, String type, String id, String user) {
        return String.format(Locale.ROOT, "UPID:%s:%08X:%08X:%08X:%s:%s:%s:", node, pid, pstart, startTime, type, id, user);
    }

    private static long parseHex(String name, String digits, int minLength, int maxLength) {
        if (digits.length() < minLength || digits.length() > maxLength) {
            String expected = minLength == maxLength ? minLength + "" : minLength + " or " + maxLength;
            throw new IllegalArgumentException(name + " '" + digits + "' must be " + expected + " hex digits");
        }
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                throw new IllegalArgumentException(name + " '" + digits + "' is not hexadecimal");
            }
        }
        return Long.parseLong(digits, 16);
    }

    private static void checkRange(String name, long value, long max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(name + " " + value + " is outside 0.." + max);
        }
    }

    private static void checkText(String name, String value, boolean mayBeEmpty) {
        if (value.isEmpty() && !mayBeEmpty) {
            throw new IllegalArgumentException(name + " is empty");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == ':' || c == '/' || Character.isWhitespace(c) || Character.isSpaceChar(c) || Character.isISOControl(c)) {
                throw new IllegalArgumentException(name + " '" + value
                        + "' may not contain ':', '/', whitespace or control characters");
            }
        }
    }

    private static IllegalArgumentException invalid(String text, String reason) {
        return new IllegalArgumentException("unable to parse worker upid '" + text + "': " + reason);
    }
}
