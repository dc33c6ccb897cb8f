package org.corral.core.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Proxmox's simple {@code key: value} files (datacenter.cfg and the main section of guest
 * configs). Order is kept, so a file written back differs only where values changed.
 */
public final class KeyValueConfig {
    private KeyValueConfig() {}

    /** Parses {@code text}; throws IllegalArgumentException naming the line that is not {@code key: value}. */
    public static Map<String, String> parse(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        int number = 0;
        for (String line : text.split("\n", -1)) {
            number++;
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            int colon = trimmed.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("line " + number + ": expected 'key: value', got '" + trimmed + "'");
            }
            values.put(trimmed.substring(0, colon).strip(), trimmed.substring(colon + 1).strip());
        }
        return values;
    }

    public static String write(Map<String, String> values) {
        StringBuilder out = new StringBuilder();
        values.forEach((k, v) -> out.append(k).append(": ").append(v).append('\n'));
        return out.toString();
    }
}
