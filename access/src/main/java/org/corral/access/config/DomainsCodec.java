package org.corral.access.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.access.Ids;
import org.corral.core.config.ConfigWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes domains.cfg, a Proxmox section config: {@code type: realm} header lines,
 * tab-indented {@code key value} lines, a blank line after each section. The comment comes first,
 * then the other options; for the built-in types sorted by name as Proxmox writes them, for other
 * types in the order they were read.
 */
public final class DomainsCodec {
    private static final Logger log = LoggerFactory.getLogger(DomainsCodec.class);
    private static final Pattern HEADER = Pattern.compile("(\\S+):\\s*(\\S+)\\s*");
    private static final Pattern OPTION = Pattern.compile("\\s+(\\S+)(\\s+(.*\\S))?\\s*");
    private static final Set<String> SORTED_TYPES = Set.of("pam", "pve");
    private static final Set<String> BOOLEANS = Set.of("default", "verify", "secure", "case-sensitive");

    private DomainsCodec() {}

    public static DomainsConfig parse(String text) {
        List<RealmConfig> realms = new ArrayList<>();
        String[] lines = text.split("\n");
        int i = 0;
        while (i < lines.length) {
            String line = lines[i++];
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            Matcher header = HEADER.matcher(line);
            if (!header.matches()) {
                log.warn("domains.cfg line {}: syntax error - ignored", i);
                continue;
            }
            String type = header.group(1).toLowerCase(Locale.ROOT);
            String realm = header.group(2);
            boolean skip = !Ids.isRealm(realm);
            if (skip) {
                log.warn("domains.cfg line {}: invalid realm '{}' - section ignored", i, realm);
            }
            Map<String, String> options = new LinkedHashMap<>();
            while (i < lines.length && !lines[i].isBlank()) {
                String optionLine = lines[i++];
                if (optionLine.startsWith("#")) {
                    continue;
                }
                Matcher option = OPTION.matcher(optionLine);
                if (!option.matches()) {
                    log.warn("domains.cfg line {}: syntax error - ignored", i);
                    continue;
                }
                String key = option.group(1);
                String value = option.group(3) == null ? "" : option.group(3);
                if (options.containsKey(key)) {
                    log.warn("domains.cfg line {}: duplicate attribute '{}' - ignored", i, key);
                    continue;
                }
                options.put(key, value(key, value));
            }
            if (!skip) {
                if (options.containsKey("comment")) {
                    options.put("comment", ProxmoxText.decode(options.get("comment")));
                }
                realms.add(new RealmConfig(realm, type, options));
            }
        }
        return new DomainsConfig(realms);
    }

    private static String value(String key, String value) {
        if (!BOOLEANS.contains(key)) {
            return value;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            // a bare boolean key means true
            case "", "1", "true", "yes", "on" -> "1";
            default -> "0";
        };
    }

    /** The file text; a key or value that would break the format is a ParameterError naming it. */
    public static String write(DomainsConfig config) {
        ConfigWriter out = new ConfigWriter();
        for (RealmConfig realm : config.realms().values()) {
            out.sectionHeader(realm.type(), "realm", realm.realm());
            if (ProxmoxText.truthy(realm.comment())) {
                out.option("comment", ProxmoxText.encode(realm.comment()));
            }
            List<String> keys = new ArrayList<>(realm.options().keySet());
            keys.remove("comment");
            if (SORTED_TYPES.contains(realm.type())) {
                keys.sort(ProxmoxText.BYTE_ORDER);
            }
            for (String key : keys) {
                String value = realm.options().get(key);
                if (!value.isEmpty()) {
                    out.option(key, value);
                }
            }
            out.blank();
        }
        return out.text();
    }
}
