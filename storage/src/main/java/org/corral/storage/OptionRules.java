package org.corral.storage;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.core.schema.Validator;

/**
 * The type-specific rules of storage.cfg on create and update, after the API's schemas have
 * checked each value: which options a type takes, which it needs, which are fixed, which content
 * types and formats it supports. Every problem is collected before answering.
 */
public final class OptionRules {
    private OptionRules() {}

    /** Options as written to storage.cfg plus the password, which is kept apart. */
    public record Result(Map<String, String> options, Optional<String> password) {}

    /**
     * Checks a new storage's options ({@code given} holds option values as the validator converted
     * them) and answers them as storage.cfg strings, in the type's option order.
     */
    public static Result create(StoragePlugin plugin, String id, Map<String, Object> given) {
        Map<String, String> errors = new LinkedHashMap<>();
        Map<String, OptionSpec> allowed = allowed(plugin);
        Map<String, String> values = new LinkedHashMap<>();
        plugin.createDefaults(id).forEach(values::put);
        given.forEach((name, value) -> {
            if (!allowed.containsKey(name)) {
                errors.put(name, "option '" + name + "' is not allowed for storage type '" + plugin.type() + "'");
            } else {
                values.put(name, text(value));
            }
        });
        allowed.values().stream().filter(OptionSpec::required).filter(spec -> !values.containsKey(spec.name()))
                .forEach(spec -> errors.putIfAbsent(spec.name(), "property is missing and it is not optional"));
        checkValues(plugin, values, errors);
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        Map<String, String> ordered = new LinkedHashMap<>();
        allowed.keySet().stream().filter(values::containsKey).filter(n -> !StorageOptions.SECRETS.contains(n))
                .forEach(n -> ordered.put(n, values.get(n)));
        return new Result(ordered, Optional.ofNullable(values.get("password")));
    }

    /**
     * Applies an update: {@code given} sets options, {@code delete} removes them. Existing options
     * keep their place, new ones are appended. Fixed options can't change, required ones can't go.
     */
    public static Result update(StoragePlugin plugin, StorageConfig current, Map<String, Object> given, String delete) {
        Map<String, String> errors = new LinkedHashMap<>();
        Map<String, OptionSpec> allowed = allowed(plugin);
        Map<String, String> values = new LinkedHashMap<>(current.options());
        Set<String> deletions = new LinkedHashSet<>(Formats.splitList(delete));
        given.forEach((name, value) -> {
            OptionSpec spec = allowed.get(name);
            if (spec == null) {
                errors.put(name, "option '" + name + "' is not allowed for storage type '" + plugin.type() + "'");
            } else if (spec.fixed()) {
                errors.put(name, "can't change value of fixed parameter '" + name + "'");
            } else if (deletions.contains(name)) {
                errors.put(name, "cannot set and delete property '" + name + "' at the same time");
            } else {
                values.put(name, text(value));
            }
        });
        for (String name : deletions) {
            OptionSpec spec = allowed.get(name);
            if (spec == null) {
                errors.put("delete", "option '" + name + "' is not allowed for storage type '" + plugin.type() + "'");
            } else if (spec.fixed() || spec.required()) {
                errors.put("delete", "cannot delete required or fixed option '" + name + "'");
            } else {
                values.remove(name);
            }
        }
        checkValues(plugin, values, errors);
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        Optional<String> password = Optional.ofNullable(values.remove("password"));
        return new Result(values, password);
    }

    private static Map<String, OptionSpec> allowed(StoragePlugin plugin) {
        Map<String, OptionSpec> allowed = new LinkedHashMap<>();
        plugin.options().forEach(spec -> allowed.put(spec.name(), spec));
        return allowed;
    }

    private static void checkValues(StoragePlugin plugin, Map<String, String> values, Map<String, String> errors) {
        Capabilities capabilities = plugin.capabilities();
        String content = values.get("content");
        if (content != null && !errors.containsKey("content")) {
            try {
                Set<ContentType> types = ContentType.parseList(content);
                List<String> unsupported = types.stream().filter(t -> !capabilities.content().contains(t))
                        .map(ContentType::proxmoxName).toList();
                if (!unsupported.isEmpty()) {
                    errors.put("content", "storage type '" + plugin.type() + "' does not support content type(s) " + String.join(", ", unsupported));
                } else {
                    // written as Proxmox writes it: comma separated, in the caller's order, once each
                    values.put("content", String.join(",", new LinkedHashSet<>(List.of(content.trim().split("[,;\\s]+")))));
                }
            } catch (IllegalArgumentException e) {
                errors.put("content", e.getMessage());
            }
        }
        String format = values.get("format");
        if (format != null && VolumeFormat.byName(format).filter(capabilities.formats()::contains).isEmpty()) {
            errors.put("format", "storage type '" + plugin.type() + "' does not support format '" + format + "' (supported: "
                    + capabilities.formats().stream().map(VolumeFormat::proxmoxName).sorted().collect(Collectors.joining(", ")) + ")");
        }
        // values set by createDefaults have not passed the API schema yet
        values.forEach((name, value) -> {
            if (!errors.containsKey(name) && StorageOptions.known(name)) {
                Schema schema = StorageOptions.schema(name);
                try {
                    Validator.convert(schema, value);
                } catch (IllegalArgumentException e) {
                    errors.put(name, e.getMessage());
                }
            }
        });
        plugin.checkOptions(values, errors);
    }

    private static String text(Object value) {
        return value instanceof Boolean b ? (b ? "1" : "0") : String.valueOf(value);
    }
}
