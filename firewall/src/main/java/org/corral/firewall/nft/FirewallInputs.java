package org.corral.firewall.nft;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.corral.firewall.Alias;
import org.corral.firewall.FwConfig;

/**
 * Everything the nftables ruleset of one node is compiled from: {@code cluster.fw} (with its
 * effective aliases, {@code local_network} included), this node's {@code host.fw}, its guests, and
 * the TCP ports the management set may always reach (API, consoles, SSH, cluster traffic).
 */
public record FirewallInputs(FwConfig cluster, List<Alias> clusterAliases, FwConfig host, List<Guest> guests,
        List<Integer> managementPorts) {
    public FirewallInputs {
        requireNonNull(cluster, "cluster is null");
        requireNonNull(host, "host is null");
        clusterAliases = List.copyOf(clusterAliases);
        guests = List.copyOf(guests);
        managementPorts = List.copyOf(managementPorts);
    }
}
