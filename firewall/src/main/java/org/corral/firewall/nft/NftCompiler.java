package org.corral.firewall.nft;

import static java.util.Objects.requireNonNull;
import static org.corral.firewall.nft.Nft.and;
import static org.corral.firewall.nft.Nft.ct;
import static org.corral.firewall.nft.Nft.eq;
import static org.corral.firewall.nft.Nft.jump;
import static org.corral.firewall.nft.Nft.meta;
import static org.corral.firewall.nft.Nft.ne;
import static org.corral.firewall.nft.Nft.number;
import static org.corral.firewall.nft.Nft.or;
import static org.corral.firewall.nft.Nft.payload;
import static org.corral.firewall.nft.Nft.setRef;
import static org.corral.firewall.nft.Nft.text;
import static org.corral.firewall.nft.Nft.verdict;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.corral.firewall.Alias;
import org.corral.firewall.FwConfig;
import org.corral.firewall.FwRule;
import org.corral.firewall.IpSet;
import org.corral.firewall.IpSetEntry;
import org.corral.firewall.IpSets;
import org.corral.firewall.RuleType;
import org.corral.firewall.SecurityGroup;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Compiles the three tiers (datacenter, host, guests) into one nftables JSON batch for
 * {@code nft -j -f -} that deletes and recreates Corral's own two tables, so that applying it is
 * atomic: either the whole new ruleset is in force or, if nft refuses it, the old one still is.
 *
 * <p>The layout follows what this kernel offers: no nf_conntrack_bridge (so no {@code ct} in the
 * bridge family), no bridge reject and no bridge {@code meta ibrname/obrname}.
 * <ul>
 * <li>{@code bridge corral}: stateless layer-2 checks of each guest port (MAC filter, ipfilter
 * anti-spoofing for IPv4, IPv6 and ARP), the guests' in-chains, and the packet mark that carries
 * the guest port into the inet family: bits 0-15 the port a frame came in on, bits 16-29 the
 * port it leaves by. Measured in a network namespace on this kernel: for a bridged packet seen
 * through br_netfilter the inet hooks see {@code iifname}/{@code oifname} as the bridge
 * ({@code br0}), never the port, so the mark is the only way to tell ports apart there; a mark
 * set in the bridge family's prerouting and forward hooks (priority -300, before br_netfilter's
 * own hooks) is seen by inet.
 * <li>{@code inet corral}: the stateful part through br_netfilter: conntrack
 * established/related, the host's input/output/forward, the guests' out-chains chosen by the
 * mark, and REJECT (tcp reset or ICMP), which works on bridged packets there.
 * <li>A guest's in-chain runs in the bridge family, once for every path to the guest: the bridge
 * forward hook for bridged frames, the bridge output hook for packets from the host or routed to
 * it (no inet hook comes after the bridge picks the port for those). {@code ct} is refused in the
 * bridge family here, so inet's prerouting and output chains flag the first packet of each
 * connection (ct state new) with mark bit 31 and the in-chains run on flagged packets only: still
 * stateful. A REJECT there sets bit 30 and returns; inet's forward chain (br_netfilter runs it
 * after the bridge forward hook) rejects the bridged packet, the bridge output hook drops the rest.
 * </ul>
 * Corral owns the packet mark of traffic that crosses a bridge with a firewalled guest port.
 */
public final class NftCompiler {
    public static final String TABLE = "corral";
    static final long IN_PORT_MASK = 0xffffL;
    static final long OUT_PORT_MASK = 0x3fff0000L;
    static final long NEW_BIT = 0x80000000L;
    static final long REJECT_BIT = 0x40000000L;
    static final int MAX_PORTS = 0x3fff;
    /** The NFLOG group Corral logs to. */
    public static final int LOG_GROUP = 0;
    private static final String INET = "inet";
    private static final String BRIDGE = "bridge";
    private static final List<String> LOG_OFF = List.of("nolog");
    /** Not "reject": that is a keyword in nft's text syntax, whose listing must load with nft -f too. */
    static final String REJECT_CHAIN = "do_reject";

    private final RuleMatches matches;

    public NftCompiler(Services services) {
        this.matches = new RuleMatches(requireNonNull(services, "services is null"));
    }

