package org.corral.firewall;

import static org.corral.core.config.ConfigWriter.field;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.corral.core.config.ConfigWriter;

/**
 * Writes a {@link FwConfig} in Proxmox's layout: options, aliases (sorted), IP sets (sorted, their
 * entries sorted), rules, then security groups (sorted), each section followed by a blank line. A
 * file in this layout reads back and writes to the same text.
 */
public final class FwWriter {
    private FwWriter() {}

    public static String write(FwConfig config, FwKind kind) {
        ConfigWriter out = new ConfigWriter();
        if (kind.allows(FwKind.Section.OPTIONS) && !config.options().isEmpty()) {
            out.line("section", "[OPTIONS]").blank();
            config.options().forEach(out::keyValue);
            out.blank();
        }
        if (kind.allows(FwKind.Section.ALIASES) && !config.aliases().isEmpty()) {
            out.line("section", "[ALIASES]").blank();
            config.aliases().stream().sorted(Comparator.comparing(Alias::key)).forEach(alias ->
                    out.words(alias.comment(), field("name", alias.name()), field("cidr", alias.cidr())));
            out.blank();
        }
        if (kind.allows(FwKind.Section.IPSET)) {
            config.ipsets().stream().sorted(Comparator.comparing(IpSet::name)).forEach(set -> {
                out.labeledSection("IPSET", "name", set.name(), set.comment()).blank();
                Map<String, IpSetEntry> unique = new LinkedHashMap<>();
                set.entries().forEach(e -> unique.putIfAbsent(e.cidr(), e));
                unique.values().stream().sorted(Comparator.comparing(IpSetEntry::cidr)).forEach(e ->
                        out.words(e.comment(), field("cidr", (e.nomatch() ? "!" : "") + e.cidr())));
                out.blank();
            });
        }
        if (kind.allows(FwKind.Section.RULES) && !config.rules().isEmpty()) {
            out.line("section", "[RULES]").blank();
            config.rules().forEach(rule -> rule(out, rule, kind.env().allowsIface()));
            out.blank();
        }
        if (kind.allows(FwKind.Section.GROUP)) {
            config.groups().stream().sorted(Comparator.comparing(SecurityGroup::name)).forEach(group -> {
                out.labeledSection("group", "group", group.name(), group.comment()).blank();
                group.rules().forEach(rule -> rule(out, rule, false));
                out.blank();
            });
        }
        return out.text();
    }

    /** One rule line, in Proxmox's word order. */
    public static String ruleLine(FwRule rule, boolean allowIface) {
        ConfigWriter out = new ConfigWriter();
        rule(out, rule, allowIface);
        return out.text();
    }

    private static void rule(ConfigWriter out, FwRule rule, boolean allowIface) {
        List<ConfigWriter.Field> words = new ArrayList<>();
        String type = (rule.enabled() ? "" : "|") + rule.type().name();
        words.add(field("type", type));
        words.add(field("action", rule.macro().map(m -> m + "(" + rule.action() + ")").orElse(rule.action())));
        if (allowIface) {
            rule.iface().ifPresent(v -> words.addAll(List.of(field("iface", "-i"), field("iface", v))));
        }
        if (rule.type() != RuleType.GROUP) {
            rule.source().ifPresent(v -> words.addAll(List.of(field("source", "-source"), field("source", v))));
            rule.dest().ifPresent(v -> words.addAll(List.of(field("dest", "-dest"), field("dest", v))));
            rule.proto().ifPresent(v -> words.addAll(List.of(field("proto", "-p"), field("proto", v))));
            rule.dport().ifPresent(v -> words.addAll(List.of(field("dport", "-dport"), field("dport", v))));
            rule.sport().ifPresent(v -> words.addAll(List.of(field("sport", "-sport"), field("sport", v))));
            rule.log().ifPresent(v -> words.addAll(List.of(field("log", "-log"), field("log", v))));
            rule.icmpType().ifPresent(v -> words.addAll(List.of(field("icmp-type", "-icmp-type"), field("icmp-type", v))));
        }
        out.words(rule.comment(), words.toArray(ConfigWriter.Field[]::new));
    }
}
