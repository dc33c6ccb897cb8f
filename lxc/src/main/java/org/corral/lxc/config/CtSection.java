package org.corral.lxc.config;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One section of a container config: the current settings, a snapshot, or the pending changes.
 * Options are kept sorted because Proxmox writes them sorted; raw {@code lxc.*} keys keep their
 * order and may repeat. The description keeps Proxmox's trailing newline per {@code #} line.
 */
public record CtSection(String description, SortedMap<String, String> options, List<RawKey> lxc) {
    /** A raw LXC key as written in the file ({@code lxc.apparmor.profile: unconfined}). */
    public record RawKey(String key, String value) {
        public RawKey {
            requireNonNull(key, "key is null");
            requireNonNull(value, "value is null");
        }
    }

    public static final CtSection EMPTY = new CtSection("", new TreeMap<>(), List.of());

    public CtSection {
        requireNonNull(description, "description is null");
        options = Collections.unmodifiableSortedMap(new TreeMap<>(requireNonNull(options, "options is null")));
        lxc = List.copyOf(requireNonNull(lxc, "lxc is null"));
    }

    public static CtSection of(Map<String, String> options) {
        return new CtSection("", new TreeMap<>(options), List.of());
    }

    public Optional<String> get(String key) {
        return Optional.ofNullable(options.get(key));
    }

    public boolean has(String key) {
        return options.containsKey(key);
    }

    public boolean isEmpty() {
        return description.isEmpty() && options.isEmpty() && lxc.isEmpty();
    }

    public CtSection with(String key, String value) {
        requireNonNull(value, "value is null");
        TreeMap<String, String> next = new TreeMap<>(options);
        next.put(key, value);
        return new CtSection(description, next, lxc);
    }

    public CtSection without(String key) {
        if (!options.containsKey(key)) {
            return this;
        }
        TreeMap<String, String> next = new TreeMap<>(options);
        next.remove(key);
        return new CtSection(description, next, lxc);
    }

    public CtSection withDescription(String text) {
        return new CtSection(requireNonNull(text, "text is null"), options, lxc);
    }

    public CtSection withLxc(List<RawKey> keys) {
        return new CtSection(description, options, new ArrayList<>(keys));
    }

    /** Integer option or its default. */
    public long getLong(String key, long defaultValue) {
        String value = options.get(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return defaultValue;
        }
    }

    public double getDouble(String key, double defaultValue) {
        String value = options.get(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            return defaultValue;
        }
    }

    /** Boolean option as Proxmox reads it ({@code 1|on|yes|true}); the default when unset or unreadable. */
    public boolean getBool(String key, boolean defaultValue) {
        String value = options.get(key);
        if (value == null) {
            return defaultValue;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "1", "on", "yes", "true" -> true;
            case "0", "off", "no", "false" -> false;
            default -> defaultValue;
        };
    }
}