    /**
     * The compiled ruleset: the batch that replaces Corral's tables, and the same content by
     * name (chains with their rules, sets) so that a later ruleset can be applied as a delta.
     */
    public record Compiled(boolean enabled, ObjectNode batch, int rules, List<String> warnings, Map<String, ObjectNode> chains,
            Map<String, List<ObjectNode>> chainRules, Map<String, ObjectNode> sets) {
        public Compiled {
            requireNonNull(batch, "batch is null");
            warnings = List.copyOf(warnings);
            chains = Map.copyOf(chains);
            chainRules = Map.copyOf(chainRules);
            sets = Map.copyOf(sets);
        }

        public String json() {
            return batch.toString();
        }

        /** Whether any guest port is filtered: then bridged traffic must pass the inet hooks (br_netfilter). */
        public boolean filtersGuests() {
            return chains.keySet().stream().anyMatch(k -> k.startsWith(BRIDGE + "/mark_"));
        }

        /**
         * A batch that turns {@code previous} (applied) into this ruleset by flushing and refilling
         * only the chains and sets that differ; empty when the tables' layout (chain or set names,
         * hooks, types) changed and the whole batch must be loaded. Still one atomic transaction.
         */
        public Optional<ObjectNode> deltaFrom(Compiled previous) {
            if (!enabled || !previous.enabled() || !chains.equals(previous.chains())
                    || !setShapes(sets).equals(setShapes(previous.sets()))) {
                return Optional.empty();
            }
            ArrayNode commands = Nft.array();
            sets.forEach((key, set) -> {
                if (!set.equals(previous.sets().get(key))) {
                    ObjectNode id = Nft.object().put("family", set.get("family").asString()).put("table", TABLE)
                            .put("name", set.get("name").asString());
                    commands.addObject().putObject("flush").set("set", id);
                    if (set.has("elem")) {
                        ObjectNode element = id.deepCopy();
                        element.set("elem", set.get("elem"));
                        commands.addObject().putObject("add").set("element", element);
                    }
                }
            });
            chainRules.forEach((key, rules) -> {
                if (!rules.equals(previous.chainRules().get(key))) {
                    ObjectNode chain = chains.get(key);
                    ObjectNode id = Nft.object().put("family", chain.get("family").asString()).put("table", TABLE)
                            .put("name", chain.get("name").asString());
                    commands.addObject().putObject("flush").set("chain", id);
                    rules.forEach(rule -> commands.addObject().putObject("add").set("rule", rule));
                }
            });
            ObjectNode batch = Nft.object();
            batch.set("nftables", commands);
            return Optional.of(batch);
        }

        private static Map<String, String> setShapes(Map<String, ObjectNode> sets) {
            Map<String, String> shapes = new TreeMap<>();
            sets.forEach((key, set) -> shapes.put(key, set.get("type").asString()));
            return shapes;
        }
    }

    /** A firewalled guest port with its number in the packet mark. */
    record Port(Guest guest, GuestNic nic, int id) {
        String name() {
            return nic.port();
        }
    }

    /** Where names in a rule are looked up: the cluster and, for a guest's rules, the guest. */
    record Scope(FirewallInputs in, Optional<Guest> guest) {}

    /** How a chain ends a rule: the statements ACCEPT and REJECT become in it. */
    record Verdicts(ObjectNode accept, List<JsonNode> reject) {}

    /** REJECT in the inet family. */
    static List<JsonNode> rejectHere() {
        return List.of(jump(REJECT_CHAIN));
    }

    /**
     * REJECT in a guest's in-chain (bridge family, which can't reject on this kernel): mark the
     * packet and return; a bridged packet is then rejected by inet's forward chain, one from the
     * host or routed in (bridge output, after every inet hook) is dropped.
     */
    static List<JsonNode> rejectLater() {
        return List.of(Nft.setMark(or(meta("mark"), REJECT_BIT)), verdict("return"));
    }

    private final class Build {
        final FirewallInputs in;
        final List<String> warnings = new ArrayList<>();
        final Map<String, SetInfo> sets = new LinkedHashMap<>();
        final Map<String, ObjectNode> chainDefs = new LinkedHashMap<>();
        final Map<String, List<ObjectNode>> chainRules = new LinkedHashMap<>();
        final Map<String, ObjectNode> setDefs = new LinkedHashMap<>();
        final Map<ChainKey, CachedChain> usedChains = new java.util.HashMap<>();
        int rules;

        Build(FirewallInputs in) {
            this.in = in;
        }

        void chain(String family, String name, String hook, int priority, String policy) {
            ObjectNode chain = Nft.object().put("family", family).put("table", TABLE).put("name", name);
            if (hook != null) {
                chain.put("type", "filter").put("hook", hook).put("prio", priority).put("policy", policy);
            }
            chainDefs.put(family + "/" + name, chain);
            chainRules.put(family + "/" + name, new ArrayList<>());
        }

        void rule(String family, String chain, List<JsonNode> expr, String comment) {
            ObjectNode rule = Nft.object().put("family", family).put("table", TABLE).put("chain", chain);
            ArrayNode list = rule.putArray("expr");
            expr.forEach(list::add);
            if (comment != null && !comment.isEmpty()) {
                rule.put("comment", comment.length() > 120 ? comment.substring(0, 120) : comment);
            }
            chainRules.get(family + "/" + chain).add(rule);
            rules++;
        }

        void rule(String family, String chain, JsonNode... expr) {
            rule(family, chain, List.of(expr), null);
        }

