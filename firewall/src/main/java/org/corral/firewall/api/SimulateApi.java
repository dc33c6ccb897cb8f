package org.corral.firewall.api;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.firewall.nft.FirewallEnforcer;
import org.corral.firewall.nft.NftSimulator;

/**
 * {@code GET /nodes/{node}/firewall/simulate}: runs one packet through this node's nftables
 * ruleset as loaded (see {@link NftSimulator}) and answers the verdict and the rules it passed.
 */
public final class SimulateApi implements ApiModule {
    private static final int DEFAULT_SPORT = 40000;

    private final FirewallEnforcer enforcer;
    private final NftSimulator.HostNetwork net;

    public SimulateApi(FirewallEnforcer enforcer, NftSimulator.HostNetwork net) {
        this.enforcer = requireNonNull(enforcer, "enforcer is null");
        this.net = requireNonNull(net, "net is null");
    }

    @Override
    public List<ApiMethod> methods() {
        Schema port = Schema.integer().minimum(1).maximum(65535).optional();
        Schema step = Schema.object()
                .property("n", Schema.integer().description("Position in the trace, from 1."))
                .property("packet", Schema.string().enumValues("request", "reply"))
                .property("family", Schema.string().description("nftables family: inet or bridge."))
                .property("hook", Schema.string())
                .property("chain", Schema.string())
                .property("rule", Schema.integer().description("Position of the rule in its chain, from 0; -1 is the chain's policy."))
                .property("action", Schema.string().description("What the rule did to the packet."))
                .property("comment", Schema.string().optional())
                .property("file", Schema.string().optional().description("The firewall file the rule comes from."))
                .property("line", Schema.integer().optional().description("Its line in that file, from 1."));
        return List.of(ApiMethod.get("/nodes/{node}/firewall/simulate").name("simulate")
                .description("Simulate a packet through this node's firewall: the verdict on the first packet of a connection (and on"
                        + " its reply), and the nftables rules it passed, in order, with the firewall file and line they come from.")
                .permission(Check.path("/nodes/{node}", Privilege.SYS_AUDIT))
                .proxyToNode()
                .extension()
                .parameter("node", Schema.string().format(Formats.PVE_NODE).description("The cluster node name."))
                .parameter("from", Schema.string().description("Where the packet comes from: host, outside, vm<VMID> or ct<VMID>."))
                .parameter("to", Schema.string().description("Where the packet goes: host, outside, vm<VMID> or ct<VMID>."))
                .parameter("protocol", Schema.string().enumValues("tcp", "udp", "icmp")
                        .description("tcp, udp or icmp (ICMPv6 with IPv6 addresses)."))
                .parameter("source", Schema.string().format(Formats.IP).description("Source address (IPv4 or IPv6)."))
                .parameter("dest", Schema.string().format(Formats.IP).description("Destination address, of the same version."))
                .parameter("sport", port.description("Source port (tcp, udp); default " + DEFAULT_SPORT + "."))
                .parameter("dport", Schema.integer().minimum(1).maximum(65535).optional()
                        .description("Destination port; needed for tcp and udp."))
                .parameter("icmp-type", Schema.string().optional()
                        .description("ICMP type for icmp: a name (echo-request, the default) or TYPE[/CODE]."))
                .returns(Schema.object()
                        .property("verdict", Schema.string().enumValues("ACCEPT", "DROP", "REJECT")
                                .description("What happens to the first packet."))
                        .property("reply", Schema.string().enumValues("ACCEPT", "DROP", "REJECT").optional()
                                .description("What happens to its answer (tcp, udp, ICMP echo), when the packet is accepted."))
                        .property("connects", Schema.bool().description("Whether the packet and its answer both get through."))
                        .property("ruleset", Schema.string().enumValues("applied", "compiled").description(
                                "applied: the ruleset in the kernel; compiled: the firewall is not enforced here or its last"
                                        + " apply failed, so this is what the files compile to now."))
                        .property("trace", Schema.array(step)))
                .handler(this::simulate));
    }

    private Object simulate(ApiRequest r) {
        Map<String, String> errors = new LinkedHashMap<>();
        NftSimulator.Endpoint from = endpoint(r, "from", errors);
        NftSimulator.Endpoint to = endpoint(r, "to", errors);
        String protocol = r.string("protocol");
        InetAddress source = address(r, "source", errors);
        InetAddress dest = address(r, "dest", errors);
        boolean ports = !protocol.equals("icmp");
        int sport = r.optionalInt("sport").orElse(DEFAULT_SPORT);
        int dport = r.optionalInt("dport").orElse(0);
        int[] icmp = {-1, -1};
        if (ports) {
            if (r.optionalInt("dport").isEmpty()) {
                errors.put("dport", "is needed for protocol " + protocol);
            }
            if (r.has("icmp-type")) {
                errors.put("icmp-type", "only for protocol icmp");
            }
        } else {
            for (String name : List.of("sport", "dport")) {
                if (r.has(name)) {
                    errors.put(name, "only for protocols tcp and udp");
                }
            }
            sport = 0;
            if (source != null) {
                String type = r.optionalString("icmp-type").orElse("echo-request");
                try {
                    icmp = NftSimulator.icmpType(type, !(source instanceof java.net.Inet4Address));
                } catch (IllegalArgumentException e) {
                    errors.put("icmp-type", e.getMessage());
                }
            }
        }
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        NftSimulator.Model model = enforcer.model();
        NftSimulator.Result result = NftSimulator.simulate(model, new NftSimulator.Probe(from, to, protocol, source, dest, sport, dport,
                icmp[0], icmp[1]), net);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("verdict", result.verdict().name());
        result.reply().ifPresent(v -> out.put("reply", v.name()));
        out.put("connects", result.connects() ? 1 : 0);
        out.put("ruleset", model.applied() ? "applied" : "compiled");
        List<Map<String, Object>> trace = new ArrayList<>();
        for (NftSimulator.Step s : result.trace()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("n", trace.size() + 1);
            e.put("packet", s.packet());
            e.put("family", s.family());
            e.put("hook", s.hook());
            e.put("chain", s.chain());
            e.put("rule", s.rule());
            e.put("action", s.action());
            s.comment().ifPresent(c -> e.put("comment", c));
            s.file().ifPresent(f -> e.put("file", f));
            s.line().ifPresent(l -> e.put("line", l));
            trace.add(e);
        }
        out.put("trace", trace);
        return out;
    }

    private static NftSimulator.Endpoint endpoint(ApiRequest r, String name, Map<String, String> errors) {
        try {
            return NftSimulator.Endpoint.parse(name, r.string(name));
        } catch (ParameterError e) {
            errors.putAll(e.errors());
            return null;
        }
    }

    private static InetAddress address(ApiRequest r, String name, Map<String, String> errors) {
        String text = r.string(name).strip();
        if (!text.matches("[0-9a-fA-F:.]+") || !text.matches(".*[.:].*")) {
            errors.put(name, "invalid IP address '" + text + "'");
            return null;
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            errors.put(name, "invalid IP address '" + text + "'");
            return null;
        }
    }
}
