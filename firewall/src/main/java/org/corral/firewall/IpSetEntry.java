package org.corral.firewall;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/** One member of an IP set: an address, network or alias name; {@code nomatch} ({@code !}) excludes it. */
public record IpSetEntry(String cidr, boolean nomatch, Optional<String> comment) {
    public IpSetEntry {
        requireNonNull(cidr, "cidr is null");
        requireNonNull(comment, "comment is null");
    }
}
