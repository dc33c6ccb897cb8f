package org.corral.firewall;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Proxmox VE's 84 firewall macros ({@code SSH(ACCEPT)} and the like), read from {@code macros.tsv}:
 * each expands to one rule per entry, with the rule's action in place of {@link #PARAM}.
 */
public final class Macros {
    /** The placeholder an expansion's action has for the action the rule gives. */
    public static final String PARAM = "PARAM";

    /** One rule a macro expands to; empty fields are left to the rule that uses the macro. */
    public record Expansion(String action, Optional<String> proto, Optional<String> dport, Optional<String> sport,
            Optional<String> icmpType) {
        public Expansion {
            requireNonNull(action, "action is null");
            requireNonNull(proto, "proto is null");
            requireNonNull(dport, "dport is null");
            requireNonNull(sport, "sport is null");
            requireNonNull(icmpType, "icmpType is null");
        }
    }

    public record Macro(String name, String description, List<Expansion> expansions) {
        public Macro {
            requireNonNull(name, "name is null");
            requireNonNull(description, "description is null");
            expansions = List.copyOf(expansions);
        }
    }

    private static final Macros STANDARD = load();

    private final Map<String, Macro> byKey;

    private Macros(Map<String, Macro> byKey) {
        this.byKey = Collections.unmodifiableMap(byKey);
    }

    public static Macros standard() {
        return STANDARD;
    }

    /** Every macro, sorted by name as Proxmox lists them. */
    public List<Macro> all() {
        return byKey.values().stream().sorted((a, b) -> a.name().compareTo(b.name())).toList();
    }

    /** The macro of that name in any case ({@code ssh} is {@code SSH}), as Proxmox looks them up. */
    public Optional<Macro> find(String name) {
        return Optional.ofNullable(byKey.get(name.toLowerCase(Locale.ROOT)));
    }

    private static Macros load() {
        try (InputStream in = Macros.class.getResourceAsStream("macros.tsv")) {
            if (in == null) {
                throw new IllegalStateException("macros.tsv is missing");
            }
            Map<String, Macro> macros = new LinkedHashMap<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] columns = line.split("\t");
                List<Expansion> expansions = new ArrayList<>();
                for (int i = 2; i < columns.length; i++) {
                    expansions.add(expansion(columns[i]));
                }
                macros.put(columns[0].toLowerCase(Locale.ROOT), new Macro(columns[0], columns[1], expansions));
            }
            return new Macros(macros);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Expansion expansion(String column) {
        String[] words = column.split(" ");
        Map<String, String> fields = new LinkedHashMap<>();
        for (int i = 1; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            fields.put(words[i].substring(0, eq), words[i].substring(eq + 1));
        }
        return new Expansion(words[0], Optional.ofNullable(fields.get("proto")), Optional.ofNullable(fields.get("dport")),
                Optional.ofNullable(fields.get("sport")), Optional.ofNullable(fields.get("icmp-type")));
    }
}
