package org.corral.firewall;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One parsed {@code .fw} file: options as written (in file order), aliases, IP sets, rules and,
 * in {@code cluster.fw}, security groups. Immutable; the {@code with} methods give changed copies.
 */
public record FwConfig(Map<String, String> options, List<Alias> aliases, List<IpSet> ipsets, List<FwRule> rules,
        List<SecurityGroup> groups) {
    public static final FwConfig EMPTY = new FwConfig(Map.of(), List.of(), List.of(), List.of(), List.of());

    public FwConfig {
        options = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(options, "options is null")));
        aliases = List.copyOf(aliases);
        ipsets = List.copyOf(ipsets);
        rules = List.copyOf(rules);
        groups = List.copyOf(groups);
    }

    public FwConfig withOptions(Map<String, String> value) {
        return new FwConfig(value, aliases, ipsets, rules, groups);
    }

    public FwConfig withAliases(List<Alias> value) {
        return new FwConfig(options, value, ipsets, rules, groups);
    }

    public FwConfig withIpSets(List<IpSet> value) {
        return new FwConfig(options, aliases, value, rules, groups);
    }

    public FwConfig withRules(List<FwRule> value) {
        return new FwConfig(options, aliases, ipsets, value, groups);
    }

    public FwConfig withGroups(List<SecurityGroup> value) {
        return new FwConfig(options, aliases, ipsets, rules, value);
    }

    /** The alias of that name, compared as Proxmox does (case-insensitive). */
    public Optional<Alias> alias(String name) {
        String key = name.toLowerCase(Locale.ROOT);
        return aliases.stream().filter(a -> a.key().equals(key)).findFirst();
    }

    public Optional<IpSet> ipset(String name) {
        String key = name.toLowerCase(Locale.ROOT);
        return ipsets.stream().filter(s -> s.name().equals(key)).findFirst();
    }

    public Optional<SecurityGroup> group(String name) {
        String key = name.toLowerCase(Locale.ROOT);
        return groups.stream().filter(g -> g.name().equals(key)).findFirst();
    }
}
