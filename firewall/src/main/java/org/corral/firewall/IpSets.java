package org.corral.firewall;

import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * IP set entries and the sets with a meaning of their own: {@code management} (cluster: hosts that
 * may always reach the API, consoles and SSH; the {@code local_network} alias is in it implicitly),
 * {@code blacklist} (cluster: always dropped) and {@code ipfilter-net<N>} (guest: the addresses NIC
 * N may send from, implicitly with its link-local address and, for a container, its configured IPs).
 */
public final class IpSets {
    public static final String MANAGEMENT = "management";
    public static final String BLACKLIST = "blacklist";
    /** The implicit alias for the network of the node's own address. */
    public static final String LOCAL_NETWORK = "local_network";
    private static final Pattern IPFILTER = Pattern.compile("ipfilter-net(\\d+)");
    private static final Pattern ALIAS_ENTRY = Pattern.compile("(dc/|guest/)?" + RuleChecker.NAME.pattern());

    private IpSets() {}

    /** The NIC index of an {@code ipfilter-net<N>} set. */
    public static Optional<Integer> ipfilterNic(String setName) {
        var m = IPFILTER.matcher(setName);
        return m.matches() && m.group(1).length() < 4 ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
    }

    /** Whether a set of that name has a standard meaning in files of that kind. */
    public static boolean standard(FwKind kind, String setName) {
        return switch (kind) {
            case CLUSTER -> setName.equals(MANAGEMENT) || setName.equals(BLACKLIST);
            case GUEST -> ipfilterNic(setName).isPresent();
            case HOST, VNET -> false;
        };
    }

    /**
     * An entry of set {@code set} as Proxmox accepts it: an address, a network with a non-zero
     * prefix, or an alias name; {@code seen} holds the set's entries so far. An
     * {@link IllegalArgumentException} says what is wrong.
     */
    public static IpSetEntry checkEntry(String set, String cidr, boolean nomatch, Optional<String> comment, Set<String> seen) {
        if (!ALIAS_ENTRY.matcher(cidr).matches()) {
            RuleChecker.cidrVersion(cidr);
            if (cidr.matches(".*/0+")) {
                throw new IllegalArgumentException("a zero prefix is not allowed in ipset entries");
            }
        }
        if (seen.contains(cidr)) {
            throw new IllegalArgumentException("duplicate ipset entry for '" + cidr + "' in ipset '" + set + "'");
        }
        return new IpSetEntry(cidr, nomatch, comment);
    }
}