        void set(String family, String name, String type, List<JsonNode> elements) {
            ObjectNode set = Nft.object().put("family", family).put("table", TABLE).put("name", name).put("type", type);
            set.putArray("flags").add("interval");
            set.put("auto-merge", true);
            if (!elements.isEmpty()) {
                ArrayNode elem = set.putArray("elem");
                Intervals.normalize(type.equals("ipv4_addr") ? 4 : 6, elements).forEach(elem::add);
            }
            setDefs.put(family + "/" + name, set);
        }

        /** Delete-and-recreate of both tables, then sets, chains and rules: one transaction. */
        Compiled compiled(boolean enabled) {
            ArrayNode commands = Nft.array();
            for (String family : List.of(INET, BRIDGE)) {
                ObjectNode table = Nft.object().put("family", family).put("name", TABLE);
                // adding first makes the delete succeed when the table is not there yet
                commands.addObject().putObject("add").set("table", table);
                commands.addObject().putObject("delete").set("table", table.deepCopy());
            }
            if (enabled) {
                for (String family : List.of(INET, BRIDGE)) {
                    commands.addObject().putObject("add").set("table", Nft.object().put("family", family).put("name", TABLE));
                }
                setDefs.values().forEach(set -> commands.addObject().putObject("add").set("set", set));
                chainDefs.values().forEach(chain -> commands.addObject().putObject("add").set("chain", chain));
                chainRules.values().forEach(list -> list.forEach(rule -> commands.addObject().putObject("add").set("rule", rule)));
            }
            ObjectNode batch = Nft.object();
            batch.set("nftables", commands);
            return new Compiled(enabled, batch, enabled ? rules : 0, warnings, chainDefs, chainRules, setDefs);
        }
    }

    /** The address families a named IP set has members (and excluded members) in. */
    record SetInfo(String name, Map<Integer, List<JsonNode>> members, Map<Integer, List<JsonNode>> excluded) {}

    public synchronized Compiled compile(FirewallInputs in) {
        Build b = new Build(in);
        if (intOption(in.cluster(), "enable", 0) == 0) {
            // deleting the tables is the whole batch: a disabled firewall leaves no rules behind
            return b.compiled(false);
        }
        List<Port> ports = ports(in, b);
        declareSets(b, ports);
        inet(b, ports);
        bridge(b, ports);
        // keep what this compile used: an edit of one guest finds the other guests' chains here
        guestChains = b.usedChains;
        return b.compiled(true);
    }

    /** What a guest chain is compiled from; equal keys give equal rules. */
    record ChainKey(String family, RuleType direction, int portId, Guest guest, int nic, FwConfig cluster, List<Alias> aliases) {}

    /** A guest chain as compiled: its rules (shared between compiles, so that unchanged chains compare by identity) and warnings. */
    record CachedChain(List<ObjectNode> rules, List<String> warnings) {}

    private Map<ChainKey, CachedChain> guestChains = Map.of();

    // ---- ports and sets ----

    private static List<Port> ports(FirewallInputs in, Build b) {
        List<Port> ports = new ArrayList<>();
        in.guests().stream().sorted((x, y) -> Integer.compare(x.vmid(), y.vmid())).forEach(guest -> {
            if (intOption(guest.config(), "enable", 0) == 0) {
                return;
            }
            for (GuestNic nic : guest.nics()) {
                if (!nic.firewall()) {
                    continue;
                }
                if (ports.size() == MAX_PORTS) {
                    b.warnings.add("more than " + MAX_PORTS + " firewalled guest ports; " + nic.port() + " is not filtered");
                    continue;
                }
                ports.add(new Port(guest, nic, ports.size() + 1));
            }
        });
        return ports;
    }

    private void declareSets(Build b, List<Port> ports) {
        FirewallInputs in = b.in;
        Scope dc = new Scope(in, Optional.empty());
        Map<String, IpSet> clusterSets = new TreeMap<>();
        in.cluster().ipsets().forEach(s -> clusterSets.put(s.name(), s));
        clusterSets.putIfAbsent(IpSets.BLACKLIST, new IpSet(IpSets.BLACKLIST, Optional.empty(), List.of()));
        IpSet management = clusterSets.getOrDefault(IpSets.MANAGEMENT, new IpSet(IpSets.MANAGEMENT, Optional.empty(), List.of()));
        List<IpSetEntry> withLocal = new ArrayList<>(management.entries());
        // local_network is implicitly in the management set, so a fresh firewall can't lock the cluster out
        RuleMatches.resolveAlias(dc, IpSets.LOCAL_NETWORK).ifPresent(cidr -> withLocal.add(new IpSetEntry(cidr, false, Optional.empty())));
        clusterSets.put(IpSets.MANAGEMENT, new IpSet(IpSets.MANAGEMENT, management.comment(), withLocal));
        for (IpSet set : clusterSets.values()) {
            declare(b, "dc_" + ident(set.name()), set, dc);
        }
        Set<Integer> seen = new LinkedHashSet<>();
        for (Port port : ports) {
            Guest guest = port.guest();
            if (seen.add(guest.vmid())) {
                Scope scope = new Scope(in, Optional.of(guest));
                for (IpSet set : guest.config().ipsets()) {
                    declare(b, "g" + guest.vmid() + "_" + ident(set.name()), set, scope);
                }
            }
        }
    }

