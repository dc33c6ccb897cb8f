package org.corral.qemu.config;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.config.ConfigWriter;

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
                description.append(ConfigWriter.decodeText(line.substring(1))).append('\n');
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
                description.append(ConfigWriter.decodeText(value));
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

    /** The file text; a key or value that would break its line is a ParameterError naming the key. */
    public static String write(VmConfig config) {
        ConfigWriter out = new ConfigWriter();
        section(out, config.options(), false);
        if (!config.pending().isEmpty()) {
            out.blank().section("pending", "PENDING");
            section(out, config.pending(), true);
        }
        config.snapshots().forEach((name, values) -> {
            out.blank().section("snapname", name);
            section(out, values, false);
        });
        return out.text();
    }

    private static void section(ConfigWriter out, Map<String, String> values, boolean pending) {
        String description = values.get(VmConfig.DESCRIPTION);
        if (description != null) {
            if (!description.isEmpty()) {
                out.description(description);
            } else if (pending) {
                out.comment(VmConfig.DESCRIPTION, "");
            }
        }
        values.forEach((key, value) -> {
            if (!key.equals(VmConfig.DESCRIPTION)) {
                out.keyValue(key, value);
            }
        });
    }
}
