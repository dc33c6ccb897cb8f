package org.corral.access.tfa;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code tfa} option of a realm in domains.cfg ({@code type=oath[,digits=N][,step=N]} or
 * {@code type=yubico[,id=..][,key=..][,url=..]}): the second factor every user of the realm must
 * give. {@code oath} is TOTP.
 */
public record RealmTfa(String type, Map<String, String> options) {
    private static final Map<String, Set<String>> KEYS = Map.of(
            "oath", Set.of("type", "digits", "step"),
            "yubico", Set.of("type", "id", "key", "url"));

    public RealmTfa {
        requireNonNull(type, "type is null");
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /** The response type ({@code totp:...}, {@code yubico:...}) this realm requires. */
    public String responseType() {
        return type.equals("oath") ? "totp" : type;
    }

    /** Parses and checks the option; the message of the exception says what is wrong. */
    public static RealmTfa parse(String value) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String part : value.split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String key = eq < 0 ? "type" : part.substring(0, eq);
            String v = eq < 0 ? part : part.substring(eq + 1);
            if (options.put(key, v) != null) {
                throw new IllegalArgumentException("duplicate key '" + key + "'");
            }
        }
        String type = options.get("type");
        if (type == null) {
            throw new IllegalArgumentException("property 'type' is missing");
        }
        Set<String> allowed = KEYS.get(type);
        if (allowed == null) {
            throw new IllegalArgumentException("type: value '" + type + "' does not have a value in the enumeration 'oath, yubico'");
        }
        for (String key : options.keySet()) {
            if (!allowed.contains(key)) {
                throw new IllegalArgumentException("property '" + key + "' is not allowed with type " + type);
            }
        }
        range(options, "digits", 6, 8);
        range(options, "step", 10, 60);
        return new RealmTfa(type, options);
    }

    /** The realm's requirement, if its {@code tfa} option is set and valid; an invalid one is refused like a missing factor. */
    public static Optional<RealmTfa> of(Optional<String> option) {
        return option.filter(o -> !o.isBlank()).map(RealmTfa::parse);
    }

    private static void range(Map<String, String> options, String key, int min, int max) {
        String value = options.get(key);
        if (value == null) {
            return;
        }
        try {
            int n = Integer.parseInt(value);
            if (n < min || n > max) {
                throw new IllegalArgumentException(key + ": value must be between " + min + " and " + max);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": value '" + value + "' is not an integer");
        }
    }
}
