package org.corral.core.schema;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The keys of a Proxmox property string ({@code virtio=BC:24:11:00:00:01,bridge=vmbr0}), in the
 * order Proxmox writes them, with the one key that may stand bare in first place.
 */
public final class PropertyFormat {
    private final Map<String, Schema> keys = new LinkedHashMap<>();
    private final Map<String, String> aliases = new LinkedHashMap<>();
    private String defaultKey;

    public static PropertyFormat of() {
        return new PropertyFormat();
    }

    public PropertyFormat key(String name, Schema schema) {
        keys.put(requireNonNull(name, "name is null"), requireNonNull(schema, "schema is null"));
        return this;
    }

    /** The key a bare first value belongs to ({@code local:10} means {@code file=local:10}). */
    public PropertyFormat defaultKey(String name, Schema schema) {
        key(name, schema);
        this.defaultKey = name;
        return this;
    }

    /** Another spelling of a key, as Proxmox accepts {@code virtio=MAC} for {@code model=virtio,macaddr=MAC}. */
    public PropertyFormat alias(String alias, String key) {
        aliases.put(alias, key);
        return this;
    }

    public Map<String, Schema> keys() {
        return Collections.unmodifiableMap(keys);
    }

    public Optional<String> defaultKey() {
        return Optional.ofNullable(defaultKey);
    }

    public Optional<String> aliasTarget(String alias) {
        return Optional.ofNullable(aliases.get(alias));
    }

    public String typeText() {
        StringBuilder text = new StringBuilder();
        keys.forEach((name, schema) -> {
            if (!text.isEmpty()) {
                text.append(',');
            }
            boolean bare = name.equals(defaultKey);
            String part = bare ? "[" + name + "=]" + schema.typeText() : name + "=" + schema.typeText();
            text.append(schema.isOptional() ? "[" + part + "]" : part);
        });
        return text.toString();
    }
}