    private void declare(Build b, String name, IpSet set, Scope scope) {
        Map<Integer, List<JsonNode>> members = new TreeMap<>(Map.of(4, new ArrayList<>(), 6, new ArrayList<>()));
        Map<Integer, List<JsonNode>> excluded = new TreeMap<>(Map.of(4, new ArrayList<>(), 6, new ArrayList<>()));
        for (IpSetEntry entry : set.entries()) {
            String cidr = entry.cidr();
            if (!cidr.matches("[0-9a-fA-F:.]+(/\\d+)?") || !cidr.matches(".*[.:].*")) {
                Optional<String> alias = RuleMatches.resolveAlias(scope, cidr);
                if (alias.isEmpty()) {
                    b.warnings.add("ipset " + set.name() + ": no such alias '" + cidr + "', entry skipped");
                    continue;
                }
                cidr = alias.get();
            }
            try {
                Address address = Address.parse(cidr);
                (entry.nomatch() ? excluded : members).get(address.version()).add(address.element());
            } catch (IllegalArgumentException e) {
                b.warnings.add("ipset " + set.name() + ": " + e.getMessage() + ", entry skipped");
            }
        }
        SetInfo info = new SetInfo(name, members, excluded);
        b.sets.put(name, info);
        for (String family : List.of(INET, BRIDGE)) {
            for (int v : List.of(4, 6)) {
                b.set(family, name + "_v" + v, v == 4 ? "ipv4_addr" : "ipv6_addr", members.get(v));
                b.set(family, name + "_v" + v + "n", v == 4 ? "ipv4_addr" : "ipv6_addr", excluded.get(v));
            }
        }
    }

    // ---- the inet table ----

