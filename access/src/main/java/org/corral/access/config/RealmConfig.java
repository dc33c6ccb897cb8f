package org.corral.access.config;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One section of domains.cfg: an authentication realm, its type ({@code pam}, {@code pve},
 * {@code ldap}...) and its options in file order. {@code comment} is kept decoded.
 */
public record RealmConfig(String realm, String type, Map<String, String> options) {
    public RealmConfig {
        requireNonNull(realm, "realm is null");
        requireNonNull(type, "type is null");
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    public Optional<String> option(String key) {
        return Optional.ofNullable(options.get(key));
    }

    public String comment() {
        return options.getOrDefault("comment", "");
    }

    public boolean isDefault() {
        return ProxmoxText.truthy(options.get("default"));
    }

    public RealmConfig with(String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(options);
        copy.put(key, value);
        return new RealmConfig(realm, type, copy);
    }

    public RealmConfig without(String key) {
        Map<String, String> copy = new LinkedHashMap<>(options);
        copy.remove(key);
        return new RealmConfig(realm, type, copy);
    }
}
