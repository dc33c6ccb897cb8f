package org.corral.firewall;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.corral.core.schema.PropertyFormat;
import org.corral.core.schema.Schema;
import org.corral.core.schema.Validator;

/**
 * The {@code [OPTIONS]} of each kind of {@code .fw} file, with Proxmox VE's names, types, defaults
 * and descriptions (its API schema for {@code .../firewall/options}). The API declares these
 * schemas; the parser checks file values against them.
 */
public final class FwOptions {
    public static final String[] LOG_LEVELS = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "nolog"};
    public static final String CONNTRACK_HELPERS = "amanda|ftp|irc|netbios-ns|pptp|sane|sip|snmp|tftp";

    public static final FwOptions CLUSTER = new FwOptions(cluster());
    public static final FwOptions HOST = new FwOptions(host());
    public static final FwOptions GUEST = new FwOptions(guest());
    public static final FwOptions VNET = new FwOptions(vnet());

    private final Map<String, Schema> schemas;

    private FwOptions(Map<String, Schema> schemas) {
        this.schemas = Collections.unmodifiableMap(requireNonNull(schemas, "schemas is null"));
    }

    /** Every option by name, in Proxmox's (alphabetical) order; all optional. */
    public Map<String, Schema> schemas() {
        return schemas;
    }

    private static Schema logLevel(String description) {
        return Schema.string().enumValues(LOG_LEVELS).optional().description(description);
    }

    private static Schema policy(String description, String... values) {
        return Schema.string().enumValues(values).optional().description(description);
    }

    private static Map<String, Schema> cluster() {
        Map<String, Schema> o = new LinkedHashMap<>();
        o.put("ebtables", Schema.bool().optional().defaultValue(1).description("Enable ebtables rules cluster wide."));
        o.put("enable", Schema.integer().minimum(0).optional().defaultValue(0).description("Enable or disable the firewall cluster wide."));
        o.put("log_ratelimit", Schema.propertyString(PropertyFormat.of()
                        .defaultKey("enable", Schema.bool().defaultValue(1).description("Enable or disable log rate limiting"))
                        .key("burst", Schema.integer().minimum(0).optional().defaultValue(5)
                                .description("Initial burst of packages which will always get logged before the rate is applied"))
                        .key("rate", Schema.string().pattern("[1-9][0-9]*/(second|minute|hour|day)").optional().defaultValue("1/second")
                                .description("Frequency with which the burst bucket gets refilled")))
                .optional().description("Log ratelimiting settings"));
        o.put("policy_forward", policy("Forward policy.", "ACCEPT", "DROP"));
        o.put("policy_in", policy("Input policy.", "ACCEPT", "REJECT", "DROP"));
        o.put("policy_out", policy("Output policy.", "ACCEPT", "REJECT", "DROP"));
        return o;
    }

    private static Map<String, Schema> host() {
        Map<String, Schema> o = new LinkedHashMap<>();
        o.put("enable", Schema.bool().optional().defaultValue(1).description("Enable host firewall rules."));
        o.put("log_level_forward", logLevel("Log level for forwarded traffic."));
        o.put("log_level_in", logLevel("Log level for incoming traffic."));
        o.put("log_level_out", logLevel("Log level for outgoing traffic."));
        o.put("log_nf_conntrack", Schema.bool().optional().defaultValue(0).description("Enable logging of conntrack information."));
        o.put("ndp", Schema.bool().optional().defaultValue(1).description("Enable NDP (Neighbor Discovery Protocol)."));
        o.put("nf_conntrack_allow_invalid", Schema.bool().optional().defaultValue(0).description("Allow invalid packets on connection tracking."));
        o.put("nf_conntrack_helpers", Schema.string().pattern("((" + CONNTRACK_HELPERS + ")(,(" + CONNTRACK_HELPERS + "))*)?")
                .optional().defaultValue("").typeText("<string>")
                .description("Enable conntrack helpers for specific protocols. Supported protocols: amanda, ftp, irc, netbios-ns, pptp, sane, sip, snmp, tftp"));
        o.put("nf_conntrack_max", Schema.integer().minimum(32768).optional().defaultValue(262144).description("Maximum number of tracked connections."));
        o.put("nf_conntrack_tcp_timeout_established", Schema.integer().minimum(7875).optional().defaultValue(432000)
                .description("Conntrack established timeout."));
        o.put("nf_conntrack_tcp_timeout_syn_recv", Schema.integer().minimum(30).maximum(60).optional().defaultValue(60)
                .description("Conntrack syn recv timeout."));
        o.put("nftables", Schema.bool().optional().defaultValue(0).description("Enable nftables based firewall (tech preview)"));
        o.put("nosmurfs", Schema.bool().optional().description("Enable SMURFS filter."));
        o.put("protection_synflood", Schema.bool().optional().defaultValue(0).description("Enable synflood protection"));
        o.put("protection_synflood_burst", Schema.integer().optional().defaultValue(1000).description("Synflood protection rate burst by ip src."));
        o.put("protection_synflood_rate", Schema.integer().optional().defaultValue(200).description("Synflood protection rate syn/sec by ip src."));
        o.put("smurf_log_level", logLevel("Log level for SMURFS filter."));
        o.put("tcp_flags_log_level", logLevel("Log level for illegal tcp flags filter."));
        o.put("tcpflags", Schema.bool().optional().defaultValue(0).description("Filter illegal combinations of TCP flags."));
        return o;
    }

    private static Map<String, Schema> guest() {
        Map<String, Schema> o = new LinkedHashMap<>();
        o.put("dhcp", Schema.bool().optional().defaultValue(0).description("Enable DHCP."));
        o.put("enable", Schema.bool().optional().defaultValue(0).description("Enable/disable firewall rules."));
        o.put("ipfilter", Schema.bool().optional().description("Enable default IP filters. This is equivalent to adding an empty"
                + " ipfilter-net<id> ipset for every interface. Such ipsets implicitly contain sane default restrictions such as"
                + " restricting IPv6 link local addresses to the one derived from the interface's MAC address. For containers the"
                + " configured IP addresses will be implicitly added."));
        o.put("log_level_in", logLevel("Log level for incoming traffic."));
        o.put("log_level_out", logLevel("Log level for outgoing traffic."));
        o.put("macfilter", Schema.bool().optional().defaultValue(1).description("Enable/disable MAC address filter."));
        o.put("ndp", Schema.bool().optional().defaultValue(1).description("Enable NDP (Neighbor Discovery Protocol)."));
        o.put("policy_in", policy("Input policy.", "ACCEPT", "REJECT", "DROP"));
        o.put("policy_out", policy("Output policy.", "ACCEPT", "REJECT", "DROP"));
        o.put("radv", Schema.bool().optional().description("Allow sending Router Advertisement."));
        return o;
    }

    private static Map<String, Schema> vnet() {
        Map<String, Schema> o = new LinkedHashMap<>();
        o.put("enable", Schema.bool().optional().defaultValue(0).description("Enable/disable firewall rules."));
        o.put("log_level_forward", logLevel("Log level for forwarded traffic."));
        o.put("policy_forward", policy("Forward policy.", "ACCEPT", "DROP"));
        return o;
    }

    /**
     * A file value in its stored form, or the reason it is refused. Proxmox reads booleans only as
     * 0 or 1 and policies and log levels in any case; they are stored upper and lower case.
     */
    public String fileValue(String name, String value) {
        Schema schema = schemas.get(name);
        if (schema == null) {
            throw new IllegalArgumentException("unknown option '" + name + "'");
        }
        String normal = schema.enumValues().isPresent() && name.startsWith("policy_") ? value.toUpperCase(Locale.ROOT)
                : schema.enumValues().isPresent() ? value.toLowerCase(Locale.ROOT) : value;
        if (schema.type() == Schema.Type.BOOLEAN && !value.equals("0") && !value.equals("1")) {
            throw new IllegalArgumentException("value '" + value + "' of option '" + name + "' is not 0 or 1");
        }
        try {
            Validator.convert(schema, normal);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("option '" + name + "': " + e.getMessage(), e);
        }
        return normal;
    }

    /** An API value as the file stores it: booleans as 0 or 1. */
    public String stored(String name, Object value) {
        return value instanceof Boolean b ? (b ? "1" : "0") : String.valueOf(value);
    }

    /** A stored value as the API answers it: integers and booleans as numbers, the rest as text. */
    public Object answer(String name, String stored) {
        Schema schema = schemas.get(name);
        if (schema != null && (schema.type() == Schema.Type.BOOLEAN || schema.type() == Schema.Type.INTEGER)) {
            try {
                return Long.parseLong(stored);
            } catch (NumberFormatException e) {
                return stored;
            }
        }
        return stored;
    }
}