    private void inet(Build b, List<Port> ports) {
        FirewallInputs in = b.in;
        FwConfig cluster = in.cluster();
        FwConfig host = in.host();
        b.chain(INET, REJECT_CHAIN, null, 0, null);
        b.rule(INET, REJECT_CHAIN, eq(meta("l4proto"), text("tcp")), Nft.reject("tcp reset", null));
        b.rule(INET, REJECT_CHAIN, eq(meta("l4proto"), text("udp")), Nft.reject("icmpx", "port-unreachable"));
        b.rule(INET, REJECT_CHAIN, Nft.reject("icmpx", "admin-prohibited"));
        for (Port port : ports) {
            guestChain(b, INET, port, RuleType.OUT);
        }
        boolean hostOn = intOption(host, "enable", 1) != 0;
        boolean allowInvalid = intOption(host, "nf_conntrack_allow_invalid", 0) != 0;

        // bridged packets pass here too (br_netfilter, after conntrack at -200): the first packet
        // of a connection carries bit 31 into the bridge forward hook, where guests' in-chains run
        b.chain(INET, "prerouting", "prerouting", -150, "accept");
        b.rule(INET, "prerouting", eq(ct("state"), text("new")), Nft.setMark(or(meta("mark"), NEW_BIT)));

        b.chain(INET, "input", "input", 0, "accept");
        b.rule(INET, "input", eq(meta("iifname"), text("lo")), verdict("accept"));
        b.rule(INET, "input", Nft.match("in", ct("state"), stateList("established", "related")), verdict("accept"));
        if (!allowInvalid) {
            b.rule(INET, "input", eq(ct("state"), text("invalid")), verdict("drop"));
        }
        blacklist(b, "input");
        if (intOption(host, "nosmurfs", 1) != 0) {
            b.rule(INET, "input", eq(payload("ip", "saddr"), Nft.prefix("224.0.0.0", 4)), verdict("drop"));
        }
        if (intOption(host, "tcpflags", 0) != 0) {
            tcpFlags(b, "input");
        }
        portJumps(b, "input", ports);
        if (hostOn) {
            management(b);
            if (intOption(host, "ndp", 1) != 0) {
                b.rule(INET, "input", eq(payload("icmpv6", "type"), Nft.set(List.of(text("nd-router-solicit"),
                        text("nd-router-advert"), text("nd-neighbor-solicit"), text("nd-neighbor-advert")))), verdict("accept"));
            }
            b.rule(INET, "input", eq(meta("l4proto"), text("igmp")), verdict("accept"));
            Verdicts v = new Verdicts(verdict("accept"), rejectHere());
            Scope dc = new Scope(in, Optional.empty());
            tier(b, INET, "input", RuleType.IN, host.rules(), dc, v, "host.fw", Optional.empty());
            tier(b, INET, "input", RuleType.IN, cluster.rules(), dc, v, "cluster.fw", Optional.empty());
            policy(b, INET, "input", option(cluster, "policy_in", "DROP"), option(host, "log_level_in", "nolog"), "host-in", rejectHere());
        }

        b.chain(INET, "output", "output", 0, "accept");
        // the first packet of a connection carries bit 31 into the bridge family, see the class comment
        b.rule(INET, "output", eq(ct("state"), text("new")), Nft.setMark(or(meta("mark"), NEW_BIT)));
        b.rule(INET, "output", eq(meta("oifname"), text("lo")), verdict("accept"));
        b.rule(INET, "output", Nft.match("in", ct("state"), stateList("established", "related")), verdict("accept"));
        if (!allowInvalid) {
            b.rule(INET, "output", eq(ct("state"), text("invalid")), verdict("drop"));
        }
        if (hostOn) {
            if (intOption(host, "ndp", 1) != 0) {
                // the host's own neighbor discovery: without it a policy_out DROP cuts its IPv6 off its networks
                b.rule(INET, "output", eq(payload("icmpv6", "type"), Nft.set(List.of(text("nd-router-solicit"),
                        text("nd-neighbor-solicit"), text("nd-neighbor-advert")))), verdict("accept"));
            }
            Verdicts v = new Verdicts(verdict("accept"), rejectHere());
            Scope dc = new Scope(in, Optional.empty());
            tier(b, INET, "output", RuleType.OUT, host.rules(), dc, v, "host.fw", Optional.empty());
            tier(b, INET, "output", RuleType.OUT, cluster.rules(), dc, v, "cluster.fw", Optional.empty());
            policy(b, INET, "output", option(cluster, "policy_out", "ACCEPT"), option(host, "log_level_out", "nolog"), "host-out", rejectHere());
        }

        b.chain(INET, "forward", "forward", 0, "accept");
        // a guest's in-chain (bridge forward, before this hook) asked for a reject
        b.rule(INET, "forward", ne(and(meta("mark"), REJECT_BIT), number(0)), jump(REJECT_CHAIN));
        b.rule(INET, "forward", Nft.match("in", ct("state"), stateList("established", "related")), verdict("accept"));
        if (!allowInvalid) {
            b.rule(INET, "forward", eq(ct("state"), text("invalid")), verdict("drop"));
        }
        blacklist(b, "forward");
        portJumps(b, "forward", ports);
        if (!ports.isEmpty()) {
            // guest traffic passed its guests' chains; the forward tier is for the rest
            b.rule(INET, "forward", ne(and(meta("mark"), IN_PORT_MASK | OUT_PORT_MASK), number(0)), verdict("accept"));
        }
        if (hostOn) {
            Verdicts v = new Verdicts(verdict("accept"), List.of(verdict("drop")));
            Scope dc = new Scope(in, Optional.empty());
            tier(b, INET, "forward", RuleType.FORWARD, host.rules(), dc, v, "host.fw", Optional.empty());
            tier(b, INET, "forward", RuleType.FORWARD, cluster.rules(), dc, v, "cluster.fw", Optional.empty());
            policy(b, INET, "forward", option(cluster, "policy_forward", "ACCEPT"), option(host, "log_level_forward", "nolog"),
                    "forward", List.of(verdict("drop")));
        }
    }

    private static JsonNode stateList(String... states) {
        ArrayNode list = Nft.array();
        for (String state : states) {
            list.add(state);
        }
        return list;
    }

    private void blacklist(Build b, String chain) {
        SetInfo info = b.sets.get("dc_" + IpSets.BLACKLIST);
        for (int v : List.of(4, 6)) {
            if (!info.members().get(v).isEmpty()) {
                String proto = v == 4 ? "ip" : "ip6";
                List<JsonNode> expr = new ArrayList<>(List.of(eq(payload(proto, "saddr"), setRef(info.name() + "_v" + v))));
                if (!info.excluded().get(v).isEmpty()) {
                    expr.add(ne(payload(proto, "saddr"), setRef(info.name() + "_v" + v + "n")));
                }
                expr.add(verdict("drop"));
                b.rule(INET, chain, expr, "cluster.fw blacklist");
            }
        }
    }

    private void management(Build b) {
        SetInfo info = b.sets.get("dc_" + IpSets.MANAGEMENT);
        List<JsonNode> ports = new ArrayList<>();
        new TreeMap<Integer, Boolean>(b.in.managementPorts().stream().collect(
                java.util.stream.Collectors.toMap(p -> p, p -> true, (x, y) -> x))).keySet().forEach(p -> ports.add(number(p)));
        ports.add(Nft.range(number(5900), number(5999)));
        ports.add(Nft.range(number(60000), number(60050)));
        for (int v : List.of(4, 6)) {
            if (info.members().get(v).isEmpty()) {
                continue;
            }
            String proto = v == 4 ? "ip" : "ip6";
            List<JsonNode> expr = new ArrayList<>(List.of(eq(payload(proto, "saddr"), setRef(info.name() + "_v" + v))));
            if (!info.excluded().get(v).isEmpty()) {
                expr.add(ne(payload(proto, "saddr"), setRef(info.name() + "_v" + v + "n")));
            }
            expr.add(eq(payload("tcp", "dport"), Nft.set(ports)));
            expr.add(verdict("accept"));
            // before the host's own rules: the management set is always allowed
            b.rule(INET, "input", expr, "cluster.fw management");
        }
    }

