package org.corral.firewall;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads Proxmox's {@code .fw} format. A line that can't be read (a bad rule, option, alias or
 * IP set entry) becomes a {@link ParseWarning} with its file and line and is skipped; the rest of
 * the file still counts, as Proxmox's parser does.
 */
public final class FwParser {
    private static final Pattern HEADER = Pattern.compile("\\[(options|aliases|rules)]", Pattern.CASE_INSENSITIVE);
    private static final Pattern NAMED_HEADER = Pattern.compile("\\[(group|ipset)\\s+(\\S+)]\\s*(?:#\\s*(.*?)\\s*)?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern OPTION = Pattern.compile("(\\S+?):\\s*(\\S*)");
    private static final Pattern COMMENT = Pattern.compile("#\\s*(.*?)\\s*$");
    private static final Pattern MACRO_ACTION = Pattern.compile("(\\S+)\\((ACCEPT|DROP|REJECT)\\)");
    private static final Pattern RULE_OPTION = Pattern.compile("--?(i|p|proto|dport|sport|source|dest|log|icmp-type)\\s+(\\S+)\\s*");

    /**
     * A parsed file, what was skipped in it, and the line (from 1) each rule came from: {@code ruleLines}
     * for {@code [RULES]} in list order, {@code groupLines} for each {@code [group name]}.
     */
    public record Parsed(FwConfig config, List<ParseWarning> warnings, List<Integer> ruleLines, Map<String, List<Integer>> groupLines) {
        public Parsed {
            requireNonNull(config, "config is null");
            warnings = List.copyOf(warnings);
            ruleLines = List.copyOf(ruleLines);
            groupLines = Map.copyOf(groupLines);
        }

        public Parsed(FwConfig config, List<ParseWarning> warnings) {
            this(config, warnings, List.of(), Map.of());
        }
    }

    private FwParser() {}

    /** A line without its trailing {@code # comment}, and the comment. */
    private record Commented(String body, Optional<String> comment) {
        static Commented split(String line) {
            int hash = line.indexOf('#');
            if (hash < 0) {
                return new Commented(line, Optional.empty());
            }
            Matcher m = COMMENT.matcher(line.substring(hash));
            m.find();
            return new Commented(line.substring(0, hash).strip(), Optional.of(m.group(1)).filter(c -> !c.isEmpty()));
        }
    }

    /** Parses {@code text}, naming {@code file} in warnings. */
    public static Parsed parse(String file, String text, FwKind kind) {
        return new State(file, kind).run(text);
    }

    /** Parses one rule line for {@code env}; an {@link IllegalArgumentException} says why it can't be read. */
    public static FwRule rule(String line, RuleEnv env) {
        Commented commented = Commented.split(line.strip());
        String rest = commented.body();
        Optional<String> comment = commented.comment();
        boolean enabled = true;
        if (rest.startsWith("|")) {
            enabled = false;
            rest = rest.substring(1).strip();
        }
        String[] head = rest.split("\\s+", 3);
        if (head.length < 2) {
            throw new IllegalArgumentException("unable to parse rule: " + rest);
        }
        RuleType type = RuleType.parse(head[0]).orElseThrow(() -> new IllegalArgumentException("unknown rule type '" + head[0] + "'"));
        String action = head[1];
        Map<String, String> fields = new LinkedHashMap<>();
        if (type != RuleType.GROUP) {
            Matcher m = MACRO_ACTION.matcher(action);
            if (m.matches()) {
                String macro = m.group(1);
                // Proxmox stores a macro under its preferred spelling
                fields.put("macro", Macros.standard().find(macro).map(Macros.Macro::name).orElse(macro));
                action = m.group(2);
            }
        }
        String options = head.length > 2 ? head[2] : "";
        while (!options.isEmpty()) {
            Matcher m = RULE_OPTION.matcher(options);
            if (!m.lookingAt() || type == RuleType.GROUP && !m.group(1).equals("i")) {
                throw new IllegalArgumentException("unable to parse rule parameters: " + options);
            }
            String name = switch (m.group(1)) {
                case "i" -> "iface";
                case "p", "proto" -> "proto";
                default -> m.group(1);
            };
            if (name.equals("log") && !List.of(FwOptions.LOG_LEVELS).contains(m.group(2))) {
                throw new IllegalArgumentException("unable to parse rule parameters: " + options);
            }
            fields.put(name, m.group(2));
            options = options.substring(m.end());
        }
        comment.ifPresent(c -> fields.put("comment", c));
        FwRule rule = FwRule.of(type, enabled, action, fields);
        Map<String, String> errors = RuleChecker.check(rule, env, Optional.empty());
        if (!errors.isEmpty()) {
            StringBuilder message = new StringBuilder("errors in rule parameters:");
            errors.forEach((k, v) -> message.append(' ').append(k).append(": ").append(v).append(';'));
            throw new IllegalArgumentException(message.substring(0, message.length() - 1));
        }
        return rule;
    }

    private static final class State {
        private final String file;
        private final FwKind kind;
        private final List<ParseWarning> warnings = new ArrayList<>();
        private final Map<String, String> options = new LinkedHashMap<>();
        private final Map<String, Alias> aliases = new LinkedHashMap<>();
        private final Map<String, IpSetBuilder> ipsets = new LinkedHashMap<>();
        private final List<FwRule> rules = new ArrayList<>();
        private final Map<String, GroupBuilder> groups = new LinkedHashMap<>();
        private final List<Integer> ruleLines = new ArrayList<>();
        private final Map<String, List<Integer>> groupLines = new LinkedHashMap<>();
        private FwKind.Section section;
        private boolean skipping;
        private String current;
        private int lineNumber;

        State(String file, FwKind kind) {
            this.file = file;
            this.kind = kind;
        }

        Parsed run(String text) {
            for (String raw : text.split("\n", -1)) {
                lineNumber++;
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                try {
                    if (!header(line)) {
                        content(line);
                    }
                } catch (IllegalArgumentException e) {
                    warn(e.getMessage());
                }
            }
            FwConfig config = new FwConfig(options, List.copyOf(aliases.values()),
                    ipsets.values().stream().map(IpSetBuilder::build).toList(), rules,
                    groups.values().stream().map(GroupBuilder::build).toList());
            return new Parsed(config, warnings, ruleLines, groupLines);
        }

        private void warn(String message) {
            warnings.add(new ParseWarning(file, lineNumber, message));
        }

        private boolean header(String line) {
            Matcher plain = HEADER.matcher(line);
            Matcher named = NAMED_HEADER.matcher(line);
            FwKind.Section next;
            if (plain.matches()) {
                next = FwKind.Section.valueOf(plain.group(1).toUpperCase(Locale.ROOT));
            } else if (named.matches()) {
                next = FwKind.Section.valueOf(named.group(1).toUpperCase(Locale.ROOT));
            } else {
                return false;
            }
            section = next;
            current = null;
            skipping = false;
            if (!kind.allows(next)) {
                skipping = true;
                throw new IllegalArgumentException("section [" + next.name() + "] is not allowed in this file, skipping it");
            }
            if (named.matches()) {
                String name = named.group(2).toLowerCase(Locale.ROOT);
                Optional<String> comment = Optional.ofNullable(named.group(3)).filter(c -> !c.isEmpty());
                int max = next == FwKind.Section.GROUP ? RuleChecker.GROUP_NAME_MAX : RuleChecker.IPSET_NAME_MAX;
                if (RuleChecker.nameError(name, max).isPresent()) {
                    skipping = true;
                    String what = next == FwKind.Section.GROUP ? "security group" : "ipset";
                    throw new IllegalArgumentException("invalid " + what + " name '" + named.group(2) + "'");
                }
                current = name;
                if (next == FwKind.Section.GROUP) {
                    groups.put(name, new GroupBuilder(name, comment));
                } else {
                    ipsets.put(name, new IpSetBuilder(name, comment));
                }
            }
            return true;
        }

        private void content(String line) {
            if (skipping) {
                return;
            }
            if (section == null) {
                throw new IllegalArgumentException("skip line - no section");
            }
            switch (section) {
                case OPTIONS -> option(line);
                case ALIASES -> alias(line);
                case IPSET -> ipsets.get(current).add(line);
                case RULES -> {
                    rules.add(FwParser.rule(line, kind.env()));
                    ruleLines.add(lineNumber);
                }
                case GROUP -> {
                    groups.get(current).rules.add(FwParser.rule(line, RuleEnv.GROUP));
                    groupLines.computeIfAbsent(current, g -> new ArrayList<>()).add(lineNumber);
                }
            }
        }

        private void option(String line) {
            Matcher m = OPTION.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException("can't parse option '" + line + "'");
            }
            String name = m.group(1).toLowerCase(Locale.ROOT);
            if (!kind.options().schemas().containsKey(name)) {
                throw new IllegalArgumentException("can't parse option '" + line + "'");
            }
            options.put(name, m.group(2).isEmpty() ? "" : kind.options().fileValue(name, m.group(2)));
        }

        private void alias(String line) {
            Commented commented = Commented.split(line);
            String body = commented.body();
            Optional<String> comment = commented.comment();
            String[] words = body.split("\\s+");
            if (words.length != 2) {
                throw new IllegalArgumentException("can't parse alias '" + line + "'");
            }
            RuleChecker.nameError(words[0], RuleChecker.ALIAS_NAME_MAX).ifPresent(e -> {
                throw new IllegalArgumentException("invalid alias name '" + words[0] + "'");
            });
            RuleChecker.cidrVersion(words[1]);
            Alias alias = new Alias(words[0], words[1], comment);
            if (aliases.putIfAbsent(alias.key(), alias) != null) {
                throw new IllegalArgumentException("duplicate alias '" + words[0] + "'");
            }
        }
    }

    private record GroupBuilder(String name, Optional<String> comment, List<FwRule> rules) {
        GroupBuilder(String name, Optional<String> comment) {
            this(name, comment, new ArrayList<>());
        }

        SecurityGroup build() {
            return new SecurityGroup(name, comment, rules);
        }
    }

    private record IpSetBuilder(String name, Optional<String> comment, List<IpSetEntry> entries, Set<String> seen) {
        IpSetBuilder(String name, Optional<String> comment) {
            this(name, comment, new ArrayList<>(), new HashSet<>());
        }

        void add(String line) {
            Commented commented = Commented.split(line);
            String body = commented.body();
            Optional<String> comment = commented.comment();
            boolean nomatch = body.startsWith("!");
            String cidr = (nomatch ? body.substring(1) : body).strip();
            entries.add(IpSets.checkEntry(name, cidr, nomatch, comment, seen));
            seen.add(cidr);
        }

        IpSet build() {
            return new IpSet(name, comment, entries);
        }
    }
}
