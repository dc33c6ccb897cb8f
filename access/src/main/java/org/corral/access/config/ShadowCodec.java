package org.corral.access.config;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.corral.core.config.ConfigWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads and writes priv/shadow.cfg: one {@code userid:hash:} line per pve-realm user. */
public final class ShadowCodec {
    private static final Logger log = LoggerFactory.getLogger(ShadowCodec.class);
    private static final Pattern LINE = Pattern.compile("\\S+:\\S+:");

    private ShadowCodec() {}

    /** User name (without realm) to password hash. */
    public static SortedMap<String, String> parse(String text) {
        TreeMap<String, String> hashes = new TreeMap<>(ProxmoxText.BYTE_ORDER);
        int number = 0;
        for (String raw : text.split("\n")) {
            number++;
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (!LINE.matcher(line).matches()) {
                log.warn("pve shadow password: ignore invalid line {}", number);
                continue;
            }
            String[] fields = line.split(":");
            hashes.put(fields[0], fields[1]);
        }
        return Collections.unmodifiableSortedMap(hashes);
    }

    /** The file text; an empty name or hash, or one with ':' or a control character, is refused. */
    public static String write(Map<String, String> hashes) {
        TreeMap<String, String> sorted = new TreeMap<>(ProxmoxText.BYTE_ORDER);
        sorted.putAll(hashes);
        ConfigWriter out = new ConfigWriter();
        sorted.forEach((user, hash) -> {
            if (user.isBlank() || hash.isBlank()) {
                throw new IllegalArgumentException("invalid shadow entry for user '" + user + "'");
            }
            out.fields(':', true, ConfigWriter.field("userid", user), ConfigWriter.field("password", hash));
        });
        return out.text();
    }
}