    private static void tcpFlags(Build b, String chain) {
        String[][] bad = {{"fin", "syn"}, {"syn", "rst"}, {"fin", "rst"}};
        for (String[] pair : bad) {
            ArrayNode flags = Nft.array().add(pair[0]).add(pair[1]);
            ObjectNode masked = Nft.object();
            masked.putArray("&").add(payload("tcp", "flags")).add(flags);
            b.rule(INET, chain, eq(masked, flags.deepCopy()), verdict("drop"));
        }
    }

    /** {@code meta mark & 0xffff vmap { id : jump <port>_out }}: the out-chain of the port a packet came in on. */
    private static void portJumps(Build b, String chain, List<Port> ports) {
        if (ports.isEmpty()) {
            return;
        }
        List<JsonNode[]> entries = new ArrayList<>();
        for (Port port : ports) {
            entries.add(new JsonNode[] {number(port.id()), jump(guestChainName(port, RuleType.OUT))});
        }
        b.rule(INET, chain, Nft.vmap(and(meta("mark"), IN_PORT_MASK), entries));
    }

    static String guestChainName(Port port, RuleType direction) {
        return port.name() + (direction == RuleType.IN ? "_in" : "_out");
    }

    /** A guest port's out-chain (inet) or in-chain (bridge, where a REJECT is handed on by a mark bit). */
    private void guestChain(Build b, String family, Port port, RuleType direction) {
        String chain = guestChainName(port, direction);
        b.chain(family, chain, null, 0, null);
        ChainKey key = new ChainKey(family, direction, port.id(), port.guest(), port.nic().index(), b.in.cluster(),
                b.in.clusterAliases());
        CachedChain cached = guestChains.get(key);
        if (cached == null) {
            int warnings = b.warnings.size();
            guestRules(b, family, port, direction, chain);
            cached = new CachedChain(List.copyOf(b.chainRules.get(family + "/" + chain)),
                    List.copyOf(b.warnings.subList(warnings, b.warnings.size())));
        } else {
            b.chainRules.get(family + "/" + chain).addAll(cached.rules());
            b.rules += cached.rules().size();
            b.warnings.addAll(cached.warnings());
        }
        b.usedChains.put(key, cached);
    }

    private void guestRules(Build b, String family, Port port, RuleType direction, String chain) {
        FwConfig fw = port.guest().config();
        boolean out = direction == RuleType.OUT;
        ObjectNode accept = out ? verdict("return") : verdict("accept");
        if (intOption(fw, "dhcp", 0) != 0) {
            b.rule(family, chain, List.of(eq(payload("udp", "sport"), number(out ? 68 : 67)),
                    eq(payload("udp", "dport"), number(out ? 67 : 68)), accept.deepCopy()), "dhcp");
            b.rule(family, chain, List.of(eq(payload("udp", "sport"), number(out ? 546 : 547)),
                    eq(payload("udp", "dport"), number(out ? 547 : 546)), accept.deepCopy()), "dhcpv6");
        }
        if (intOption(fw, "ndp", 1) != 0) {
            for (String type : List.of("nd-router-solicit", "nd-neighbor-solicit", "nd-neighbor-advert")) {
                b.rule(family, chain, List.of(eq(payload("icmpv6", "type"), text(type)), accept.deepCopy()), "ndp");
            }
        }
        if (out) {
            // a guest may send router advertisements only with radv=1
            b.rule(family, chain, List.of(eq(payload("icmpv6", "type"), text("nd-router-advert")),
                    intOption(fw, "radv", 0) != 0 ? accept.deepCopy() : verdict("drop")), "radv");
        } else if (intOption(fw, "ndp", 1) != 0) {
            b.rule(family, chain, List.of(eq(payload("icmpv6", "type"), text("nd-router-advert")), accept.deepCopy()), "ndp");
        }
        Scope scope = new Scope(b.in, Optional.of(port.guest()));
        Verdicts v = new Verdicts(accept, family.equals(INET) ? rejectHere() : rejectLater());
        tier(b, family, chain, direction, fw.rules(), scope, v, port.guest().vmid() + ".fw", Optional.of(port.nic().index()));
        String policy = option(fw, out ? "policy_out" : "policy_in", out ? "ACCEPT" : "DROP");
        String logLevel = option(fw, out ? "log_level_out" : "log_level_in", "nolog");
        policy(b, family, chain, policy.equals("ACCEPT") && out ? "RETURN" : policy, logLevel,
                port.guest().vmid() + "-" + port.name() + (out ? "-out" : "-in"), v.reject());
    }

