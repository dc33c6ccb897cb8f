package org.corral.lxc.config;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import org.corral.core.schema.PropertyFormat;
import org.corral.core.schema.PropertyString;

/** A property string checked against its format and kept as text, as Proxmox prints it back. */
final class PropertyValues {
    private PropertyValues() {}

    /** Parses and checks {@code text}; booleans become {@code 1}/{@code 0} as Proxmox normalizes them. */
    static Map<String, String> parse(PropertyFormat format, String text) {
        Map<String, Object> parsed = PropertyString.parse(format, text);
        Map<String, String> values = new LinkedHashMap<>();
        parsed.forEach((key, value) -> values.put(key, text(value)));
        return values;
    }

    static String format(PropertyFormat format, Map<String, String> values) {
        return PropertyString.format(format, values);
    }

    static String text(Object value) {
        if (value instanceof Boolean b) {
            return b ? "1" : "0";
        }
        if (value instanceof Double d) {
            BigDecimal decimal = BigDecimal.valueOf(d).stripTrailingZeros();
            return decimal.scale() < 0 ? decimal.setScale(0).toPlainString() : decimal.toPlainString();
        }
        return String.valueOf(value);
    }
}
