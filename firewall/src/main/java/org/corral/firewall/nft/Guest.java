package org.corral.firewall.nft;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.corral.firewall.FwConfig;

/** A guest of this node with its {@code <vmid>.fw} and its NICs. */
public record Guest(int vmid, boolean container, FwConfig config, List<GuestNic> nics) {
    public Guest {
        requireNonNull(config, "config is null");
        nics = List.copyOf(nics);
    }
}
