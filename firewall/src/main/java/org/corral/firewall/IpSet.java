package org.corral.firewall;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/** A named IP set ({@code [IPSET name] # comment}); names are lower case, as Proxmox keeps them. */
public record IpSet(String name, Optional<String> comment, List<IpSetEntry> entries) {
    public IpSet {
        requireNonNull(name, "name is null");
        requireNonNull(comment, "comment is null");
        entries = List.copyOf(entries);
    }

    public Optional<IpSetEntry> entry(String cidr) {
        return entries.stream().filter(e -> e.cidr().equals(cidr)).findFirst();
    }
}
