package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.core.schema.Formats;

/**
 * One section of storage.cfg: {@code type: id} and its options as written, in file order. Values
 * are the strings of the file; typed views come from the accessors.
 */
public record StorageConfig(String type, String id, Map<String, String> options) {
    public StorageConfig {
        requireNonNull(type, "type is null");
        requireNonNull(id, "id is null");
        requireNonNull(options, "options is null");
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    public Optional<String> option(String name) {
        return Optional.ofNullable(options.get(name));
    }

    /** A boolean option: {@code 1}, {@code yes}, {@code on}, {@code true} are set; missing is {@code fallback}. */
    public boolean flag(String name, boolean fallback) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "1", "yes", "on", "true", "" -> true;
            default -> false;
        };
    }

    public boolean disabled() {
        return flag("disable", false);
    }

    /** The nodes the storage is restricted to; empty means every node. */
    public List<String> nodes() {
        return option("nodes").map(Formats::splitList).orElse(List.of());
    }

    public boolean availableOn(String node) {
        List<String> nodes = nodes();
        return nodes.isEmpty() || nodes.contains(node);
    }

    /** The content types enabled here: the {@code content} option, or the type's default content. */
    public Set<ContentType> content(Capabilities capabilities) {
        return option("content").map(ContentType::parseList).orElse(capabilities.defaultContent());
    }

    /** A copy with {@code name} set (appended if new, in place if present) or removed when {@code value} is null. */
    public StorageConfig with(String name, String value) {
        Map<String, String> copy = new LinkedHashMap<>(options);
        if (value == null) {
            copy.remove(name);
        } else {
            copy.put(name, value);
        }
        return new StorageConfig(type, id, copy);
    }
}
