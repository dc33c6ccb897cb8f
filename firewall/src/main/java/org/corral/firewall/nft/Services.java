package org.corral.firewall.nft;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Protocol and service names as rules may use them ({@code -p gre}, {@code -dport http}), turned
 * into numbers here so that a name nft would not know fails one rule, not the whole batch.
 */
public final class Services {
    private final Map<String, Integer> protocols = new HashMap<>();
    private final Map<String, Integer> ports = new HashMap<>();

    private Services() {}

    /** Names from /etc/protocols and /etc/services, over a built-in core for hosts without them. */
    public static Services system() {
        return load(Path.of("/etc/protocols"), Path.of("/etc/services"));
    }

    static Services load(Path protocolsFile, Path servicesFile) {
        Services s = new Services();
        Object[][] core = {{"ip", 0}, {"icmp", 1}, {"igmp", 2}, {"ipencap", 4}, {"ipip", 4}, {"tcp", 6}, {"udp", 17},
            {"ipv6", 41}, {"gre", 47}, {"esp", 50}, {"ah", 51}, {"icmpv6", 58}, {"ipv6-icmp", 58}, {"ospf", 89},
            {"vrrp", 112}, {"l2tp", 115}, {"sctp", 132}, {"udplite", 136}, {"dccp", 33}};
        for (Object[] entry : core) {
            s.protocols.put((String) entry[0], (Integer) entry[1]);
        }
        for (String line : lines(protocolsFile)) {
            String[] words = line.split("\\s+");
            if (words.length >= 2 && words[1].matches("\\d+")) {
                int number = Integer.parseInt(words[1]);
                s.protocols.putIfAbsent(words[0].toLowerCase(Locale.ROOT), number);
                for (int i = 2; i < words.length; i++) {
                    s.protocols.putIfAbsent(words[i].toLowerCase(Locale.ROOT), number);
                }
            }
        }
        for (String line : lines(servicesFile)) {
            String[] words = line.split("\\s+");
            if (words.length >= 2 && words[1].matches("\\d+/\\w+")) {
                String[] portProto = words[1].split("/");
                int port = Integer.parseInt(portProto[0]);
                s.ports.putIfAbsent(words[0] + "/" + portProto[1], port);
                for (int i = 2; i < words.length; i++) {
                    s.ports.putIfAbsent(words[i] + "/" + portProto[1], port);
                }
            }
        }
        return s;
    }

    private static java.util.List<String> lines(Path file) {
        try {
            return Files.readAllLines(file).stream().map(l -> l.replaceAll("#.*", "").strip()).filter(l -> !l.isEmpty()).toList();
        } catch (IOException e) {
            return java.util.List.of();
        }
    }

    /** The protocol number of a name or number. */
    public int protocol(String name) {
        if (name.matches("\\d{1,3}")) {
            int number = Integer.parseInt(name);
            if (number <= 255) {
                return number;
            }
        }
        Integer number = protocols.get(name.toLowerCase(Locale.ROOT));
        if (number == null) {
            throw new IllegalArgumentException("unknown protocol '" + name + "'");
        }
        return number;
    }

    /** A port number of a number or a service name of that protocol (tcp's when the protocol has none of its own). */
    public int port(String name, String protocol) {
        if (name.matches("\\d{1,5}")) {
            int number = Integer.parseInt(name);
            if (number <= 65535) {
                return number;
            }
        }
        Integer number = ports.get(name + "/" + protocol);
        if (number == null) {
            number = ports.get(name + "/tcp");
        }
        if (number == null) {
            throw new IllegalArgumentException("unknown port '" + name + "'");
        }
        return number;
    }
}
