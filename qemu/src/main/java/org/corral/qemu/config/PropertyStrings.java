package org.corral.qemu.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeSet;
import org.corral.core.schema.PropertyFormat;
import org.corral.core.schema.PropertyString;
import org.corral.core.schema.Schema;
import org.corral.core.schema.Validator;

/**
 * Proxmox property strings as qemu-server reads and writes them: values are checked against the
 * format and kept as text (booleans as {@code 1}/{@code 0}, disk sizes as {@code 32G}); written
 * with the default key bare in front, then the required keys, then the rest, each group sorted.
 */
public final class PropertyStrings {
    /** Schema typeText marking a key whose value is a disk size ({@code 32G}). */
    static final String DISK_SIZE = "<DiskSize>";

    private PropertyStrings() {}

    /**
     * Parses {@code text}; throws IllegalArgumentException whose message names the bad key. Aliases
     * map to their key; the caller handles Proxmox's model=MAC form for NICs.
     */
    public static Map<String, String> parse(PropertyFormat format, String text) {
        Map<String, String> values = new LinkedHashMap<>();
        for (PropertyString.Entry entry : PropertyString.entries(format, text)) {
            values.put(entry.key(), normalize(entry.givenKey(), entry.schema(), entry.value()));
        }
        PropertyString.checkRequired(format, values);
        return values;
    }

    private static String normalize(String key, Schema schema, String value) {
        if (DISK_SIZE.equals(schema.typeText())) {
            try {
                return Sizes.format(Sizes.parse(value));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
            }
        }
        Object converted;
        try {
            converted = Validator.convert(schema, value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
        if (converted instanceof Boolean b) {
            return b ? "1" : "0";
        }
        return converted instanceof Long l ? Long.toString(l) : value;
    }


    /** Writes {@code values} in Proxmox's order. A value holding a comma can't be written and is refused. */
    public static String print(PropertyFormat format, Map<String, String> values) {
        return print(format, values, Optional.empty());
    }

    /**
     * As {@link #print(PropertyFormat, Map)}, with {@code leading} written first in place of the
     * default key (a NIC's {@code virtio=BC:24:11:..}).
     */
    public static String print(PropertyFormat format, Map<String, String> values, Optional<String> leading) {
        StringJoiner out = new StringJoiner(",");
        Set<String> done = new TreeSet<>();
        Optional<String> defaultKey = format.defaultKey();
        if (leading.isPresent()) {
            out.add(leading.get());
            defaultKey.ifPresent(done::add);
        } else if (defaultKey.isPresent() && values.get(defaultKey.get()) != null) {
            out.add(checked(defaultKey.get(), values.get(defaultKey.get())));
            done.add(defaultKey.get());
        }
        List<String> sorted = new ArrayList<>(new TreeSet<>(values.keySet()));
        for (String key : sorted) {
            Schema schema = format.keys().get(key);
            if (schema == null) {
                throw new IllegalArgumentException("invalid key '" + key + "'");
            }
            if (!schema.isOptional() && done.add(key) && values.get(key) != null) {
                out.add(key + "=" + checked(key, values.get(key)));
            }
        }
        for (String key : sorted) {
            if (done.add(key) && values.get(key) != null) {
                out.add(key + "=" + checked(key, values.get(key)));
            }
        }
        return out.toString();
    }

    private static String checked(String key, String value) {
        if (value.indexOf(',') >= 0) {
            throw new IllegalArgumentException("illegal value with commas for " + key);
        }
        return value;
    }
}
