package org.corral.firewall.nft;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * One NIC of a guest as the firewall sees it: its index ({@code net<N>}), the host side port
 * Proxmox names {@code tap<vmid>i<N>} (VM) or {@code veth<vmid>i<N>} (container), its MAC, whether
 * {@code firewall=1} is set, and for a container its configured addresses (implicit ipfilter entries).
 */
public record GuestNic(int index, String port, Optional<String> mac, boolean firewall, List<String> addresses) {
    public GuestNic {
        requireNonNull(port, "port is null");
        requireNonNull(mac, "mac is null");
        addresses = List.copyOf(addresses);
    }
}