    private static void policy(Build b, String family, String chain, String policy, String logLevel, String what,
            List<JsonNode> reject) {
        if (!LOG_OFF.contains(logLevel.toLowerCase(Locale.ROOT)) && !policy.equals("ACCEPT") && !policy.equals("RETURN")) {
            b.rule(family, chain, List.of(Nft.log(":" + what + ":" + logLevel + ": policy " + policy + ": ", LOG_GROUP)), "log policy");
        }
        List<JsonNode> verdict = switch (policy) {
            case "ACCEPT" -> List.of(verdict("accept"));
            case "RETURN" -> List.of(verdict("return"));
            case "REJECT" -> reject;
            default -> List.of(verdict("drop"));
        };
        b.rule(family, chain, verdict, "policy " + policy);
    }

    // ---- rules ----

    /** The rules of one list for one direction, security groups expanded in place. */
    private void tier(Build b, String family, String chain, RuleType direction, List<FwRule> rules, Scope scope, Verdicts v,
            String file, Optional<Integer> nic) {
        int position = 0;
        for (FwRule rule : rules) {
            String where = file + " rule " + position++;
            if (!rule.enabled()) {
                continue;
            }
            if (rule.type() == RuleType.GROUP) {
                Optional<SecurityGroup> group = b.in.cluster().group(rule.action());
                if (group.isEmpty()) {
                    b.warnings.add(where + ": no such security group '" + rule.action() + "', skipped");
                    continue;
                }
                if (!ifaceMatches(rule, nic)) {
                    continue;
                }
                int inner = 0;
                for (FwRule member : group.get().rules()) {
                    String memberWhere = where + " group " + group.get().name() + " rule " + inner++;
                    if (member.enabled() && member.type() == direction) {
                        emit(b, family, chain, direction, member, rule.iface(), scope, v, memberWhere, nic);
                    }
                }
                continue;
            }
            if (rule.type() == direction) {
                emit(b, family, chain, direction, rule, Optional.empty(), scope, v, where, nic);
            }
        }
    }

    /** A guest rule's {@code -i netN} names the NIC whose chain it belongs to. */
    private static boolean ifaceMatches(FwRule rule, Optional<Integer> nic) {
        return nic.isEmpty() || rule.iface().isEmpty() || rule.iface().get().equals("net" + nic.get());
    }

    private void emit(Build b, String family, String chain, RuleType direction, FwRule rule, Optional<String> groupIface, Scope scope,
            Verdicts v, String where, Optional<Integer> nic) {
        Optional<String> iface = rule.iface().or(() -> groupIface);
        if (nic.isPresent() && iface.isPresent() && !iface.get().equals("net" + nic.get())) {
            return;
        }
        try {
            List<List<JsonNode>> variants = matches.compile(rule, direction, nic.isPresent() ? Optional.empty() : iface, scope, b.sets);
            for (List<JsonNode> expr : variants) {
                List<JsonNode> full = new ArrayList<>(expr);
                rule.log().filter(level -> !LOG_OFF.contains(level)).ifPresent(level ->
                        full.add(Nft.log(":" + chain + ":" + level + ": " + rule.action() + ": ", LOG_GROUP)));
                String action = rule.action();
                switch (action) {
                    case "ACCEPT" -> full.add(v.accept().deepCopy());
                    case "REJECT" -> full.addAll(v.reject());
                    default -> full.add(verdict("drop"));
                }
                b.rule(family, chain, full, where);
            }
        } catch (IllegalArgumentException e) {
            b.warnings.add(where + ": " + e.getMessage() + ", skipped");
        }
    }

    // ---- the bridge table ----

