package org.corral.core.schema;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.corral.core.config.ConfigWriter;
import org.corral.core.error.ParameterError;

/**
 * Checks raw request parameters (strings, as they arrive in a query or form) against declared
 * schemas, converts them to Java values, and collects every problem with Proxmox's wording.
 */
public final class Validator {
    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

    private Validator() {}

    /**
     * Validates all parameters. Unknown names are refused. Returns the converted values
     * ({@link String}, {@link Long}, {@link Double}, {@link Boolean}) in declaration order.
     */
    public static Map<String, Object> validate(Map<String, Schema> declared, Map<String, String> raw) {
        Map<String, String> errors = new LinkedHashMap<>();
        Map<String, Object> values = new LinkedHashMap<>();
        for (String name : raw.keySet()) {
            if (!declared.containsKey(name)) {
                errors.put(name, "property is not defined in schema and the schema does not allow additional properties");
            }
        }
        declared.forEach((name, schema) -> {
            String value = raw.get(name);
            if (value == null) {
                if (!schema.isOptional()) {
                    errors.put(name, "property is missing and it is not optional");
                }
                return;
            }
            try {
                values.put(name, convert(schema, value));
            } catch (IllegalArgumentException e) {
                errors.put(name, e.getMessage());
            }
        });
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        return values;
    }

    /** Converts and checks one value; the exception message is the parameter's error text. */
    public static Object convert(Schema schema, String value) {
        return switch (schema.type()) {
            case STRING -> checkString(schema, value);
            case INTEGER -> {
                if (!INTEGER.matcher(value).matches()) {
                    throw new IllegalArgumentException("type check ('integer') failed - got '" + shorten(value) + "'");
                }
                long number;
                try {
                    number = Long.parseLong(value.startsWith("+") ? value.substring(1) : value);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("type check ('integer') failed - got '" + shorten(value) + "'");
                }
                checkRange(schema, number);
                checkFormat(schema, Long.toString(number));
                yield number;
            }
            case NUMBER -> {
                if (!NUMBER.matcher(value).matches()) {
                    throw new IllegalArgumentException("type check ('number') failed - got '" + shorten(value) + "'");
                }
                double number = Double.parseDouble(value);
                checkRange(schema, number);
                yield number;
            }
            case BOOLEAN -> parseBoolean(value).orElseThrow(() ->
                    new IllegalArgumentException("type check ('boolean') failed - got '" + shorten(value) + "'"));
            case OBJECT, ARRAY, NULL, ANY -> throw new IllegalArgumentException(
                    "type check ('" + schema.type().jsonName() + "') failed - parameters of this type are not supported");
        };
    }

    public static Optional<Boolean> parseBoolean(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "1", "true", "yes", "on" -> Optional.of(true);
            case "0", "false", "no", "off" -> Optional.of(false);
            default -> Optional.empty();
        };
    }

    private static String checkString(Schema schema, String value) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("value contains a NUL character");
        }
        // a line break in a one-line value is how config injection starts; refuse it at the door
        if (!schema.isMultiLine() && ConfigWriter.hasControl(value, true)) {
            throw new IllegalArgumentException(ConfigWriter.CONTROL_CHARACTERS);
        }
        schema.maxLength().ifPresent(max -> {
            if (value.length() > max) {
                throw new IllegalArgumentException("value may only be " + max + " characters long");
            }
        });
        schema.minLength().ifPresent(min -> {
            if (value.length() < min) {
                throw new IllegalArgumentException("value must be at least " + min + " characters long");
            }
        });
        schema.pattern().ifPresent(p -> {
            if (!p.matcher(value).matches()) {
                throw new IllegalArgumentException("value does not match the regex pattern");
            }
        });
        schema.enumValues().ifPresent(values -> {
            if (!values.contains(value)) {
                throw new IllegalArgumentException("value '" + shorten(value) + "' does not have a value in the enumeration '"
                        + String.join(", ", values) + "'");
            }
        });
        checkFormat(schema, value);
        schema.propertyFormat().ifPresent(format -> {
            try {
                PropertyString.parse(format, value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid format - " + e.getMessage(), e);
            }
        });
        return value;
    }

    private static void checkFormat(Schema schema, String value) {
        schema.format().ifPresent(format -> Formats.check(format, value).ifPresent(message -> {
            throw new IllegalArgumentException(message);
        }));
    }

    private static void checkRange(Schema schema, double number) {
        schema.minimum().ifPresent(min -> {
            if (number < min.doubleValue()) {
                throw new IllegalArgumentException("value must have a minimum value of " + min);
            }
        });
        schema.maximum().ifPresent(max -> {
            if (number > max.doubleValue()) {
                throw new IllegalArgumentException("value must have a maximum value of " + max);
            }
        });
    }

    private static String shorten(String value) {
        return value.length() > 64 ? value.substring(0, 64) + "..." : value;
    }
}
