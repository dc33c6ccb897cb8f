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
