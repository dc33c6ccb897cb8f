package org.corral.firewall;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One rule line: {@code [|]TYPE ACTION|MACRO(ACTION) [-i iface] [-source a] [-dest a] [-p proto]
 * [-dport p] [-sport p] [-log level] [-icmp-type t] [# comment]}. For {@link RuleType#GROUP} the
 * action is the security group's name. Values are kept as written, so writing gives the line back.
 */
public record FwRule(
        RuleType type,
        boolean enabled,
        String action,
        Optional<String> macro,
        Optional<String> iface,
        Optional<String> source,
        Optional<String> dest,
        Optional<String> proto,
        Optional<String> dport,
        Optional<String> sport,
        Optional<String> icmpType,
        Optional<String> log,
        Optional<String> comment) {

    /** The rule's fields by their API names, in the order the API and the file use them. */
    public static final java.util.List<String> FIELDS = java.util.List.of(
            "macro", "iface", "source", "dest", "proto", "dport", "sport", "icmp-type", "log", "comment");

    public FwRule {
        requireNonNull(type, "type is null");
        requireNonNull(action, "action is null");
        requireNonNull(macro, "macro is null");
        requireNonNull(iface, "iface is null");
        requireNonNull(source, "source is null");
        requireNonNull(dest, "dest is null");
        requireNonNull(proto, "proto is null");
        requireNonNull(dport, "dport is null");
        requireNonNull(sport, "sport is null");
        requireNonNull(icmpType, "icmpType is null");
        requireNonNull(log, "log is null");
        requireNonNull(comment, "comment is null");
    }

    /** A rule from its type, state, action and optional fields named as in {@link #FIELDS}. */
    public static FwRule of(RuleType type, boolean enabled, String action, Map<String, String> fields) {
        for (String name : fields.keySet()) {
            if (!FIELDS.contains(name)) {
                throw new IllegalArgumentException("unknown rule field '" + name + "'");
            }
        }
        return new FwRule(type, enabled, action, field(fields, "macro"), field(fields, "iface"), field(fields, "source"),
                field(fields, "dest"), field(fields, "proto"), field(fields, "dport"), field(fields, "sport"),
                field(fields, "icmp-type"), field(fields, "log"), field(fields, "comment"));
    }

    private static Optional<String> field(Map<String, String> fields, String name) {
        return Optional.ofNullable(fields.get(name)).filter(v -> !v.isEmpty());
    }

    /** The optional fields that are set, by API name, in {@link #FIELDS} order. */
    public Map<String, String> fields() {
        Map<String, String> out = new LinkedHashMap<>();
        macro.ifPresent(v -> out.put("macro", v));
        iface.ifPresent(v -> out.put("iface", v));
        source.ifPresent(v -> out.put("source", v));
        dest.ifPresent(v -> out.put("dest", v));
        proto.ifPresent(v -> out.put("proto", v));
        dport.ifPresent(v -> out.put("dport", v));
        sport.ifPresent(v -> out.put("sport", v));
        icmpType.ifPresent(v -> out.put("icmp-type", v));
        log.ifPresent(v -> out.put("log", v));
        comment.ifPresent(v -> out.put("comment", v));
        return out;
    }

    public FwRule withEnabled(boolean value) {
        return new FwRule(type, value, action, macro, iface, source, dest, proto, dport, sport, icmpType, log, comment);
    }
}
