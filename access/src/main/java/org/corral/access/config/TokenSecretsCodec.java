package org.corral.access.config;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.access.Ids;
import org.corral.core.config.ConfigWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes priv/token.cfg: one {@code user@realm!tokenid VALUE} line per API token. Corral
 * stores the SHA-256 hex of the secret as VALUE; a plain UUID (as Proxmox stores it) is read too.
 */
public final class TokenSecretsCodec {
    private static final Logger log = LoggerFactory.getLogger(TokenSecretsCodec.class);
    private static final Pattern LINE = Pattern.compile("(\\S+) (\\S+)");

    private TokenSecretsCodec() {}

    /** Full token id to stored value. */
    public static SortedMap<String, String> parse(String text) {
        TreeMap<String, String> values = new TreeMap<>(ProxmoxText.BYTE_ORDER);
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (m.matches() && Ids.token(m.group(1)).isPresent()) {
                values.put(m.group(1), m.group(2));
            } else {
                log.warn("skipping invalid token.cfg entry");
            }
        }
        return Collections.unmodifiableSortedMap(values);
    }

    public static String write(Map<String, String> values) {
        TreeMap<String, String> sorted = new TreeMap<>(ProxmoxText.BYTE_ORDER);
        sorted.putAll(values);
        ConfigWriter out = new ConfigWriter();
        sorted.forEach((tokenid, value) -> out.fields(' ', false, ConfigWriter.field("tokenid", tokenid), ConfigWriter.field("value", value)));
        return out.text();
    }
}
