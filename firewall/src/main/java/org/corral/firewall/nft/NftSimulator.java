package org.corral.firewall.nft;

import static java.util.Objects.requireNonNull;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.error.ParameterError;
import org.corral.firewall.FwParser;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Runs one packet through a {@link NftCompiler.Compiled} ruleset, the JSON that {@code nft -j -f}
 * loads, rule by rule as the kernel would: the base chains of each hook the packet passes, in
 * priority order, with their matches, marks, jumps, verdict maps and verdicts. Nothing is read
 * from the {@code .fw} files except the line a rule's comment points at, so the answer is what
 * the loaded ruleset does, not a second reading of the configuration.
 *
 * <p>Which hooks a packet passes follows the kernel's paths through a node (the host's own stack,
 * its bridges with br_netfilter, routing to and from the outside), asking the host for the
 * interface a route uses. The first packet of a connection is {@code ct state new}; when it is
 * accepted and the protocol answers (TCP, UDP, ICMP echo), the reply is run too as
 * {@code ct state established}, since a stateless layer-2 check (ipfilter) can still drop it.
 */
public final class NftSimulator {
    public enum Verdict { ACCEPT, DROP, REJECT }

    /** What a packet is sent from or to. */
    public enum Kind { HOST, OUTSIDE, VM, CT }

    public record Endpoint(Kind kind, int vmid) {
        private static final Pattern GUEST = Pattern.compile("(vm|ct)(\\d+)");

        /** {@code host}, {@code outside}, {@code vm<ID>} or {@code ct<ID>}; a bad one is a {@link ParameterError} for {@code param}. */
        public static Endpoint parse(String param, String value) {
            String v = value.strip().toLowerCase(Locale.ROOT);
            if (v.equals("host")) {
                return new Endpoint(Kind.HOST, 0);
            }
            if (v.equals("outside")) {
                return new Endpoint(Kind.OUTSIDE, 0);
            }
            Matcher m = GUEST.matcher(v);
            if (m.matches() && m.group(2).length() <= 9) {
                return new Endpoint(m.group(1).equals("vm") ? Kind.VM : Kind.CT, Integer.parseInt(m.group(2)));
            }
            throw new ParameterError(param, "expected 'host', 'outside', 'vm<ID>' or 'ct<ID>', not '" + value + "'");
        }

        boolean guest() {
            return kind == Kind.VM || kind == Kind.CT;
        }

        @Override
        public String toString() {
            return switch (kind) {
                case HOST -> "host";
                case OUTSIDE -> "outside";
                case VM -> "vm" + vmid;
                case CT -> "ct" + vmid;
            };
        }
    }

    /**
     * One packet: the first of a connection from {@code from} to {@code to}. {@code protocol} is
     * tcp, udp or icmp (ICMPv6 for IPv6 addresses); ports are for tcp and udp, the ICMP type and
     * code ({@code -1}: none) for icmp.
     */
    public record Probe(Endpoint from, Endpoint to, String protocol, InetAddress source, InetAddress dest, int sport, int dport,
            int icmpType, int icmpCode) {
        public Probe {
            requireNonNull(from, "from is null");
            requireNonNull(to, "to is null");
            requireNonNull(protocol, "protocol is null");
            requireNonNull(source, "source is null");
            requireNonNull(dest, "dest is null");
        }

        int version() {
            return source instanceof Inet4Address ? 4 : 6;
        }

        int l4proto() {
            return switch (protocol) {
                case "tcp" -> 6;
                case "udp" -> 17;
                default -> version() == 4 ? 1 : 58;
            };
        }
    }

    /** What the simulator asks of the host it models. */
    public interface HostNetwork {
        /** The interface the host's routing sends a packet for {@code address} out of ({@code ip route get}); {@code lo} for its own. */
        String routeDevice(InetAddress address);

        /** Whether bridged IPv4 (4) or IPv6 (6) traffic passes the inet hooks (br_netfilter's bridge-nf-call-ip(6)tables). */
        boolean bridgeCallsInet(int version);
    }

    /** A {@code .fw} file of the model: its store path and what parsing it gave (with rule lines). */
    public record Source(String path, FwParser.Parsed parsed) {}

    /**
     * A compiled ruleset with what it was compiled from: the guests (for their ports and bridges)
     * and the files by the name the rules' comments use ({@code cluster.fw}, {@code host.fw},
     * {@code <vmid>.fw}). {@code applied}: it is the ruleset loaded into the kernel.
     */
    public record Model(NftCompiler.Compiled compiled, FirewallInputs inputs, Map<String, Source> files, boolean applied) {
        public Model {
            requireNonNull(compiled, "compiled is null");
            requireNonNull(inputs, "inputs is null");
            files = Map.copyOf(files);
        }
    }

    /**
     * A rule the packet matched (or a base chain's policy, {@code rule} -1), in order: its family,
     * hook, chain and position, what it did, and for a rule from a {@code .fw} file that file's
     * store path and line.
     */
    public record Step(String packet, String family, String hook, String chain, int rule, String action, Optional<String> comment,
            Optional<String> file, Optional<Integer> line) {}

