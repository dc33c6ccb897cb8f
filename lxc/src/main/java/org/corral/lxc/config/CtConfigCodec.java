package org.corral.lxc.config;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.config.ConfigWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes {@code lxc/VMID.conf} exactly as pve-container does: {@code #} description
 * lines (percent-encoded) at the top of each section, {@code key: value} options sorted by key,
 * raw {@code lxc.*} keys after them in their own order, then {@code [pve:pending]} and the
 * snapshot sections sorted by name. {@code [PENDING]} (qemu-server's spelling) is read as well.
 */
public final class CtConfigCodec {
    private static final Logger log = LoggerFactory.getLogger(CtConfigCodec.class);
    private static final Pattern PENDING = Pattern.compile("\\[(?:pve:pending|PENDING)]\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern SNAPSHOT = Pattern.compile("\\[([a-z][a-z0-9_\\-]+)]\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern LXC_KEY = Pattern.compile("(lxc\\.[a-z0-9_\\-.]+)(?::|\\s*=)\\s*(.*?)\\s*");
    private static final Pattern DESCRIPTION = Pattern.compile("description:\\s*(.*\\S)\\s*");
    private static final Pattern OPTION = Pattern.compile("([a-z][a-z_]*\\d*):\\s*(.+?)\\s*");
    private static final String PENDING_SECTION = "pve:pending";

    private CtConfigCodec() {}

    public static CtConfig parse(String text) {
        Builder main = new Builder();
        Builder pending = new Builder();
        Map<String, Builder> snapshots = new TreeMap<>();
        Builder current = main;
        boolean inPending = false;
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (PENDING.matcher(line).matches()) {
                current = pending;
                inPending = true;
                continue;
            }
            Matcher snap = SNAPSHOT.matcher(line);
            if (snap.matches()) {
                current = snapshots.computeIfAbsent(snap.group(1), n -> new Builder());
                inPending = false;
                continue;
            }
            if (line.startsWith("#")) {
                current.description.append(decodeText(line.substring(1))).append('\n');
                continue;
            }
            Matcher m = LXC_KEY.matcher(line);
            if (m.matches()) {
                current.lxc.add(new CtSection.RawKey(m.group(1), m.group(2)));
                continue;
            }
            m = DESCRIPTION.matcher(line);
            if (m.matches()) {
                current.description.append(decodeText(m.group(1)));
                continue;
            }
            m = OPTION.matcher(line);
            if (m.matches()) {
                String key = m.group(1);
                if (key.equals("delete") && !inPending) {
                    log.warn("Ignoring config line '{}': property 'delete' is only allowed in [pve:pending]", line);
                    continue;
                }
                current.options.put(key, m.group(2));
                continue;
            }
            log.warn("Ignoring unparsable config line '{}'", line);
        }
        // a snapshot state on the current section is a leftover of an interrupted run
        main.options.remove("snapstate");
        Map<String, CtSection> snaps = new TreeMap<>();
        snapshots.forEach((name, b) -> snaps.put(name, b.build()));
        return new CtConfig(main.build(), pending.build(), new TreeMap<>(snaps));
    }

    /** The file text; a key or value that would break its line is a ParameterError naming the key. */
    public static String write(CtConfig config) {
        ConfigWriter out = new ConfigWriter();
        CtSection main = config.main().without("snapstate");
        writeSection(out, main);
        if (!config.pending().isEmpty()) {
            out.blank().section("pending", PENDING_SECTION);
            writeSection(out, config.pending());
        }
        config.snapshots().forEach((name, section) -> {
            out.blank().section("snapname", name);
            writeSection(out, section);
        });
        return out.text();
    }

    private static void writeSection(ConfigWriter out, CtSection section) {
        for (String line : descriptionLines(section.description())) {
            out.comment("description", encodeText(line));
        }
        section.options().forEach(out::keyValue);
        for (CtSection.RawKey raw : section.lxc()) {
            out.keyValue(raw.key(), raw.value());
        }
    }

    /** The lines Perl's {@code split /\n/} gives: trailing empty lines dropped. */
    private static List<String> descriptionLines(String description) {
        List<String> lines = new ArrayList<>(List.of(description.split("\n", -1)));
        while (!lines.isEmpty() && lines.getLast().isEmpty()) {
            lines.removeLast();
        }
        return lines;
    }

    /** Proxmox's {@code encode_text}: control and non-ASCII bytes, ':' and '%' as {@code %XX}. */
    public static String encodeText(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            boolean safe = c >= 0x20 && c <= 0x7e && c != '%' && c != ':';
            if (safe) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    /** Proxmox's {@code decode_text}: {@code %XX} unescaped, then read as UTF-8. */
    public static String decodeText(String text) {
        return ConfigWriter.decodeText(text);
    }

    private static final class Builder {
        final StringBuilder description = new StringBuilder();
        final TreeMap<String, String> options = new TreeMap<>();
        final List<CtSection.RawKey> lxc = new ArrayList<>();

        CtSection build() {
            return new CtSection(description.toString(), options, lxc);
        }
    }
}
