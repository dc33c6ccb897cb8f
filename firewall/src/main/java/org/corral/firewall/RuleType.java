package org.corral.firewall;

import java.util.Locale;
import java.util.Optional;

/** A rule's direction, or a jump into a security group: the first word of a rule line. */
public enum RuleType {
    IN, OUT, FORWARD, GROUP;

    /** The API's name ({@code in}, {@code out}, {@code forward}, {@code group}). */
    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<RuleType> parse(String word) {
        for (RuleType type : values()) {
            if (type.name().equalsIgnoreCase(word)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
