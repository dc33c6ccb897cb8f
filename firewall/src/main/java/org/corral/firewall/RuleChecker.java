package org.corral.firewall;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What Proxmox checks in a rule before it accepts it, as one error per API parameter name: type
 * and action for the environment, macro, interface, protocol, ports, ICMP type and addresses. With
 * a {@link References} it also checks that the IP sets and aliases the rule names exist.
 */
public final class RuleChecker {
    public static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9\\-_]+");
    public static final int GROUP_NAME_MAX = 18;
    public static final int IPSET_NAME_MAX = 64;
    public static final int ALIAS_NAME_MAX = 64;

    private static final Pattern IFACE = Pattern.compile("[a-zA-Z][a-zA-Z0-9_.\\-]*[a-zA-Z0-9]");
    private static final Pattern GUEST_IFACE = Pattern.compile("net\\d+");
    private static final Pattern ACTION = Pattern.compile("ACCEPT|DROP|REJECT");
    private static final Pattern PORT_NAME = Pattern.compile("[a-zA-Z][a-zA-Z0-9\\-+_]*");
    private static final Pattern IPSET_REF = Pattern.compile("\\+(guest/|dc/|sdn/)?(" + NAME.pattern() + ")");
    private static final Pattern ALIAS_REF = Pattern.compile("(guest/|dc/)?(" + NAME.pattern() + ")");
    private static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:]*:[0-9a-fA-F:.]*");

    private static final Set<String> PORT_PROTOCOLS = Set.of("tcp", "6", "udp", "17", "udplite", "136", "dccp", "33", "sctp", "132");
    private static final Set<String> ICMP4 = Set.of("icmp", "1");
    private static final Set<String> ICMP6 = Set.of("icmpv6", "ipv6-icmp", "58");
    /** Protocol names of /etc/protocols (netbase) that a rule may use instead of the number. */
    private static final Set<String> PROTOCOLS = Set.of("ip", "hopopt", "icmp", "igmp", "ggp", "ipencap", "st", "tcp", "egp",
            "igp", "pup", "udp", "hmp", "xns-idp", "rdp", "iso-tp4", "dccp", "xtp", "ddp", "idpr-cmtp", "ipv6", "ipv6-route",
            "ipv6-frag", "idrp", "rsvp", "gre", "esp", "ah", "skip", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "rspf",
            "vmtp", "eigrp", "ospf", "ax.25", "ipip", "etherip", "encap", "pim", "ipcomp", "vrrp", "l2tp", "isis", "sctp", "fc",
            "mobility-header", "udplite", "mpls-in-ip", "manet", "hip", "shim6", "wesp", "rohc", "ethernet");
    /** ICMP type names for IPv4, as iptables and Proxmox know them. */
    public static final Set<String> ICMP_TYPES = Set.of("any", "echo-reply", "destination-unreachable", "network-unreachable",
            "host-unreachable", "protocol-unreachable", "port-unreachable", "fragmentation-needed", "source-route-failed",
            "network-unknown", "host-unknown", "network-prohibited", "host-prohibited", "TOS-network-unreachable",
            "TOS-host-unreachable", "communication-prohibited", "host-precedence-violation", "precedence-cutoff",
            "source-quench", "redirect", "network-redirect", "host-redirect", "TOS-network-redirect", "TOS-host-redirect",
            "echo-request", "router-advertisement", "router-solicitation", "time-exceeded", "ttl-zero-during-transit",
            "ttl-zero-during-reassembly", "parameter-problem", "ip-header-bad", "required-option-missing",
            "timestamp-request", "timestamp-reply", "address-mask-request", "address-mask-reply");
    /** ICMPv6 type names. */
    public static final Set<String> ICMPV6_TYPES = Set.of("destination-unreachable", "no-route", "communication-prohibited",
            "beyond-scope", "address-unreachable", "port-unreachable", "failed-policy", "reject-route", "packet-too-big",
            "time-exceeded", "ttl-zero-during-transit", "ttl-zero-during-reassembly", "parameter-problem", "bad-header",
            "unknown-header-type", "unknown-option", "echo-request", "echo-reply", "router-solicitation",
            "router-advertisement", "neighbor-solicitation", "neighbour-solicitation", "neighbor-advertisement",
            "neighbour-advertisement", "redirect");

    /** The IP sets and aliases a rule may name: the cluster's and, for a guest, its own. */
    public record References(FwConfig cluster, Optional<FwConfig> local) {
        boolean hasIpSet(String scope, String name) {
            boolean inLocal = local.flatMap(l -> l.ipset(name)).isPresent();
            boolean inCluster = cluster.ipset(name).isPresent();
            return switch (scope) {
                case "dc/" -> inCluster;
                case "guest/" -> inLocal;
                default -> inLocal || inCluster;
            };
        }

        Optional<Alias> alias(String scope, String name) {
            Optional<Alias> inLocal = scope.equals("dc/") ? Optional.empty() : local.flatMap(l -> l.alias(name));
            return inLocal.isPresent() || scope.equals("guest/") ? inLocal : cluster.alias(name);
        }
    }

    private RuleChecker() {}

    /** Problems of the rule by parameter name; empty when Proxmox would accept it. */
    public static Map<String, String> check(FwRule rule, RuleEnv env, Optional<References> refs) {
        Map<String, String> errors = new LinkedHashMap<>();
        if (!env.allows(rule.type())) {
            errors.put("type", "invalid rule type '" + rule.type().apiName() + "' for rule_env '" + env.name().toLowerCase() + "'");
        }
        if (rule.type() == RuleType.GROUP) {
            if (!NAME.matcher(rule.action()).matches() || rule.action().length() > GROUP_NAME_MAX) {
                errors.put("action", "invalid characters in security group name");
            }
            if (rule.macro().isPresent()) {
                errors.put("macro", "a security group rule takes no macro");
            }
            if (refs.isPresent() && refs.get().cluster().group(rule.action()).isEmpty()) {
                errors.putIfAbsent("action", "no such security group '" + rule.action() + "'");
            }
        } else {
            if (!ACTION.matcher(rule.action()).matches()) {
                errors.put("action", "unknown action '" + rule.action() + "'");
            } else if (rule.type() == RuleType.FORWARD && rule.action().equals("REJECT")) {
                errors.put("action", "cannot define REJECT rules on forward chain");
            }
        }
        rule.iface().ifPresent(iface -> {
            if (!env.allowsIface()) {
                errors.put("type", "parameter -i not allowed for this rule type");
            } else if (env.guest() && !GUEST_IFACE.matcher(iface).matches()) {
                errors.put("iface", "value does not match the regex pattern 'net\\d+'");
            } else if (iface.length() < 2 || iface.length() > 20 || !IFACE.matcher(iface).matches()) {
                errors.put("iface", "invalid network interface name '" + iface + "'");
            }
        });
        rule.macro().ifPresent(macro -> {
            if (Macros.standard().find(macro).isEmpty()) {
                errors.put("macro", "unknown macro '" + macro + "'");
            }
        });
        boolean icmp = rule.proto().map(p -> ICMP4.contains(p) || ICMP6.contains(p)).orElse(false);
        rule.proto().ifPresent(proto -> protocolError(proto).ifPresent(e -> errors.put("proto", e)));
        rule.dport().ifPresent(dport -> {
            portError(dport, icmp).ifPresent(e -> errors.put("dport", e));
            if (rule.proto().isEmpty()) {
                errors.putIfAbsent("proto", "missing property - 'dport' requires this property");
            } else if (!PORT_PROTOCOLS.contains(rule.proto().get()) && !icmp) {
                errors.putIfAbsent("dport", "protocol '" + rule.proto().get() + "' does not support ports");
            }
        });
        rule.sport().ifPresent(sport -> {
            portError(sport, false).ifPresent(e -> errors.put("sport", e));
            if (rule.proto().isEmpty()) {
                errors.putIfAbsent("proto", "missing property - 'sport' requires this property");
            } else if (!PORT_PROTOCOLS.contains(rule.proto().get())) {
                errors.putIfAbsent("sport", "protocol '" + rule.proto().get() + "' does not support ports");
            }
        });
        rule.icmpType().ifPresent(type -> {
            if (!icmp) {
                errors.putIfAbsent("proto", "missing property - 'icmp-type' requires this property");
            } else if (rule.dport().isPresent()) {
                errors.putIfAbsent("icmp-type", "'icmp-type' cannot be specified together with 'dport'");
            } else {
                String proto = rule.proto().get();
                boolean v6 = ICMP6.contains(proto);
                if (!type.matches("\\d+(/\\d+)?") && !(v6 ? ICMPV6_TYPES : ICMP_TYPES).contains(type)) {
                    errors.put("icmp-type", "invalid icmp-type '" + type + "' for proto '" + proto + "'");
                }
            }
        });
        int[] version = {0};
        String[] mixed = {null};
        for (String name : new String[] {"source", "dest"}) {
            Optional<String> value = name.equals("source") ? rule.source() : rule.dest();
            value.ifPresent(v -> {
                try {
                    int ipVersion = addressVersion(v, refs);
                    if (ipVersion != 0 && version[0] != 0 && ipVersion != version[0]) {
                        mixed[0] = name;
                    }
                    version[0] = ipVersion == 0 ? version[0] : ipVersion;
                } catch (IllegalArgumentException e) {
                    errors.put(name, e.getMessage());
                }
            });
        }
        if (mixed[0] != null) {
            errors.putIfAbsent(mixed[0], "detected mixed ipv4/ipv6 addresses in rule");
        }
        rule.proto().filter(p -> version[0] != 0 && (version[0] == 4 ? ICMP6 : ICMP4).contains(p)).ifPresent(p ->
                errors.putIfAbsent("proto", "detected mixed ipv4/ipv6 addresses in rule"));
        return errors;
    }

    private static Optional<String> protocolError(String proto) {
        if (proto.matches("\\d+")) {
            return proto.length() <= 3 && Integer.parseInt(proto) <= 255 ? Optional.empty()
                    : Optional.of("invalid protocol number '" + proto + "'");
        }
        return PROTOCOLS.contains(proto) ? Optional.empty() : Optional.of("unknown protocol '" + proto + "'");
    }

    /** A comma list of ports, {@code from:to} ranges or service names; for ICMP a type. */
    private static Optional<String> portError(String spec, boolean icmp) {
        if (icmp) {
            return spec.matches("[A-Za-z0-9\\-/]+") ? Optional.empty() : Optional.of("invalid icmp-type '" + spec + "'");
        }
        if (spec.isEmpty() || spec.startsWith(",") || spec.endsWith(",")) {
            return Optional.of("invalid port '" + spec + "'");
        }
        int count = 0;
        for (String item : spec.split(",")) {
            String[] range = item.split(":", -1);
            if (range.length > 2) {
                return Optional.of("invalid port range '" + item + "'");
            }
            long first = -1;
            for (String port : range) {
                if (port.matches("\\d+")) {
                    long number = port.length() > 5 ? 65536 : Long.parseLong(port);
                    if (number > 65535) {
                        return Optional.of("invalid port '" + port + "'");
                    }
                    if (first >= 0 && number < first) {
                        return Optional.of("invalid port range '" + item + "'");
                    }
                    first = number;
                } else if (range.length == 2 || !PORT_NAME.matcher(port).matches()) {
                    return Optional.of("invalid port '" + port + "'");
                }
            }
            count += range.length;
        }
        // iptables' multiport takes at most 15 ports, a range counting two
        return count > 15 ? Optional.of("too many entries in port list (> 15)") : Optional.empty();
    }

    /**
     * The IP version of a source or destination (0 when it can't be told), or an
     * {@link IllegalArgumentException} naming the problem.
     */
    public static int addressVersion(String value, Optional<References> refs) {
        if (value.startsWith("+")) {
            Matcher m = IPSET_REF.matcher(value);
            if (!m.matches() || m.group(2).length() > IPSET_NAME_MAX) {
                throw new IllegalArgumentException("invalid ipset name '" + value + "'");
            }
            String scope = m.group(1) == null ? "" : m.group(1);
            if (refs.isPresent() && !scope.equals("sdn/") && !refs.get().hasIpSet(scope, m.group(2))) {
                throw new IllegalArgumentException("no such ipset '" + m.group(2) + "'");
            }
            return 0;
        }
        Matcher alias = ALIAS_REF.matcher(value);
        if (alias.matches() && !value.contains(":")) {
            if (refs.isEmpty()) {
                return 0;
            }
            String scope = alias.group(1) == null ? "" : alias.group(1);
            Alias found = refs.get().alias(scope, alias.group(2))
                    .orElseThrow(() -> new IllegalArgumentException("no such alias '" + value + "'"));
            return cidrVersion(found.cidr());
        }
        int version = 0;
        for (String item : value.split(",", -1)) {
            int[] ends = item.contains("-") ? new int[] {cidrVersion(item.substring(0, item.indexOf('-'))),
                    cidrVersion(item.substring(item.indexOf('-') + 1))} : new int[] {cidrVersion(item)};
            for (int v : ends) {
                if (version != 0 && v != version) {
                    throw new IllegalArgumentException("detected mixed ipv4/ipv6 addresses in address list '" + value + "'");
                }
                version = v;
            }
        }
        return version;
    }

    /** 4 or 6 for an address with an optional prefix length; an {@link IllegalArgumentException} otherwise. */
    public static int cidrVersion(String cidr) {
        int slash = cidr.indexOf('/');
        String address = slash < 0 ? cidr : cidr.substring(0, slash);
        int version;
        if (IPV4.matcher(address).matches()) {
            version = 4;
        } else if (IPV6.matcher(address).matches() && literalV6(address)) {
            version = 6;
        } else {
            throw new IllegalArgumentException("invalid IP address: '" + cidr + "'");
        }
        if (slash >= 0) {
            String prefix = cidr.substring(slash + 1);
            if (!prefix.matches("\\d{1,3}") || Integer.parseInt(prefix) > (version == 4 ? 32 : 128)) {
                throw new IllegalArgumentException("invalid IP address: '" + cidr + "'");
            }
        }
        return version;
    }

    private static boolean literalV6(String address) {
        try {
            // a literal with ':' is parsed, never looked up in DNS
            return InetAddress.getByName(address).getAddress().length == 16;
        } catch (UnknownHostException | SecurityException e) {
            return false;
        }
    }

    /** A set or alias name: Proxmox's pattern and length. */
    public static Optional<String> nameError(String name, int max) {
        if (name.length() < 2 || name.length() > max || !NAME.matcher(name).matches()) {
            return Optional.of("invalid name '" + name + "'");
        }
        return Optional.empty();
    }
}