    /** The verdict on the packet, on its reply when there is one, and the rules they passed. */
    public record Result(Verdict verdict, Optional<Verdict> reply, List<Step> trace) {
        public Result {
            trace = List.copyOf(trace);
        }

        /** Whether the connection would be made: the packet is delivered and its answer too (or there is none). */
        public boolean connects() {
            return verdict == Verdict.ACCEPT && reply.orElse(Verdict.ACCEPT) == Verdict.ACCEPT;
        }
    }

    private static final Pattern WHERE = Pattern.compile("(\\S+\\.fw) rule (\\d+)(?: group (\\S+) rule (\\d+))?.*");
    private static final int TCP_SYN = 0x02;
    private static final int TCP_ACK = 0x10;
    private static final Map<String, Integer> FLAGS = Map.of("fin", 0x01, "syn", 0x02, "rst", 0x04, "psh", 0x08, "ack", 0x10,
            "urg", 0x20, "ecn", 0x40, "cwr", 0x80);
    private static final Map<String, Integer> L4 = Map.ofEntries(Map.entry("tcp", 6), Map.entry("udp", 17), Map.entry("icmp", 1),
            Map.entry("icmpv6", 58), Map.entry("ipv6-icmp", 58), Map.entry("igmp", 2), Map.entry("udplite", 136),
            Map.entry("sctp", 132), Map.entry("dccp", 33), Map.entry("esp", 50), Map.entry("ah", 51), Map.entry("gre", 47));
    private static final Map<String, Integer> ICMP_NAMES = Map.ofEntries(Map.entry("echo-reply", 0), Map.entry("destination-unreachable", 3),
            Map.entry("echo-request", 8), Map.entry("time-exceeded", 11), Map.entry("timestamp-request", 13),
            Map.entry("timestamp-reply", 14));
    private static final Map<String, Integer> ICMPV6_NAMES = Map.ofEntries(Map.entry("destination-unreachable", 1),
            Map.entry("packet-too-big", 2), Map.entry("time-exceeded", 3), Map.entry("parameter-problem", 4),
            Map.entry("echo-request", 128), Map.entry("echo-reply", 129), Map.entry("nd-router-solicit", 133),
            Map.entry("nd-router-advert", 134), Map.entry("nd-neighbor-solicit", 135), Map.entry("nd-neighbor-advert", 136),
            Map.entry("nd-redirect", 137));
    private static final int MAX_DEPTH = 16;

    /** One hook a packet passes, with the interfaces nft's {@code meta iifname/oifname} see there. */
    record Hop(String family, String hook, String iif, String oif) {}

    /** A guest's port on its bridge. */
    record Port(GuestNic nic, String bridge) {}

    /** The packet as nft sees it while it passes the hooks. */
    private static final class Packet {
        final String name;
        final int version;
        final int l4proto;
        final BigInteger saddr;
        final BigInteger daddr;
        final int sport;
        final int dport;
        final int icmpType;
        final int icmpCode;
        final int tcpFlags;
        final String ctState;
        final Optional<String> sourceMac;
        final boolean arp;
        long mark;
        Hop hop;

        Packet(String name, int version, int l4proto, InetAddress saddr, InetAddress daddr, int sport, int dport, int icmpType,
                int icmpCode, int tcpFlags, String ctState, Optional<String> sourceMac) {
            this(name, version, l4proto, saddr, daddr, sport, dport, icmpType, icmpCode, tcpFlags, ctState, sourceMac, false);
        }

        Packet(String name, int version, int l4proto, InetAddress saddr, InetAddress daddr, int sport, int dport, int icmpType,
                int icmpCode, int tcpFlags, String ctState, Optional<String> sourceMac, boolean arp) {
            this.arp = arp;
            this.name = name;
            this.version = version;
            this.l4proto = l4proto;
            this.saddr = new BigInteger(1, saddr.getAddress());
            this.daddr = new BigInteger(1, daddr.getAddress());
            this.sport = sport;
            this.dport = dport;
            this.icmpType = icmpType;
            this.icmpCode = icmpCode;
            this.tcpFlags = tcpFlags;
            this.ctState = ctState;
            this.sourceMac = sourceMac;
        }
    }

    /** How a chain ended: on a verdict, or by running out of rules / {@code return}. */
    private enum Flow { CONTINUE, ACCEPT, DROP, REJECT, RETURN }

    /** A value nft compares: a number, a text (interface, state, MAC) or an address. */
    private record Value(Long number, String text, BigInteger address, int bits) {
        static Value of(long n) {
            return new Value(n, null, null, 0);
        }

        static Value of(String s) {
            return new Value(null, s, null, 0);
        }

        static Value address(BigInteger a, int version) {
            return new Value(null, null, a, version == 4 ? 32 : 128);
        }
    }

    private final Model model;
    private final HostNetwork net;
    private final List<Step> trace = new ArrayList<>();

    private NftSimulator(Model model, HostNetwork net) {
        this.model = model;
        this.net = net;
    }

