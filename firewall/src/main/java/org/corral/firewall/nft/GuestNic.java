package org.corral.firewall.nft;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * One NIC of a guest as the firewall sees it: its index ({@code net<N>}), the host side port
 * Proxmox names {@code tap<vmid>i<N>} (VM) or {@code veth<vmid>i<N>} (container), its MAC, whether
 * {@code firewall=1} is set, for a container its configured addresses (implicit ipfilter entries), and
 * the bridge it is plugged into.
 */
public record GuestNic(int index, String port, Optional<String> mac, boolean firewall, List<String> addresses, Optional<String> bridge) {
    public GuestNic {
        requireNonNull(port, "port is null");
        requireNonNull(mac, "mac is null");
        requireNonNull(bridge, "bridge is null");
        addresses = List.copyOf(addresses);
    }

    public GuestNic(int index, String port, Optional<String> mac, boolean firewall, List<String> addresses) {
        this(index, port, mac, firewall, addresses, Optional.empty());
    }
}
