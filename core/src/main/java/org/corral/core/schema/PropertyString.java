package org.corral.core.schema;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/** Parses and writes Proxmox property strings against a {@link PropertyFormat}. */
public final class PropertyString {
    private PropertyString() {}

    /**
     * Splits {@code text} into keys and checks each against the format. Throws
     * {@link IllegalArgumentException} whose message names the bad key.
     */
    public static Map<String, Object> parse(PropertyFormat format, String text) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Entry entry : entries(format, text)) {
            try {
                values.put(entry.key(), Validator.convert(entry.schema(), entry.value()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(entry.givenKey() + ": " + e.getMessage(), e);
            }
        }
        checkRequired(format, values);
        return values;
    }

    /** One {@code key=value} of a property string: the key after aliases, the key as written, its schema, the raw value. */
    public record Entry(String key, String givenKey, Schema schema, String value) {}

    /**
     * Splits {@code text} into its entries, resolving the bare default key and aliases and refusing
     * unknown and duplicate keys; values are not converted (callers that keep text use this).
     */
    public static java.util.List<Entry> entries(PropertyFormat format, String text) {
        java.util.List<Entry> entries = new java.util.ArrayList<>();
        if (text.isEmpty()) {
            return entries;
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        boolean first = true;
        for (String part : splitUnquoted(text)) {
            int eq = part.indexOf('=');
            String key;
            String value;
            if (eq < 0) {
                if (!first || format.defaultKey().isEmpty()) {
                    throw new IllegalArgumentException("value without key, but schema does not define a default key ('" + part + "')");
                }
                key = format.defaultKey().get();
                value = part;
            } else {
                key = part.substring(0, eq);
                value = part.substring(eq + 1);
            }
            first = false;
            if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                value = value.substring(1, value.length() - 1);
            }
            String target = format.aliasTarget(key).orElse(key);
            Schema schema = format.keys().get(target);
            if (schema == null) {
                throw new IllegalArgumentException("invalid key '" + key + "'");
            }
            if (!seen.add(target)) {
                throw new IllegalArgumentException("duplicate key '" + key + "'");
            }
            entries.add(new Entry(target, key, schema, value));
        }
        return entries;
    }

    /** Refuses values that lack a key the format requires. */
    public static void checkRequired(PropertyFormat format, Map<String, ?> values) {
        format.keys().forEach((name, schema) -> {
            if (!schema.isOptional() && !values.containsKey(name)) {
                throw new IllegalArgumentException(name + ": property is missing and it is not optional");
            }
        });
    }


    /** Writes values in the format's key order, the default key bare in first place. */
    public static String format(PropertyFormat format, Map<String, ?> values) {
        StringJoiner out = new StringJoiner(",");
        format.keys().keySet().forEach(key -> {
            Object value = values.get(key);
            if (value == null) {
                return;
            }
            String text = value instanceof Boolean b ? (b ? "1" : "0") : String.valueOf(value);
            if (text.contains(",") || text.contains("=")) {
                text = "\"" + text + "\"";
            }
            out.add(key.equals(format.defaultKey().orElse(null)) && out.length() == 0 ? text : key + "=" + text);
        });
        values.keySet().stream().filter(k -> !format.keys().containsKey(k)).forEach(k -> {
            throw new IllegalArgumentException("invalid key '" + k + "'");
        });
        return out.toString();
    }

    private static java.util.List<String> splitUnquoted(String text) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("unterminated quote");
        }
        parts.add(current.toString());
        return parts;
    }
}