    /** Type and code ({@code -1}: none) of an ICMP (or ICMPv6) type name or {@code TYPE[/CODE]}, as rules write them. */
    public static int[] icmpType(String name, boolean v6) {
        return IcmpTypes.lookup(name, v6);
    }

    /** Runs {@code probe} (and its reply) through the model's ruleset. */
    public static Result simulate(Model model, Probe probe, HostNetwork net) {
        requireNonNull(model, "model is null");
        requireNonNull(probe, "probe is null");
        requireNonNull(net, "net is null");
        return new NftSimulator(model, net).run(probe);
    }

    private Result run(Probe probe) {
        if (probe.from().equals(probe.to()) && probe.from().kind() != Kind.HOST) {
            throw new ParameterError("to", "must differ from 'from' (" + probe.from() + ")");
        }
        if (!(probe.source() instanceof Inet4Address) != !(probe.dest() instanceof Inet4Address)) {
            throw new ParameterError("dest", "is IPv" + (probe.dest() instanceof Inet4Address ? 4 : 6) + " but source is IPv"
                    + probe.version());
        }
        Optional<Port> fromPort = port("from", probe.from());
        Optional<Port> toPort = port("to", probe.to());
        int tcpFlags = probe.protocol().equals("tcp") ? TCP_SYN : 0;
        Packet request = new Packet("request", probe.version(), probe.l4proto(), probe.source(), probe.dest(), probe.sport(),
                probe.dport(), probe.icmpType(), probe.icmpCode(), tcpFlags, "new", fromPort.flatMap(p -> p.nic().mac()));
        boolean enabled = model.compiled().enabled();
        Verdict verdict = Verdict.ACCEPT;
        if (enabled) {
            List<Hop> hops = path(probe.from(), fromPort, probe.to(), toPort, probe.source(), probe.dest(), probe.version(), "dest");
            boolean sameBridge = fromPort.isPresent() && toPort.isPresent() && fromPort.get().bridge().equals(toPort.get().bridge());
            if (fromPort.isPresent() && !guestResolves(probe, fromPort.get(), sameBridge ? toPort : Optional.empty())) {
                return new Result(Verdict.DROP, Optional.empty(), trace);
            }
            // the host resolves a guest's address after its inet hooks, before the bridge sends the frame to the port;
            // an outside host on the guest's bridge resolves it before it sends
            int split = hops.size();
            if (!sameBridge && toPort.isPresent()) {
                split = Math.max(0, hops.indexOf(new Hop("bridge", "output", "", toPort.get().nic().port())));
            }
            verdict = pass(request, hops.subList(0, split));
            if (verdict == Verdict.ACCEPT && split < hops.size()) {
                if (!answers(probe, toPort.get(), Optional.empty())) {
                    return new Result(Verdict.DROP, Optional.empty(), trace);
                }
                verdict = pass(request, hops.subList(split, hops.size()));
            }
        }
        if (verdict == Verdict.REJECT && probe.from().kind() != Kind.HOST && !routable(probe.source())) {
            // the reset or ICMP error goes back through the host's routing; without a route it is never sent
            trace.add(new Step("request", "inet", "routing", "-", -1, "the host has no route back to " + probe.source().getHostAddress()
                    + ": the reject's answer is not sent, a drop for the sender", Optional.empty(), Optional.empty(), Optional.empty()));
            verdict = Verdict.DROP;
        }
        Optional<Verdict> reply = Optional.empty();
        int replyType = replyType(probe);
        if (verdict == Verdict.ACCEPT && (probe.l4proto() == 6 || probe.l4proto() == 17 || replyType >= 0)) {
            Packet answer = new Packet("reply", probe.version(), probe.l4proto(), probe.dest(), probe.source(), probe.dport(),
                    probe.sport(), replyType, replyType >= 0 ? 0 : -1, tcpFlags == 0 ? 0 : TCP_SYN | TCP_ACK, "established",
                    toPort.flatMap(p -> p.nic().mac()));
            reply = Optional.of(enabled ? pass(answer, path(probe.to(), toPort, probe.from(), fromPort, probe.dest(), probe.source(),
                    probe.version(), "source")) : Verdict.ACCEPT);
        }
        return new Result(verdict, reply, trace);
    }

    /**
     * Address resolution before the first packet, through the guest ports' layer-2 checks: a
     * guest asks for the destination (on its bridge) or its gateway, and a guest that is the
     * destination answers for its address. ARP for IPv4, neighbor solicitation and advertisement
     * (ICMPv6, untracked by conntrack) for IPv6. False when one of them is dropped: then the
     * packet is never sent.
     */
    /**
     * A guest's own question (ARP request, neighbor solicitation) carries its address and MAC
     * through the same layer-2 checks its packet meets next, so only the answer is run here.
     */
    private boolean guestResolves(Probe probe, Port from, Optional<Port> sameBridge) {
        return sameBridge.isEmpty() || answers(probe, sameBridge.get(), Optional.of(from));
    }