    private void bridge(Build b, List<Port> ports) {
        boolean l2 = intOption(b.in.cluster(), "ebtables", 1) != 0;
        for (Port port : ports) {
            guestChain(b, BRIDGE, port, RuleType.IN);
            String mark = "mark_" + port.name();
            b.chain(BRIDGE, mark, null, 0, null);
            b.rule(BRIDGE, mark, Nft.setMark(or(meta("mark"), (long) port.id() << 16)));
            if (l2) {
                layer2(b, port);
            }
        }
        b.chain(BRIDGE, "prerouting", "prerouting", -300, "accept");
        b.chain(BRIDGE, "forward", "forward", -300, "accept");
        b.chain(BRIDGE, "output", "output", 0, "accept");
        if (ports.isEmpty()) {
            return;
        }
        ObjectNode byPort = Nft.object();
        ObjectNode map = byPort.putObject("map");
        map.set("key", meta("iifname"));
        ArrayNode data = map.putObject("data").putArray("set");
        ports.forEach(p -> data.addArray().add(p.name()).add(p.id()));
        // the port a frame came in on, for the inet family (which sees only the bridge there)
        b.rule(BRIDGE, "prerouting", Nft.setMark(byPort));
        if (l2) {
            List<JsonNode[]> checks = new ArrayList<>();
            for (Port port : ports) {
                checks.add(new JsonNode[] {text(port.name()), jump("l2_" + port.name())});
            }
            b.rule(BRIDGE, "prerouting", Nft.vmap(meta("iifname"), checks));
        }
        List<JsonNode[]> marks = new ArrayList<>();
        List<JsonNode[]> ins = new ArrayList<>();
        for (Port port : ports) {
            marks.add(new JsonNode[] {text(port.name()), jump("mark_" + port.name())});
            ins.add(new JsonNode[] {text(port.name()), jump(guestChainName(port, RuleType.IN))});
        }
        // the port a frame leaves by; the forward hook runs per port, also for flooded frames
        b.rule(BRIDGE, "forward", Nft.vmap(meta("oifname"), marks));
        // bridged: the first packet of a connection (bit 31 from inet prerouting) meets the guest's in-rules
        b.rule(BRIDGE, "forward", ne(and(meta("mark"), NEW_BIT), number(0)), Nft.vmap(meta("oifname"), ins));
        // from the host or routed in: the same, after every inet hook, so a reject can only drop
        b.rule(BRIDGE, "output", ne(and(meta("mark"), NEW_BIT), number(0)), Nft.vmap(meta("oifname"), ins));
        b.rule(BRIDGE, "output", ne(and(meta("mark"), REJECT_BIT), number(0)), verdict("drop"));
    }

    /** MAC filter and ipfilter of one port, stateless, in the bridge family. */
    private void layer2(Build b, Port port) {
        String chain = "l2_" + port.name();
        b.chain(BRIDGE, chain, null, 0, null);
        FwConfig fw = port.guest().config();
        boolean macfilter = intOption(fw, "macfilter", 1) != 0;
        Optional<String> mac = port.nic().mac().map(m -> m.toLowerCase(Locale.ROOT));
        if (macfilter && mac.isPresent()) {
            b.rule(BRIDGE, chain, List.of(ne(payload("ether", "saddr"), text(mac.get())), verdict("drop")), "macfilter");
            b.rule(BRIDGE, chain, List.of(ne(payload("arp", "saddr ether"), text(mac.get())), verdict("drop")), "macfilter arp");
        }
        String setName = "ipfilter-net" + port.nic().index();
        Optional<IpSet> explicit = fw.ipset(setName);
        if (intOption(fw, "ipfilter", 0) == 0 && explicit.isEmpty()) {
            return;
        }
        Map<Integer, List<JsonNode>> allowed = new TreeMap<>(Map.of(4, new ArrayList<>(), 6, new ArrayList<>()));
        // unspecified sources: DHCP discover, ARP probes and IPv6 duplicate address detection
        allowed.get(4).add(text("0.0.0.0"));
        allowed.get(6).add(text("::"));
        mac.flatMap(Address::linkLocal).ifPresent(ll -> allowed.get(6).add(text(ll)));
        List<String> cidrs = new ArrayList<>(port.nic().addresses());
        Scope scope = new Scope(b.in, Optional.of(port.guest()));
        explicit.ifPresent(set -> set.entries().stream().filter(e -> !e.nomatch()).forEach(e -> cidrs.add(
                e.cidr().matches(".*[.:].*") ? e.cidr() : RuleMatches.resolveAlias(scope, e.cidr()).orElse(""))));
        for (String cidr : cidrs) {
            try {
                Address address = Address.parse(cidr);
                allowed.get(address.version()).add(address.element());
            } catch (IllegalArgumentException e) {
                b.warnings.add(port.guest().vmid() + ".fw " + setName + ": " + e.getMessage() + ", entry skipped");
            }
        }
        String ipf = "ipf_" + port.name();
        b.set(BRIDGE, ipf + "_v4", "ipv4_addr", allowed.get(4));
        b.set(BRIDGE, ipf + "_v6", "ipv6_addr", allowed.get(6));
        b.rule(BRIDGE, chain, List.of(ne(payload("ip", "saddr"), setRef(ipf + "_v4")), verdict("drop")), "ipfilter");
        b.rule(BRIDGE, chain, List.of(ne(payload("arp", "saddr ip"), setRef(ipf + "_v4")), verdict("drop")), "ipfilter arp");
        b.rule(BRIDGE, chain, List.of(ne(payload("ip6", "saddr"), setRef(ipf + "_v6")), verdict("drop")), "ipfilter");
    }

    /**
     * A set or group name as an nft identifier, which may not hold '-': '-' becomes '_' and '_'
     * becomes "__", so distinct names stay distinct.
     */
    static String ident(String name) {
        return name.replace("_", "__").replace("-", "_");
    }

    // ---- options ----

    static String option(FwConfig config, String name, String fallback) {
        return config.options().getOrDefault(name, fallback);
    }

    static int intOption(FwConfig config, String name, int fallback) {
        String value = config.options().get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

}
