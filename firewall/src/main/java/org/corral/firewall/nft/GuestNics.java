package org.corral.firewall.nft;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code net<N>} lines of a guest's config as the firewall needs them. A VM's NIC is
 * {@code net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1} (the model key holds the MAC)
 * and its host port {@code tap<vmid>i<N>}; a container's is
 * {@code net0: name=eth0,bridge=vmbr0,hwaddr=...,ip=10.0.0.5/24,firewall=1} and its port
 * {@code veth<vmid>i<N>}. Snapshot and pending sections ({@code [name]}) are not the running config.
 */
public final class GuestNics {
    private static final Pattern NET = Pattern.compile("net(\\d+):\\s*(.*)");
    private static final Set<String> MODELS = Set.of("virtio", "e1000", "e1000e", "rtl8139", "vmxnet3", "i82551", "i82557b",
            "i82559er", "ne2k_isa", "ne2k_pci", "pcnet", "e1000-82540em", "e1000-82544gc", "e1000-82545em");

    private GuestNics() {}

    public static List<GuestNic> parse(int vmid, boolean container, String config) {
        List<GuestNic> nics = new ArrayList<>();
        for (String line : config.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("[")) {
                break;
            }
            Matcher m = NET.matcher(trimmed);
            if (!m.matches()) {
                continue;
            }
            int index = Integer.parseInt(m.group(1));
            Map<String, String> props = new LinkedHashMap<>();
            for (String part : m.group(2).split(",")) {
                int eq = part.indexOf('=');
                if (eq > 0) {
                    props.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
                }
            }
            Optional<String> mac = Optional.ofNullable(container ? props.get("hwaddr") : props.get("macaddr"));
            if (!container && mac.isEmpty()) {
                mac = props.entrySet().stream().filter(e -> MODELS.contains(e.getKey())).map(Map.Entry::getValue).findFirst();
            }
            List<String> addresses = new ArrayList<>();
            if (container) {
                for (String key : List.of("ip", "ip6")) {
                    String value = props.get(key);
                    if (value != null && value.matches(".*[.:].*")) {
                        // the configured address, not its network: ipfilter allows exactly it
                        addresses.add(value.replaceAll("/\\d+$", ""));
                    }
                }
            }
            String port = (container ? "veth" : "tap") + vmid + "i" + index;
            nics.add(new GuestNic(index, port, mac.filter(s -> s.matches("(?i)([0-9a-f]{2}:){5}[0-9a-f]{2}")),
                    "1".equals(props.get("firewall")), addresses, Optional.ofNullable(props.get("bridge")).filter(b -> !b.isEmpty())));
        }
        return nics;
    }
}