    /** The destination guest's answer for its address, to the asking guest on its bridge or up to the host. */
    private boolean answers(Probe probe, Port to, Optional<Port> asker) {
        boolean v6 = probe.version() == 6;
        Packet answer = neighbor(v6 ? "neighbor advertisement" : "arp reply", v6, 136, probe.dest(), probe.source(), to);
        return pass(answer, portHops(to, asker.map(p -> p.nic().port()), v6)) == Verdict.ACCEPT;
    }

    private static Packet neighbor(String name, boolean v6, int icmpType, InetAddress sender, InetAddress target, Port port) {
        return new Packet(name, v6 ? 6 : 4, v6 ? 58 : 0, sender, target, 0, 0, v6 ? icmpType : -1, v6 ? 0 : -1, 0, "untracked",
                port.nic().mac(), !v6);
    }

    /** The hooks a frame from a guest port passes to another port of its bridge or up to the host; ARP never meets inet. */
    private List<Hop> portHops(Port from, Optional<String> outPort, boolean inet) {
        String port = from.nic().port();
        String bridge = from.bridge();
        boolean bridgedInet = inet && (model.compiled().filtersGuests() || net.bridgeCallsInet(6));
        List<Hop> hops = new ArrayList<>();
        hops.add(new Hop("bridge", "prerouting", port, ""));
        if (outPort.isPresent()) {
            if (bridgedInet) {
                hops.add(new Hop("inet", "prerouting", bridge, ""));
            }
            hops.add(new Hop("bridge", "forward", port, outPort.get()));
            if (bridgedInet) {
                hops.add(new Hop("inet", "forward", bridge, bridge));
                hops.add(new Hop("inet", "postrouting", "", bridge));
            }
            hops.add(new Hop("bridge", "postrouting", "", outPort.get()));
            return hops;
        }
        if (inet) {
            hops.add(new Hop("inet", "prerouting", bridge, ""));
        }
        hops.add(new Hop("bridge", "input", port, ""));
        if (inet) {
            hops.add(new Hop("inet", "input", bridge, ""));
        }
        return hops;
    }

    /** The ICMP type that answers the probe's, or -1 when it is not a request that gets one. */
    private static int replyType(Probe probe) {
        if (probe.l4proto() == 1) {
            return switch (probe.icmpType()) {
                case 8 -> 0;
                case 13 -> 14;
                default -> -1;
            };
        }
        if (probe.l4proto() == 58) {
            return probe.icmpType() == 128 ? 129 : -1;
        }
        return -1;
    }

    /** The NIC a guest endpoint sends and receives on: its lowest-numbered one, which must be on a bridge. */
    private Optional<Port> port(String param, Endpoint endpoint) {
        if (!endpoint.guest()) {
            return Optional.empty();
        }
        Guest guest = model.inputs().guests().stream().filter(g -> g.vmid() == endpoint.vmid()).findFirst()
                .orElseThrow(() -> new ParameterError(param, "guest " + endpoint.vmid() + " is not on this node"));
        if (guest.container() != (endpoint.kind() == Kind.CT)) {
            throw new ParameterError(param, "guest " + endpoint.vmid() + " is a " + (guest.container() ? "container (ct" : "VM (vm")
                    + endpoint.vmid() + ")");
        }
        GuestNic nic = guest.nics().stream().min(Comparator.comparingInt(GuestNic::index))
                .orElseThrow(() -> new ParameterError(param, "guest " + endpoint.vmid() + " has no network device"));
        String bridge = nic.bridge().orElseThrow(() -> new ParameterError(param, "net" + nic.index() + " of guest "
                + endpoint.vmid() + " is on no bridge"));
        return Optional.of(new Port(nic, bridge));
    }

