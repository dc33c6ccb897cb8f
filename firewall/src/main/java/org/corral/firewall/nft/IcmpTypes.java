package org.corral.firewall.nft;

import java.util.Map;

/** ICMP and ICMPv6 type names as iptables and Proxmox know them, as type and code ({@code -1}: any code). */
final class IcmpTypes {
    private static final Map<String, int[]> V4 = Map.ofEntries(
            Map.entry("echo-reply", new int[] {0, -1}),
            Map.entry("destination-unreachable", new int[] {3, -1}),
            Map.entry("network-unreachable", new int[] {3, 0}),
            Map.entry("host-unreachable", new int[] {3, 1}),
            Map.entry("protocol-unreachable", new int[] {3, 2}),
            Map.entry("port-unreachable", new int[] {3, 3}),
            Map.entry("fragmentation-needed", new int[] {3, 4}),
            Map.entry("source-route-failed", new int[] {3, 5}),
            Map.entry("network-unknown", new int[] {3, 6}),
            Map.entry("host-unknown", new int[] {3, 7}),
            Map.entry("network-prohibited", new int[] {3, 9}),
            Map.entry("host-prohibited", new int[] {3, 10}),
            Map.entry("TOS-network-unreachable", new int[] {3, 11}),
            Map.entry("TOS-host-unreachable", new int[] {3, 12}),
            Map.entry("communication-prohibited", new int[] {3, 13}),
            Map.entry("host-precedence-violation", new int[] {3, 14}),
            Map.entry("precedence-cutoff", new int[] {3, 15}),
            Map.entry("source-quench", new int[] {4, -1}),
            Map.entry("redirect", new int[] {5, -1}),
            Map.entry("network-redirect", new int[] {5, 0}),
            Map.entry("host-redirect", new int[] {5, 1}),
            Map.entry("TOS-network-redirect", new int[] {5, 2}),
            Map.entry("TOS-host-redirect", new int[] {5, 3}),
            Map.entry("echo-request", new int[] {8, -1}),
            Map.entry("router-advertisement", new int[] {9, -1}),
            Map.entry("router-solicitation", new int[] {10, -1}),
            Map.entry("time-exceeded", new int[] {11, -1}),
            Map.entry("ttl-zero-during-transit", new int[] {11, 0}),
            Map.entry("ttl-zero-during-reassembly", new int[] {11, 1}),
            Map.entry("parameter-problem", new int[] {12, -1}),
            Map.entry("ip-header-bad", new int[] {12, 0}),
            Map.entry("required-option-missing", new int[] {12, 1}),
            Map.entry("timestamp-request", new int[] {13, -1}),
            Map.entry("timestamp-reply", new int[] {14, -1}),
            Map.entry("address-mask-request", new int[] {17, -1}),
            Map.entry("address-mask-reply", new int[] {18, -1}));
    private static final Map<String, int[]> V6 = Map.ofEntries(
            Map.entry("destination-unreachable", new int[] {1, -1}),
            Map.entry("no-route", new int[] {1, 0}),
            Map.entry("communication-prohibited", new int[] {1, 1}),
            Map.entry("beyond-scope", new int[] {1, 2}),
            Map.entry("address-unreachable", new int[] {1, 3}),
            Map.entry("port-unreachable", new int[] {1, 4}),
            Map.entry("failed-policy", new int[] {1, 5}),
            Map.entry("reject-route", new int[] {1, 6}),
            Map.entry("packet-too-big", new int[] {2, -1}),
            Map.entry("time-exceeded", new int[] {3, -1}),
            Map.entry("ttl-zero-during-transit", new int[] {3, 0}),
            Map.entry("ttl-zero-during-reassembly", new int[] {3, 1}),
            Map.entry("parameter-problem", new int[] {4, -1}),
            Map.entry("bad-header", new int[] {4, 0}),
            Map.entry("unknown-header-type", new int[] {4, 1}),
            Map.entry("unknown-option", new int[] {4, 2}),
            Map.entry("echo-request", new int[] {128, -1}),
            Map.entry("echo-reply", new int[] {129, -1}),
            Map.entry("router-solicitation", new int[] {133, -1}),
            Map.entry("router-advertisement", new int[] {134, -1}),
            Map.entry("neighbor-solicitation", new int[] {135, -1}),
            Map.entry("neighbour-solicitation", new int[] {135, -1}),
            Map.entry("neighbor-advertisement", new int[] {136, -1}),
            Map.entry("neighbour-advertisement", new int[] {136, -1}),
            Map.entry("redirect", new int[] {137, -1}));

    private IcmpTypes() {}

    /** Type and code of a name or {@code type[/code]}; an {@link IllegalArgumentException} for an unknown one. */
    static int[] lookup(String name, boolean v6) {
        if (name.matches("\\d{1,3}(/\\d{1,3})?")) {
            String[] parts = name.split("/");
            int type = Integer.parseInt(parts[0]);
            int code = parts.length == 2 ? Integer.parseInt(parts[1]) : -1;
            if (type > 255 || code > 255) {
                throw new IllegalArgumentException("invalid icmp-type '" + name + "'");
            }
            return new int[] {type, code};
        }
        int[] found = (v6 ? V6 : V4).get(name);
        if (found == null) {
            throw new IllegalArgumentException("invalid icmp-type '" + name + "'");
        }
        return found.clone();
    }
}
