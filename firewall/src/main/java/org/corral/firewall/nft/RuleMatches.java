package org.corral.firewall.nft;

import static java.util.Objects.requireNonNull;
import static org.corral.firewall.nft.Nft.meta;
import static org.corral.firewall.nft.Nft.number;
import static org.corral.firewall.nft.Nft.payload;
import static org.corral.firewall.nft.Nft.setRef;
import static org.corral.firewall.nft.Nft.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.corral.firewall.Alias;
import org.corral.firewall.FwKind;
import org.corral.firewall.FwRule;
import org.corral.firewall.IpSets;
import org.corral.firewall.Macros;
import org.corral.firewall.RuleType;
import org.corral.firewall.nft.NftCompiler.Scope;
import org.corral.firewall.nft.NftCompiler.SetInfo;
import tools.jackson.databind.JsonNode;

/**
 * The match expressions of a rule: macros expanded, protocol and service names as numbers,
 * ICMP types, ports, and sources and destinations (addresses, aliases, IP sets with their
 * nomatch members) per IP version. The verdict is the compiler's.
 */
final class RuleMatches {
    private final Services services;

    RuleMatches(Services services) {
        this.services = requireNonNull(services, "services is null");
    }

    /**
     * One match of a rule: {@code left op item} for one of its items. A slot with several items
     * becomes several rules or one rule with an anonymous set, see {@link #expand}.
     */
    record Slot(JsonNode left, String op, List<JsonNode> items) {
        JsonNode one() {
            return Nft.match(op, left, items.size() == 1 ? items.getFirst() : Nft.set(items));
        }
    }

    /**
     * Up to this many rules replace a rule's lists of ports or addresses. Each anonymous set costs
     * the kernel a scan of every set in the table when it is named, so thousands of them make a
     * load quadratic (measured here: 2,000 rules with anonymous sets load in 0.7 s, 4,000 in 3.6 s,
     * without in 0.16 s and 0.25 s); a few plain rules per list are cheaper and mean the same.
     */
    static final int EXPAND_LIMIT = 8;

    /** The rules a list of slots becomes: their cartesian product when small, else one rule with anonymous sets. */
    static List<List<JsonNode>> expand(List<Slot> slots) {
        long product = 1;
        for (Slot slot : slots) {
            product *= slot.items().size();
        }
        if (product > EXPAND_LIMIT) {
            return List.of(slots.stream().map(Slot::one).toList());
        }
        List<List<JsonNode>> rules = new ArrayList<>();
        rules.add(List.of());
        for (Slot slot : slots) {
            List<List<JsonNode>> next = new ArrayList<>();
            for (List<JsonNode> prefix : rules) {
                for (JsonNode item : slot.items()) {
                    List<JsonNode> rule = new ArrayList<>(prefix);
                    rule.add(Nft.match(slot.op(), slot.left(), item));
                    next.add(rule);
                }
            }
            rules = next;
        }
        return rules;
    }

    static Slot slot(String op, JsonNode left, JsonNode item) {
        return new Slot(left, op, List.of(item));
    }

