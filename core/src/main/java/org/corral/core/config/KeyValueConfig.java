package org.corral.core.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Proxmox's simple {@code key: value} files (datacenter.cfg and the main section of guest
 * configs). Order is kept, so a file written back differs only where values changed. The
 * {@code description} is kept as Proxmox keeps it: escaped {@code #} lines at the top.
 */
public final class KeyValueConfig {
    public static final String DESCRIPTION = "description";

    private KeyValueConfig() {}

    /** Parses {@code text}; throws IllegalArgumentException naming the line that is not {@code key: value}. */
    public static Map<String, String> parse(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        StringBuilder description = new StringBuilder();
        int number = 0;
        for (String line : text.split("\n", -1)) {
            number++;
            String trimmed = line.strip();
            if (trimmed.startsWith("#")) {
                description.append(ConfigWriter.decodeText(trimmed.substring(1))).append('\n');
                continue;
            }
            if (trimmed.isEmpty()) {
                continue;
            }
            int colon = trimmed.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("line " + number + ": expected 'key: value', got '" + trimmed + "'");
            }
            values.put(trimmed.substring(0, colon).strip(), trimmed.substring(colon + 1).strip());
        }
        if (!description.isEmpty()) {
            values.putIfAbsent(DESCRIPTION, description.toString().stripTrailing());
        }
        return values;
    }

    /** The file text; a key or value with a control character is a ParameterError naming the key. */
    public static String write(Map<String, String> values) {
        ConfigWriter out = new ConfigWriter();
        out.description(values.getOrDefault(DESCRIPTION, ""));
        values.forEach((k, v) -> {
            if (!k.equals(DESCRIPTION)) {
                out.keyValue(k, v);
            }
        });
        return out.text();
    }
}
