package org.corral.qemu;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pins the unversioned machine types to a version of the local QEMU, as Proxmox does at each
 * start: {@code pc} runs as the newest {@code pc-i440fx-X.Y}, {@code q35} as the newest
 * {@code pc-q35-X.Y}, so that a saved state records a machine a later QEMU still offers. A
 * versioned type is kept as it is. {@code -machine help} is asked once per QEMU binary.
 */
public final class QemuMachines {
    private static final Logger log = LoggerFactory.getLogger(QemuMachines.class);
    private static final Pattern ALIAS = Pattern.compile("\\(alias of ([^)\\s]+)\\)");
    private static final Map<String, String> FAMILIES = Map.of("pc", "pc-i440fx-", "q35", "pc-q35-");

    /** The machine types of one QEMU binary, and what the unversioned names stand for. */
    record Catalog(List<String> names, Map<String, String> aliases) {
        Catalog {
            names = List.copyOf(names);
            aliases = Map.copyOf(aliases);
        }

        /** Parses the output of {@code qemu-system-x86_64 -machine help}. */
        static Catalog parse(String help) {
            List<String> names = new ArrayList<>();
            Map<String, String> aliases = new LinkedHashMap<>();
            for (String line : help.lines().toList()) {
                if (line.isBlank() || Character.isWhitespace(line.charAt(0)) || line.startsWith("Supported machines")) {
                    continue;
                }
                String name = line.split("\\s+", 2)[0];
                names.add(name);
                Matcher alias = ALIAS.matcher(line);
                if (alias.find()) {
                    aliases.put(name, alias.group(1));
                }
            }
            return new Catalog(names, aliases);
        }

        /** The versioned type {@code type} runs as; an unknown or versioned type is answered as it is. */
        String pin(String type) {
            String prefix = FAMILIES.get(type);
            if (prefix == null) {
                return type;
            }
            String alias = aliases.get(type);
            if (alias != null && alias.startsWith(prefix)) {
                return alias;
            }
            return names.stream().filter(n -> n.startsWith(prefix) && n.substring(prefix.length()).matches("\\d+(\\.\\d+)+"))
                    .max(Comparator.comparing(n -> version(n.substring(prefix.length())), QemuMachines::compareVersions))
                    .orElse(type);
        }
    }

    private final Map<String, Catalog> catalogs = new ConcurrentHashMap<>();

    /** The type to start {@code type} as with {@code binary}; unpinned when QEMU can't be asked. */
    public String pin(String binary, String type) {
        if (!FAMILIES.containsKey(type)) {
            return type;
        }
        return catalog(binary).map(c -> c.pin(type)).orElse(type);
    }

    private Optional<Catalog> catalog(String binary) {
        Catalog known = catalogs.get(binary);
        if (known != null) {
            return Optional.of(known);
        }
        ProcessResult result = ProcessRunner.of(binary, "-machine", "help").timeout(Duration.ofSeconds(30)).run();
        if (!result.ok()) {
            log.warn("Cannot list the machine types of {}: {}", binary, result.describeFailure());
            return Optional.empty();
        }
        Catalog catalog = Catalog.parse(result.stdout());
        catalogs.put(binary, catalog);
        return Optional.of(catalog);
    }

    private static int[] version(String text) {
        String[] parts = text.split("\\.");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i]);
        }
        return out;
    }

    private static int compareVersions(int[] a, int[] b) {
        return java.util.Arrays.compare(a, b);
    }
}