    /**
     * The match expressions of one rule, one list per nft rule it becomes: one per macro
     * expansion and, where its addresses say so, per IP version (and short lists become
     * separate rules, see {@link #EXPAND_LIMIT}). Empty when it can never match.
     */
    List<List<JsonNode>> compile(FwRule rule, RuleType direction, Optional<String> hostIface, Scope scope,
            Map<String, SetInfo> sets) {
        List<Macros.Expansion> expansions;
        if (rule.macro().isPresent()) {
            Macros.Macro macro = Macros.standard().find(rule.macro().get())
                    .orElseThrow(() -> new IllegalArgumentException("unknown macro '" + rule.macro().get() + "'"));
            expansions = macro.expansions();
        } else {
            expansions = List.of(new Macros.Expansion(Macros.PARAM, rule.proto(), rule.dport(), rule.sport(), rule.icmpType()));
        }
        Map<Integer, List<Slot>> source = rule.source().map(s -> addressMatch(s, "saddr", scope, sets)).orElse(null);
        Map<Integer, List<Slot>> dest = rule.dest().map(d -> addressMatch(d, "daddr", scope, sets)).orElse(null);
        List<List<JsonNode>> out = new ArrayList<>();
        for (Macros.Expansion x : expansions) {
            if (!x.action().equals(Macros.PARAM) && !x.action().equals(rule.action())) {
                // an expansion with an action of its own is a separate rule in Proxmox's macros; none of the 84 has one
                continue;
            }
            Optional<String> proto = x.proto().or(rule::proto);
            Optional<String> dport = x.dport().or(rule::dport);
            Optional<String> sport = x.sport().or(rule::sport);
            Optional<String> icmpType = x.icmpType().or(rule::icmpType);
            List<Slot> l4 = new ArrayList<>();
            int protoVersion = 0;
            if (hostIface.isPresent()) {
                l4.add(slot("==", meta(direction == RuleType.OUT ? "oifname" : "iifname"), text(hostIface.get())));
            }
            if (proto.isPresent()) {
                int number = services.protocol(proto.get());
                if (number == 1) {
                    protoVersion = 4;
                } else if (number == 58) {
                    protoVersion = 6;
                }
                boolean icmp = number == 1 || number == 58;
                String l4name = switch (number) {
                    case 6 -> "tcp";
                    case 17 -> "udp";
                    case 136 -> "udplite";
                    case 33 -> "dccp";
                    case 132 -> "sctp";
                    default -> null;
                };
                if (icmp) {
                    String type = icmpType.or(() -> dport).orElse("any");
                    if (!type.equals("any")) {
                        int[] typeCode = IcmpTypes.lookup(type, number == 58);
                        String field = number == 58 ? "icmpv6" : "icmp";
                        l4.add(slot("==", payload(field, "type"), number(typeCode[0])));
                        if (typeCode[1] >= 0) {
                            l4.add(slot("==", payload(field, "code"), number(typeCode[1])));
                        }
                    } else {
                        l4.add(slot("==", meta("l4proto"), number(number)));
                    }
                } else {
                    l4.add(slot("==", meta("l4proto"), number(number)));
                    if (dport.isPresent() || sport.isPresent()) {
                        if (l4name == null) {
                            throw new IllegalArgumentException("protocol '" + proto.get() + "' does not support ports");
                        }
                        sport.ifPresent(p -> l4.add(new Slot(payload(l4name, "sport"), "==", ports(p, l4name))));
                        dport.ifPresent(p -> l4.add(new Slot(payload(l4name, "dport"), "==", ports(p, l4name))));
                    }
                }
            } else if (dport.isPresent() || sport.isPresent()) {
                throw new IllegalArgumentException("ports need a protocol");
            }
            for (int version : List.of(4, 6)) {
                if (protoVersion != 0 && protoVersion != version) {
                    continue;
                }
                if ((source != null && !source.containsKey(version)) || (dest != null && !dest.containsKey(version))) {
                    continue;
                }
                boolean anyAddress = source == null && dest == null;
                if (anyAddress && protoVersion == 0 && version == 6) {
                    // no address and no ICMP: one rule covers both versions
                    continue;
                }
                List<Slot> slots = new ArrayList<>();
                if (source != null) {
                    slots.addAll(source.get(version));
                }
                if (dest != null) {
                    slots.addAll(dest.get(version));
                }
                slots.addAll(l4);
                out.addAll(expand(slots));
            }
        }
        return out;
    }

    private List<JsonNode> ports(String spec, String protocol) {
        List<JsonNode> items = new ArrayList<>();
        for (String item : spec.split(",")) {
            String[] range = item.split(":");
            if (range.length == 2) {
                items.add(Nft.range(number(services.port(range[0], protocol)), number(services.port(range[1], protocol))));
            } else {
                items.add(number(services.port(item, protocol)));
            }
        }
        return items;
    }

