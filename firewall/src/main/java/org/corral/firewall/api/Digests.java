package org.corral.firewall.api;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.corral.core.config.Digest;

/**
 * The {@code digest} of one list or object the API shows (the rules, one IP set, the options):
 * SHA-1 over its entries' sorted {@code key:value} lines, so an edit elsewhere in the same file
 * does not make a client's digest stale, as in Proxmox.
 */
final class Digests {
    private Digests() {}

    static String list(List<? extends Map<String, ?>> entries) {
        StringBuilder text = new StringBuilder();
        entries.forEach(entry -> append(text, entry));
        return Digest.sha1Hex(text.toString());
    }

    /** The entries, each with the list's digest added, as Proxmox's list answers carry it. */
    static List<Map<String, Object>> withDigest(List<Map<String, Object>> entries) {
        String digest = list(entries);
        return entries.stream().map(e -> {
            Map<String, Object> out = new java.util.LinkedHashMap<>(e);
            out.put("digest", digest);
            return out;
        }).toList();
    }

    /** A set, alias or group name parameter: Proxmox's pattern and length limits. */
    static org.corral.core.schema.Schema name(int maxLength, String description) {
        return org.corral.core.schema.Schema.string().pattern("[A-Za-z][A-Za-z0-9\\-_]+").minLength(2).maxLength(maxLength)
                .description(description);
    }

    static String object(Map<String, ?> object) {
        StringBuilder text = new StringBuilder();
        append(text, object);
        return Digest.sha1Hex(text.toString());
    }

    private static void append(StringBuilder text, Map<String, ?> entry) {
        new TreeMap<>(entry).forEach((k, v) -> {
            if (v != null && !k.equals("digest")) {
                text.append(k).append(':').append(v).append('\n');
            }
        });
    }
}
