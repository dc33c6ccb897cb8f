package org.corral.cluster.tls;

import static java.util.Objects.requireNonNull;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The DNS names and IP addresses a node certificate is valid for, in the order they are written. */
public record SubjectAltNames(List<String> dnsNames, List<InetAddress> ipAddresses) {
    private static final Logger log = LoggerFactory.getLogger(SubjectAltNames.class);

    // IPv4 before IPv6, then numerically, so that the same host always yields the same certificate
    private static final Comparator<InetAddress> ADDRESS_ORDER = Comparator
            .comparingInt((InetAddress address) -> address.getAddress().length)
            .thenComparing(InetAddress::getAddress, Arrays::compareUnsigned);

    public SubjectAltNames {
        dnsNames = List.copyOf(new LinkedHashSet<>(requireNonNull(dnsNames, "dnsNames is null")));
        ipAddresses = List.copyOf(new LinkedHashSet<>(requireNonNull(ipAddresses, "ipAddresses is null")));
    }

    /**
     * The names of this host as Proxmox puts them into {@code pve-ssl.pem}: the node name, its FQDN when it
     * resolves to one, {@code localhost}, and every address of the host, loopback included.
     */
    public static SubjectAltNames discover(String nodeName) {
        requireNonNull(nodeName, "nodeName is null");
        Set<String> dnsNames = new LinkedHashSet<>();
        dnsNames.add(nodeName);
        Set<InetAddress> addresses = new LinkedHashSet<>();
        try {
            InetAddress resolved = InetAddress.getByName(nodeName);
            String canonical = resolved.getCanonicalHostName();
            if (canonical.contains(".") && !canonical.equals(resolved.getHostAddress())) {
                dnsNames.add(canonical);
            }
            addAddress(addresses, resolved);
        } catch (UnknownHostException e) {
            log.debug("Node name {} does not resolve; the certificate names no FQDN", nodeName);
        }
        dnsNames.add("localhost");
        try {
            NetworkInterface.networkInterfaces()
                    .flatMap(NetworkInterface::inetAddresses)
                    .forEach(address -> addAddress(addresses, address));
        } catch (SocketException e) {
            log.warn("Cannot list network interfaces, the certificate names loopback only: {}", e.getMessage());
        }
        addAddress(addresses, InetAddress.getLoopbackAddress());
        return new SubjectAltNames(List.copyOf(dnsNames), addresses.stream().sorted(ADDRESS_ORDER).toList());
    }

    private static void addAddress(Set<InetAddress> addresses, InetAddress address) {
        // fe80:: addresses come and go with every tap and veth device and need a zone id in a URL
        if (address.isLinkLocalAddress() && !(address instanceof Inet4Address)) {
            return;
        }
        try {
            // drop host name and scope so that equal addresses compare equal
            addresses.add(InetAddress.getByAddress(address.getAddress()));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("address of illegal length: " + address, e);
        }
    }
}