    /**
     * Match slots per IP version for a source or destination: an IP set reference, an alias,
     * or a list of addresses, networks and ranges. Versions it has no member in are absent.
     */
    static Map<Integer, List<Slot>> addressMatch(String value, String field, Scope scope, Map<String, SetInfo> sets) {
        Map<Integer, List<Slot>> out = new TreeMap<>();
        if (value.startsWith("+")) {
            String reference = value.substring(1);
            String where = "";
            if (reference.contains("/")) {
                where = reference.substring(0, reference.indexOf('/'));
                reference = reference.substring(reference.indexOf('/') + 1);
            }
            String name = reference.toLowerCase(Locale.ROOT);
            String setName = null;
            if (!where.equals("dc") && scope.guest().isPresent() && scope.guest().get().config().ipset(name).isPresent()) {
                setName = "g" + scope.guest().get().vmid() + "_" + NftCompiler.ident(name);
            } else if (!where.equals("guest") && (scope.in().cluster().ipset(name).isPresent() || IpSets.standard(
                    FwKind.CLUSTER, name))) {
                setName = "dc_" + NftCompiler.ident(name);
            }
            SetInfo info = setName == null ? null : sets.get(setName);
            if (info == null) {
                throw new IllegalArgumentException("no such ipset '" + value.substring(1) + "'");
            }
            for (int v : List.of(4, 6)) {
                if (info.members().get(v).isEmpty()) {
                    continue;
                }
                String proto = v == 4 ? "ip" : "ip6";
                List<Slot> slots = new ArrayList<>(List.of(slot("==", payload(proto, field), setRef(setName + "_v" + v))));
                if (!info.excluded().get(v).isEmpty()) {
                    slots.add(slot("!=", payload(proto, field), setRef(setName + "_v" + v + "n")));
                }
                out.put(v, slots);
            }
            return out;
        }
        String list = value;
        if (!value.matches(".*[.:].*")) {
            list = resolveAlias(scope, value).orElseThrow(() -> new IllegalArgumentException("no such alias '" + value + "'"));
        }
        Map<Integer, List<JsonNode>> elements = new TreeMap<>();
        for (String item : list.split(",")) {
            int dash = item.indexOf('-');
            Address address;
            JsonNode element;
            if (dash > 0) {
                Address from = Address.parse(item.substring(0, dash));
                Address to = Address.parse(item.substring(dash + 1));
                if (from.version() != to.version()) {
                    throw new IllegalArgumentException("mixed IP versions in range '" + item + "'");
                }
                address = from;
                element = Nft.range(text(from.address()), text(to.address()));
            } else {
                address = Address.parse(item);
                element = address.element();
            }
            elements.computeIfAbsent(address.version(), v -> new ArrayList<>()).add(element);
        }
        elements.forEach((v, items) -> out.put(v, List.of(new Slot(payload(v == 4 ? "ip" : "ip6", field), "==",
                Intervals.normalize(v, items)))));
        return out;
    }

    /** The cidr of an alias ({@code name}, {@code dc/name} or {@code guest/name}); a guest's own alias wins when unscoped. */
    static Optional<String> resolveAlias(Scope scope, String reference) {
        String name = reference;
        String where = "";
        if (reference.startsWith("dc/") || reference.startsWith("guest/")) {
            where = reference.substring(0, reference.indexOf('/'));
            name = reference.substring(reference.indexOf('/') + 1);
        }
        String key = name.toLowerCase(Locale.ROOT);
        if (!where.equals("dc") && scope.guest().isPresent()) {
            Optional<Alias> local = scope.guest().get().config().alias(key);
            if (local.isPresent() || where.equals("guest")) {
                return local.map(Alias::cidr);
            }
        }
        if (where.equals("guest")) {
            return Optional.empty();
        }
        return scope.in().clusterAliases().stream().filter(a -> a.key().equals(key)).findFirst().map(Alias::cidr);
    }
}
