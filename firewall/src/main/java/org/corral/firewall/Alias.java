package org.corral.firewall;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.Optional;

/** A named address or network ({@code name cidr # comment} under {@code [ALIASES]}); names match case-insensitively. */
public record Alias(String name, String cidr, Optional<String> comment) {
    public Alias {
        requireNonNull(name, "name is null");
        requireNonNull(cidr, "cidr is null");
        requireNonNull(comment, "comment is null");
    }

    /** The key Proxmox looks an alias up by. */
    public String key() {
        return name.toLowerCase(Locale.ROOT);
    }
}