    /** The hooks a packet passes from {@code from} to {@code to}, as the kernel's paths through the node go. */
    private List<Hop> path(Endpoint from, Optional<Port> fromPort, Endpoint to, Optional<Port> toPort, InetAddress source,
            InetAddress dest, int version, String destParam) {
        boolean bridgedInet = model.compiled().filtersGuests() || net.bridgeCallsInet(version);
        List<Hop> hops = new ArrayList<>();
        if (fromPort.isPresent()) {
            String port = fromPort.get().nic().port();
            String bridge = fromPort.get().bridge();
            hops.add(new Hop("bridge", "prerouting", port, ""));
            if (toPort.isPresent() && toPort.get().bridge().equals(bridge)
                    || to.kind() == Kind.OUTSIDE && route(dest, destParam).equals(bridge)) {
                // bridged: to a port of the same bridge (an outside host there is behind a port no rule names)
                String out = toPort.map(p -> p.nic().port()).orElse("");
                if (bridgedInet) {
                    hops.add(new Hop("inet", "prerouting", bridge, ""));
                }
                hops.add(new Hop("bridge", "forward", port, out));
                if (bridgedInet) {
                    hops.add(new Hop("inet", "forward", bridge, bridge));
                    hops.add(new Hop("inet", "postrouting", "", bridge));
                }
                hops.add(new Hop("bridge", "postrouting", "", out));
                return hops;
            }
            hops.add(new Hop("inet", "prerouting", bridge, ""));
            if (to.kind() == Kind.HOST) {
                requireLocal(dest, destParam);
                hops.add(new Hop("bridge", "input", port, ""));
                hops.add(new Hop("inet", "input", bridge, ""));
                return hops;
            }
            routedOut(hops, bridge, to, toPort, dest, destParam);
            return hops;
        }
        if (from.kind() == Kind.HOST) {
            String out = route(dest, destParam);
            if (to.kind() == Kind.HOST) {
                requireLocal(dest, destParam);
                hops.add(new Hop("inet", "output", "", "lo"));
                hops.add(new Hop("inet", "postrouting", "", "lo"));
                hops.add(new Hop("inet", "prerouting", "lo", ""));
                hops.add(new Hop("inet", "input", "lo", ""));
                return hops;
            }
            checkRoute(to, toPort, out, dest, destParam);
            hops.add(new Hop("inet", "output", "", out));
            hops.add(new Hop("inet", "postrouting", "", out));
            toPort.ifPresent(p -> {
                hops.add(new Hop("bridge", "output", "", p.nic().port()));
                hops.add(new Hop("bridge", "postrouting", "", p.nic().port()));
            });
            return hops;
        }
        // from outside: in through the interface the host reaches the source by
        String in = route(source, destParam.equals("dest") ? "source" : "dest");
        if (toPort.isPresent() && toPort.get().bridge().equals(in)) {
            String out = toPort.get().nic().port();
            hops.add(new Hop("bridge", "prerouting", "", ""));
            if (bridgedInet) {
                hops.add(new Hop("inet", "prerouting", in, ""));
            }
            hops.add(new Hop("bridge", "forward", "", out));
            if (bridgedInet) {
                hops.add(new Hop("inet", "forward", in, in));
                hops.add(new Hop("inet", "postrouting", "", in));
            }
            hops.add(new Hop("bridge", "postrouting", "", out));
            return hops;
        }
        hops.add(new Hop("inet", "prerouting", in, ""));
        if (to.kind() == Kind.HOST) {
            requireLocal(dest, destParam);
            hops.add(new Hop("inet", "input", in, ""));
            return hops;
        }
        if (to.kind() == Kind.OUTSIDE) {
            throw new ParameterError("to", "from outside to outside does not pass this node");
        }
        routedOut(hops, in, to, toPort, dest, destParam);
        return hops;
    }

    private void routedOut(List<Hop> hops, String in, Endpoint to, Optional<Port> toPort, InetAddress dest, String destParam) {
        String out = route(dest, destParam);
        checkRoute(to, toPort, out, dest, destParam);
        hops.add(new Hop("inet", "forward", in, out));
        hops.add(new Hop("inet", "postrouting", "", out));
        toPort.ifPresent(p -> {
            hops.add(new Hop("bridge", "output", "", p.nic().port()));
            hops.add(new Hop("bridge", "postrouting", "", p.nic().port()));
        });
    }

    private void checkRoute(Endpoint to, Optional<Port> toPort, String out, InetAddress dest, String destParam) {
        if (out.equals("lo")) {
            throw new ParameterError(destParam, dest.getHostAddress() + " is an address of the host, not of " + to);
        }
        if (toPort.isPresent() && !toPort.get().bridge().equals(out)) {
            throw new ParameterError(destParam, "the host routes " + dest.getHostAddress() + " out of " + out + ", not to " + to
                    + "'s bridge " + toPort.get().bridge());
        }
    }

