package org.corral.core.schema;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A JSON-schema description of one parameter or return value, in the subset Proxmox VE's API
 * schema uses: types, Proxmox named formats, property strings, ranges, lengths, patterns, enums.
 * Built fluently while a method is declared; not changed afterwards.
 */
public final class Schema {
    public enum Type {
        STRING("string"), INTEGER("integer"), NUMBER("number"), BOOLEAN("boolean"),
        OBJECT("object"), ARRAY("array"), NULL("null"), ANY("any");

        private final String jsonName;

        Type(String jsonName) {
            this.jsonName = jsonName;
        }

        public String jsonName() {
            return jsonName;
        }
    }

    private final Type type;
    private String description;
    private String format;
    private PropertyFormat propertyFormat;
    private boolean optional;
    private Object defaultValue;
    private Number minimum;
    private Number maximum;
    private Integer minLength;
    private Integer maxLength;
    private Pattern pattern;
    private List<String> enumValues;
    private Schema items;
    private final Map<String, Schema> properties = new LinkedHashMap<>();
    private boolean secret;
    private boolean multiLine;
    private String typeText;

    private Schema(Type type) {
        this.type = requireNonNull(type, "type is null");
    }

    public static Schema string() {
        return new Schema(Type.STRING);
    }

    public static Schema integer() {
        return new Schema(Type.INTEGER);
    }

    public static Schema number() {
        return new Schema(Type.NUMBER);
    }

    public static Schema bool() {
        return new Schema(Type.BOOLEAN);
    }

    public static Schema object() {
        return new Schema(Type.OBJECT);
    }

    public static Schema array(Schema items) {
        Schema schema = new Schema(Type.ARRAY);
        schema.items = requireNonNull(items, "items is null");
        return schema;
    }

    public static Schema nullValue() {
        return new Schema(Type.NULL);
    }

    public static Schema any() {
        return new Schema(Type.ANY);
    }

    /** A string in Proxmox's {@code key=value,...} form, checked against {@code format}. */
    public static Schema propertyString(PropertyFormat format) {
        Schema schema = new Schema(Type.STRING);
        schema.propertyFormat = requireNonNull(format, "format is null");
        return schema;
    }

    public Schema description(String text) {
        this.description = requireNonNull(text, "text is null");
        return this;
    }

    /** A Proxmox named format ({@link Formats}); a name ending in {@code -list} checks each list item. */
    public Schema format(String name) {
        if (!Formats.known(name)) {
            throw new IllegalArgumentException("unknown format '" + name + "'");
        }
        this.format = name;
        return this;
    }

    public Schema optional() {
        this.optional = true;
        return this;
    }

    public Schema defaultValue(Object value) {
        this.defaultValue = requireNonNull(value, "value is null");
        this.optional = true;
        return this;
    }

    public Schema minimum(Number value) {
        this.minimum = value;
        return this;
    }

    public Schema maximum(Number value) {
        this.maximum = value;
        return this;
    }

    public Schema minLength(int value) {
        this.minLength = value;
        return this;
    }

    public Schema maxLength(int value) {
        this.maxLength = value;
        return this;
    }

    public Schema pattern(String regex) {
        this.pattern = Pattern.compile(regex);
        return this;
    }

    public Schema enumValues(String... values) {
        this.enumValues = List.of(values);
        return this;
    }

    public Schema property(String name, Schema schema) {
        properties.put(requireNonNull(name, "name is null"), requireNonNull(schema, "schema is null"));
        return this;
    }

    /** Masks the value in the audit log and in task logs (passwords, secrets, keys). */
    public Schema secret() {
        this.secret = true;
        return this;
    }

    /**
     * The string may hold line breaks (descriptions, notes, PEM text, data for a guest). Every
     * other string refuses control characters at validation, before any handler sees it.
     */
    public Schema multiLine() {
        this.multiLine = true;
        return this;
    }

    /** Short text for help output, as Proxmox's {@code typetext}. */
    public Schema typeText(String text) {
        this.typeText = text;
        return this;
    }

    public Type type() {
        return type;
    }

    public Optional<String> description() {
        return Optional.ofNullable(description);
    }

    public Optional<String> format() {
        return Optional.ofNullable(format);
    }

    public Optional<PropertyFormat> propertyFormat() {
        return Optional.ofNullable(propertyFormat);
    }

    public boolean isOptional() {
        return optional;
    }

    public Optional<Object> defaultValue() {
        return Optional.ofNullable(defaultValue);
    }

    public Optional<Number> minimum() {
        return Optional.ofNullable(minimum);
    }

    public Optional<Number> maximum() {
        return Optional.ofNullable(maximum);
    }

    public Optional<Integer> minLength() {
        return Optional.ofNullable(minLength);
    }

    public Optional<Integer> maxLength() {
        return Optional.ofNullable(maxLength);
    }

    public Optional<Pattern> pattern() {
        return Optional.ofNullable(pattern);
    }

    public Optional<List<String>> enumValues() {
        return Optional.ofNullable(enumValues);
    }

    public Optional<Schema> items() {
        return Optional.ofNullable(items);
    }

    public Map<String, Schema> properties() {
        return Collections.unmodifiableMap(properties);
    }

    public boolean isSecret() {
        return secret;
    }

    public boolean isMultiLine() {
        return multiLine;
    }

    /** What help output shows for the value: typetext, the enum, the format, or the type. */
    public String typeText() {
        if (typeText != null) {
            return typeText;
        }
        if (enumValues != null) {
            return "<" + String.join(" | ", enumValues) + ">";
        }
        if (propertyFormat != null) {
            return propertyFormat.typeText();
        }
        if (type == Type.BOOLEAN) {
            return "<boolean>";
        }
        if (type == Type.INTEGER && minimum != null && maximum != null) {
            return "<integer> (" + minimum + " - " + maximum + ")";
        }
        return "<" + (format != null ? format : type.jsonName()) + ">";
    }
}
