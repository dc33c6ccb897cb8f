package org.corral.qemu.config;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes {@code qemu-server/<vmid>.conf} the way qemu-server does: description as
 * leading {@code #} lines (URI-escaped), sorted {@code key: value} lines, a {@code [PENDING]}
 * section and one {@code [snapname]} section per snapshot, sorted by name.
 */
public final class VmConfigCodec {
    private static final Pattern PENDING = Pattern.compile("\\[PENDING]\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern SPECIAL = Pattern.compile("\\[special:[a-z]+]\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern SNAPSHOT = Pattern.compile("\\[([a-zA-Z][a-zA-Z0-9_\\-]+)]\\s*");
    private static final Pattern OPTION = Pattern.compile("([a-z][a-z_\\-]*\\d*):\\s*(.*?)\\s*");
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

    private VmConfigCodec() {}

    /** Parses a config; lines that are not {@code key: value} are refused with their number. */
    public static VmConfig parse(String text) {
        TreeMap<String, String> main = new TreeMap<>();
        TreeMap<String, String> pending = new TreeMap<>();
        TreeMap<String, SortedMap<String, String>> snapshots = new TreeMap<>();
        TreeMap<String, String> section = main;
        StringBuilder description = null;
        boolean skip = false;
        int number = 0;
        for (String line : text.split("\n", -1)) {
            number++;
            if (line.isBlank()) {
                continue;
            }
            if (PENDING.matcher(line).matches()) {
                finish(section, description);
                description = null;
                section = pending;
                skip = false;
                continue;
            }
            if (SPECIAL.matcher(line).matches()) {
                // Proxmox's [special:cloudinit] holds what the last cloud-init drive was built from
                finish(section, description);
                description = null;
                skip = true;
                continue;
            }
            Matcher snap = SNAPSHOT.matcher(line);
            if (snap.matches()) {
                finish(section, description);
                description = null;
                section = new TreeMap<>();
                snapshots.put(snap.group(1), section);
                skip = false;
                continue;
            }
            if (skip) {
                continue;
            }
            if (line.startsWith("#")) {
                description = description == null ? new StringBuilder() : description;
                description.append(decodeText(line.substring(1))).append('\n');
                continue;
            }
            Matcher option = OPTION.matcher(line);
            if (!option.matches()) {
                throw new IllegalArgumentException("line " + number + ": unable to parse config line '" + line + "'");
            }
            String key = option.group(1);
            String value = option.group(2);
            if (key.equals(VmConfig.DESCRIPTION)) {
                description = description == null ? new StringBuilder() : description;
                description.append(decodeText(value));
                continue;
            }
            if (key.equals("cdrom")) {
                key = "ide2";
            }
            section.put(key, value);
        }
        finish(section, description);
        return new VmConfig(main, pending, snapshots);
    }

    private static void finish(Map<String, String> section, StringBuilder description) {
        if (description != null) {
            section.put(VmConfig.DESCRIPTION, description.toString().stripTrailing());
        }
    }

    public static String write(VmConfig config) {
        StringBuilder out = new StringBuilder();
        section(out, config.options(), false);
        if (!config.pending().isEmpty()) {
            out.append("\n[PENDING]\n");
            section(out, config.pending(), true);
        }
        config.snapshots().forEach((name, values) -> {
            out.append("\n[").append(name).append("]\n");
            section(out, values, false);
        });
        return out.toString();
    }

    private static void section(StringBuilder out, Map<String, String> values, boolean pending) {
        String description = values.get(VmConfig.DESCRIPTION);
        if (description != null) {
            if (!description.isEmpty()) {
                for (String line : description.split("\n")) {
                    out.append('#').append(encodeText(line)).append('\n');
                }
            } else if (pending) {
                out.append("#\n");
            }
        }
        values.forEach((key, value) -> {
            if (!key.equals(VmConfig.DESCRIPTION)) {
                out.append(key).append(": ").append(value).append('\n');
            }
        });
    }

    /** Proxmox's encode_text: control characters, ':' and non-ASCII bytes (UTF-8) as %XX. */
    public static String encodeText(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
        for (byte b : bytes) {
            int c = b & 0xff;
            boolean safe = c >= 0x20 && c <= 0x39 || c >= 0x3b && c <= 0x7e;
            if (safe) {
                out.write(c);
            } else {
                out.write('%');
                out.write(HEX[c >> 4]);
                out.write(HEX[c & 0xf]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Proxmox's decode_text: %XX escapes back to bytes, read as UTF-8. */
    public static String decodeText(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '%' && i + 2 < bytes.length && hex(bytes[i + 1]) >= 0 && hex(bytes[i + 2]) >= 0) {
                out.write(hex(bytes[i + 1]) << 4 | hex(bytes[i + 2]));
                i += 2;
            } else {
                out.write(bytes[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int hex(byte b) {
        return Character.digit(b, 16);
    }
}