    private boolean routable(InetAddress address) {
        try {
            net.routeDevice(address);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private String route(InetAddress address, String param) {
        try {
            return net.routeDevice(address);
        } catch (IllegalArgumentException e) {
            throw new ParameterError(param, e.getMessage());
        }
    }

    private void requireLocal(InetAddress dest, String destParam) {
        if (!route(dest, destParam).equals("lo")) {
            throw new ParameterError(destParam, dest.getHostAddress() + " is not an address of the host");
        }
    }

    /** Runs the packet through each hop's base chains; the first drop or reject ends it. */
    private Verdict pass(Packet packet, List<Hop> hops) {
        for (Hop hop : hops) {
            packet.hop = hop;
            List<ObjectNode> bases = model.compiled().chains().values().stream()
                    .filter(c -> c.get("family").asString().equals(hop.family()) && c.has("hook")
                            && c.get("hook").asString().equals(hop.hook()))
                    .sorted(Comparator.comparingInt(c -> c.get("prio").asInt())).toList();
            for (ObjectNode base : bases) {
                String name = base.get("name").asString();
                Flow flow = chain(packet, hop.family(), name, 0);
                if (flow == Flow.RETURN || flow == Flow.CONTINUE) {
                    String policy = base.path("policy").asString("accept");
                    step(packet, name, -1, "policy " + policy, null);
                    flow = policy.equals("drop") ? Flow.DROP : Flow.ACCEPT;
                }
                switch (flow) {
                    case DROP -> {
                        return Verdict.DROP;
                    }
                    case REJECT -> {
                        return Verdict.REJECT;
                    }
                    case ACCEPT, CONTINUE, RETURN -> { }
                }
            }
        }
        return Verdict.ACCEPT;
    }

    private Flow chain(Packet packet, String family, String name, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalStateException("jumps nest deeper than " + MAX_DEPTH + " at chain " + name);
        }
        List<ObjectNode> rules = model.compiled().chainRules().get(family + "/" + name);
        if (rules == null) {
            throw new IllegalStateException("the ruleset has no chain " + family + " " + name);
        }
        for (int i = 0; i < rules.size(); i++) {
            ObjectNode rule = rules.get(i);
            Flow flow = rule(packet, family, name, i, rule, depth);
            if (flow != Flow.CONTINUE) {
                return flow;
            }
        }
        return Flow.RETURN;
    }

    /** One rule: its matches in order, then its statements; a failed match or a missed map lookup goes on to the next rule. */
    private Flow rule(Packet packet, String family, String chain, int index, ObjectNode rule, int depth) {
        List<String> actions = new ArrayList<>();
        String comment = rule.path("comment").asString(null);
        for (JsonNode expr : rule.get("expr")) {
            String kind = expr.propertyNames().iterator().next();
            JsonNode body = expr.get(kind);
            switch (kind) {
                case "match" -> {
                    if (!match(packet, family, body)) {
                        if (!actions.isEmpty()) {
                            step(packet, chain, index, String.join(", ", actions), comment);
                        }
                        return Flow.CONTINUE;
                    }
                }
                case "mangle" -> {
                    Optional<Value> value = eval(packet, family, body.get("value"));
                    if (value.isEmpty()) {
                        return Flow.CONTINUE;
                    }
                    packet.mark = value.get().number() & 0xffffffffL;
                    actions.add("mark set 0x" + Long.toHexString(packet.mark));
                }
                case "log" -> actions.add("log \"" + body.path("prefix").asString("") + "\" group " + body.path("group").asInt());
                case "counter" -> { }
                case "accept", "drop", "return", "jump", "goto" -> {
                    return verdict(packet, family, chain, index, expr, comment, actions, depth);
                }
                case "vmap" -> {
                    Optional<Value> key = eval(packet, family, body.get("key"));
                    JsonNode target = null;
                    if (key.isPresent()) {
                        for (JsonNode entry : body.get("data").get("set")) {
                            if (element(packet, family, key.get(), entry.get(0))) {
                                target = entry.get(1);
                                break;
                            }
                        }
                    }
                    if (target == null) {
                        return Flow.CONTINUE;
                    }
                    return verdict(packet, family, chain, index, target, comment, actions, depth);
                }
                case "reject" -> {
                    actions.add("reject" + (body.has("type") ? " with " + body.get("type").asString()
                            + (body.has("expr") ? " " + body.get("expr").asString() : "") : ""));
                    step(packet, chain, index, String.join(", ", actions), comment);
                    return Flow.REJECT;
                }
                default -> throw new IllegalStateException("the simulator does not know nft statement '" + kind + "'");
            }
        }
        if (!actions.isEmpty()) {
            step(packet, chain, index, String.join(", ", actions), comment);
        }
        return Flow.CONTINUE;
    }

    private Flow verdict(Packet packet, String family, String chain, int index, JsonNode verdict, String comment, List<String> actions,
            int depth) {
        String kind = verdict.propertyNames().iterator().next();
        switch (kind) {
            case "jump", "goto" -> {
                String target = verdict.get(kind).get("target").asString();
                actions.add(kind + " " + target);
                step(packet, chain, index, String.join(", ", actions), comment);
                Flow flow = chain(packet, family, target, depth + 1);
                if (flow == Flow.RETURN) {
                    // a goto returns to the chain that jumped here; a jump goes on after its rule
                    return kind.equals("goto") ? Flow.RETURN : Flow.CONTINUE;
                }
                return flow;
            }
            case "accept", "drop", "return" -> {
                actions.add(kind);
                step(packet, chain, index, String.join(", ", actions), comment);
                return switch (kind) {
                    case "accept" -> Flow.ACCEPT;
                    case "drop" -> Flow.DROP;
                    default -> Flow.RETURN;
                };
            }
            default -> throw new IllegalStateException("the simulator does not know nft verdict '" + kind + "'");
        }
    }

    private void step(Packet packet, String chain, int index, String action, String comment) {
        Optional<String> file = Optional.empty();
        Optional<Integer> line = Optional.empty();
        if (comment != null) {
            Matcher m = WHERE.matcher(comment);
            if (m.matches()) {
                // a security group's rules are in cluster.fw, whichever file uses the group
                Source source = model.files().get(m.group(3) == null ? m.group(1) : "cluster.fw");
                if (source != null) {
                    file = Optional.of(source.path());
                    List<Integer> lines = m.group(3) == null ? source.parsed().ruleLines()
                            : source.parsed().groupLines().getOrDefault(m.group(3), List.of());
                    int position = Integer.parseInt(m.group(m.group(3) == null ? 2 : 4));
                    if (position < lines.size()) {
                        line = Optional.of(lines.get(position));
                    }
                }
            }
        }
        trace.add(new Step(packet.name, packet.hop.family(), packet.hop.hook(), chain, index, action, Optional.ofNullable(comment), file,
                line));
    }

    // ---- expressions

    private boolean match(Packet packet, String family, JsonNode body) {
        Optional<Value> left = eval(packet, family, body.get("left"));
        if (left.isEmpty()) {
            // a header the packet does not have: nft's implicit protocol dependency fails, whatever the operator
            return false;
        }
        JsonNode right = body.get("right");
        String op = body.get("op").asString();
        boolean found = contains(packet, family, left.get(), right);
        return switch (op) {
            case "==", "in" -> found;
            case "!=" -> !found;
            default -> throw new IllegalStateException("the simulator does not know match operator '" + op + "'");
        };
    }

    /** Whether {@code value} equals {@code right} or is in it (a named or anonymous set, a list). */
    private boolean contains(Packet packet, String family, Value value, JsonNode right) {
        if (right.isString() && right.asString().startsWith("@")) {
            ObjectNode set = model.compiled().sets().get(family + "/" + right.asString().substring(1));
            if (set == null) {
                throw new IllegalStateException("the ruleset has no set " + family + " " + right.asString().substring(1));
            }
            for (JsonNode element : set.path("elem")) {
                if (element(packet, family, value, element)) {
                    return true;
                }
            }
            return false;
        }
        if (right.isArray()) {
            if (value.number() != null && right.size() > 0 && right.get(0).isString() && FLAGS.containsKey(right.get(0).asString())) {
                return value.number() == flags(right);
            }
            for (JsonNode element : right) {
                if (element(packet, family, value, element)) {
                    return true;
                }
            }
            return false;
        }
        if (right.isObject() && right.has("set")) {
            for (JsonNode element : right.get("set")) {
                if (element(packet, family, value, element)) {
                    return true;
                }
            }
            return false;
        }
        return element(packet, family, value, right);
    }

    /** Whether {@code value} is the element: a number, a name, an address, a prefix or a range. */
    private boolean element(Packet packet, String family, Value value, JsonNode element) {
        if (element.isObject() && element.has("prefix")) {
            if (value.address() == null) {
                return false;
            }
            BigInteger net = address(element.get("prefix").get("addr").asString(), value.bits());
            int len = element.get("prefix").get("len").asInt();
            int shift = value.bits() - len;
            return net != null && value.address().shiftRight(shift).equals(net.shiftRight(shift));
        }
        if (element.isObject() && element.has("range")) {
            JsonNode from = element.get("range").get(0);
            JsonNode to = element.get("range").get(1);
            if (value.address() != null) {
                BigInteger a = address(from.asString(), value.bits());
                BigInteger b = address(to.asString(), value.bits());
                return a != null && b != null && value.address().compareTo(a) >= 0 && value.address().compareTo(b) <= 0;
            }
            Long a = number(packet, from);
            Long b = number(packet, to);
            return value.number() != null && a != null && b != null && value.number() >= a && value.number() <= b;
        }
        if (element.isObject() && element.has("set")) {
            return contains(packet, family, value, element);
        }
        if (value.address() != null) {
            BigInteger a = element.isString() ? address(element.asString(), value.bits()) : null;
            return value.address().equals(a);
        }
        if (value.text() != null) {
            return element.isString() && value.text().equalsIgnoreCase(element.asString());
        }
        Long n = number(packet, element);
        return n != null && n.longValue() == value.number();
    }

    /** A number, or a name nft reads as one where the packet's field is numeric (protocols, ICMP types). */
    private static Long number(Packet packet, JsonNode node) {
        if (node.isNumber()) {
            return node.asLong();
        }
        if (!node.isString()) {
            return null;
        }
        String name = node.asString();
        if (name.matches("\\d+")) {
            return Long.parseLong(name);
        }
        if (name.matches("0x[0-9a-fA-F]+")) {
            return Long.parseLong(name.substring(2), 16);
        }
        Integer n = L4.get(name);
        if (n == null) {
            n = (packet.version == 6 ? ICMPV6_NAMES : ICMP_NAMES).get(name);
        }
        return n == null ? null : n.longValue();
    }

    private static long flags(JsonNode list) {
        long bits = 0;
        for (JsonNode flag : list) {
            Integer bit = FLAGS.get(flag.asString());
            if (bit == null) {
                throw new IllegalStateException("the simulator does not know tcp flag '" + flag.asString() + "'");
            }
            bits |= bit;
        }
        return bits;
    }

    private static BigInteger address(String text, int bits) {
        if (!text.matches("[0-9a-fA-F:.]+") || !text.matches(".*[.:].*")) {
            return null;
        }
        try {
            byte[] bytes = InetAddress.getByName(text).getAddress();
            return bytes.length * 8 == bits ? new BigInteger(1, bytes) : null;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** The value of an expression for this packet where it is; empty when the packet has no such header (or a map has no entry). */
    private Optional<Value> eval(Packet packet, String family, JsonNode expr) {
        if (expr.isNumber()) {
            return Optional.of(Value.of(expr.asLong()));
        }
        if (expr.isArray()) {
            return Optional.of(Value.of(flags(expr)));
        }
        if (expr.isString()) {
            return Optional.of(Value.of(expr.asString()));
        }
        String kind = expr.propertyNames().iterator().next();
        JsonNode body = expr.get(kind);
        return switch (kind) {
            case "meta" -> meta(packet, body.get("key").asString());
            case "ct" -> {
                if (!body.get("key").asString().equals("state")) {
                    throw new IllegalStateException("the simulator does not know ct key '" + body.get("key").asString() + "'");
                }
                // the bridge family has no conntrack on this kernel; the ruleset never asks there
                yield family.equals("inet") ? Optional.of(Value.of(packet.ctState)) : Optional.empty();
            }
            case "payload" -> payload(packet, body.get("protocol").asString(), body.get("field").asString());
            case "&", "|" -> {
                Optional<Value> left = eval(packet, family, body.get(0));
                Optional<Value> right = eval(packet, family, body.get(1));
                if (left.isEmpty() || right.isEmpty()) {
                    yield Optional.empty();
                }
                long l = left.get().number();
                long r = right.get().number();
                yield Optional.of(Value.of(kind.equals("&") ? l & r : l | r));
            }
            case "map" -> {
                Optional<Value> key = eval(packet, family, body.get("key"));
                if (key.isEmpty()) {
                    yield Optional.empty();
                }
                for (JsonNode entry : body.get("data").get("set")) {
                    if (element(packet, family, key.get(), entry.get(0))) {
                        yield eval(packet, family, entry.get(1));
                    }
                }
                yield Optional.empty();
            }
            default -> throw new IllegalStateException("the simulator does not know nft expression '" + kind + "'");
        };
    }

    private static Optional<Value> meta(Packet packet, String key) {
        return switch (key) {
            case "iifname" -> Optional.of(Value.of(packet.hop.iif()));
            case "oifname" -> Optional.of(Value.of(packet.hop.oif()));
            case "mark" -> Optional.of(Value.of(packet.mark));
            case "l4proto" -> packet.arp ? Optional.empty() : Optional.of(Value.of(packet.l4proto));
            case "nfproto" -> Optional.of(Value.of(packet.version == 4 ? 2 : 10));
            default -> throw new IllegalStateException("the simulator does not know meta key '" + key + "'");
        };
    }

    private static Optional<Value> payload(Packet packet, String protocol, String field) {
        boolean ports = field.equals("sport") || field.equals("dport");
        if (packet.arp != protocol.equals("arp") && !protocol.equals("ether")) {
            return Optional.empty();
        }
        return switch (protocol) {
            case "ether" -> field.equals("saddr") ? packet.sourceMac.map(Value::of) : Optional.empty();
            case "arp" -> switch (field) {
                case "saddr ip" -> Optional.of(Value.address(packet.saddr, 4));
                case "daddr ip" -> Optional.of(Value.address(packet.daddr, 4));
                case "saddr ether" -> packet.sourceMac.map(Value::of);
                default -> throw new IllegalStateException("the simulator does not know payload arp " + field);
            };
            case "ip", "ip6" -> {
                if (packet.version != (protocol.equals("ip") ? 4 : 6)) {
                    yield Optional.empty();
                }
                yield switch (field) {
                    case "saddr" -> Optional.of(Value.address(packet.saddr, packet.version));
                    case "daddr" -> Optional.of(Value.address(packet.daddr, packet.version));
                    default -> throw new IllegalStateException("the simulator does not know payload " + protocol + " " + field);
                };
            }
            case "tcp", "udp", "udplite", "sctp", "dccp" -> {
                if (packet.l4proto != L4.get(protocol)) {
                    yield Optional.empty();
                }
                if (ports) {
                    yield Optional.of(Value.of(field.equals("sport") ? packet.sport : packet.dport));
                }
                if (protocol.equals("tcp") && field.equals("flags")) {
                    yield Optional.of(Value.of(packet.tcpFlags));
                }
                throw new IllegalStateException("the simulator does not know payload " + protocol + " " + field);
            }
            case "icmp", "icmpv6" -> {
                if (packet.l4proto != (protocol.equals("icmp") ? 1 : 58)) {
                    yield Optional.empty();
                }
                yield switch (field) {
                    case "type" -> Optional.of(Value.of(packet.icmpType));
                    case "code" -> packet.icmpCode < 0 ? Optional.of(Value.of(0)) : Optional.of(Value.of(packet.icmpCode));
                    default -> throw new IllegalStateException("the simulator does not know payload " + protocol + " " + field);
                };
            }
            default -> throw new IllegalStateException("the simulator does not know payload protocol '" + protocol + "'");
        };
    }
}
