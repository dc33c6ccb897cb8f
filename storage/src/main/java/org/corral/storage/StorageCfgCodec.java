package org.corral.storage;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.config.ConfigWriter;
import org.corral.core.config.Digest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * storage.cfg in Proxmox's section-config format:
 * <pre>
 * dir: local
 * 	path /var/lib/vz
 * 	content iso,vztmpl,backup
 *
 * </pre>
 * A header {@code type: id}, then one indented {@code key value} line per option, and a blank line
 * after each section. Options keep their order, so a file this codec wrote reads back and writes
 * out byte for byte. Lines it cannot read are skipped with a warning, as Proxmox does.
 */
public final class StorageCfgCodec {
    private static final Logger log = LoggerFactory.getLogger(StorageCfgCodec.class);
    private static final Pattern HEADER = Pattern.compile("(\\S+):\\s*(\\S+)\\s*");
    private static final Pattern OPTION = Pattern.compile("\\s+(\\S+)(?:\\s+(.*\\S))?\\s*");
    private static final Pattern ID = Pattern.compile("[a-z][a-z0-9\\-_.]*[a-z0-9]");

    private StorageCfgCodec() {}

    public static StorageCfg parse(String text, int version) {
        Map<String, StorageConfig> storages = new LinkedHashMap<>();
        String type = null;
        String id = null;
        Map<String, String> options = null;
        int number = 0;
        for (String line : text.split("\n", -1)) {
            number++;
            if (line.startsWith("#")) {
                continue;
            }
            if (line.isBlank()) {
                if (options != null) {
                    add(storages, type, id, options, number);
                    options = null;
                }
                continue;
            }
            if (options == null) {
                Matcher header = HEADER.matcher(line);
                if (!header.matches()) {
                    log.warn("storage.cfg line {}: ignoring '{}', expected 'TYPE: ID'", number, line);
                    continue;
                }
                type = header.group(1);
                id = header.group(2);
                options = new LinkedHashMap<>();
                continue;
            }
            Matcher option = OPTION.matcher(line);
            if (!option.matches()) {
                // a header right after a section without a blank line starts the next section
                Matcher header = HEADER.matcher(line);
                if (header.matches()) {
                    add(storages, type, id, options, number);
                    type = header.group(1);
                    id = header.group(2);
                    options = new LinkedHashMap<>();
                } else {
                    log.warn("storage.cfg line {}: ignoring '{}'", number, line);
                }
                continue;
            }
            String key = option.group(1);
            // a bare boolean key means it is set, as in Proxmox's parser
            String value = option.group(2) == null ? "1" : option.group(2);
            if (options.putIfAbsent(key, value) != null) {
                log.warn("storage.cfg line {}: duplicate option '{}' in storage '{}', keeping the first", number, key, id);
            }
        }
        if (options != null) {
            add(storages, type, id, options, number);
        }
        return new StorageCfg(storages, version, Digest.sha1Hex(text));
    }

    private static void add(Map<String, StorageConfig> storages, String type, String id, Map<String, String> options, int line) {
        if (!ID.matcher(id).matches()) {
            log.warn("storage.cfg line {}: ignoring section with invalid storage ID '{}'", line, id);
            return;
        }
        if (storages.containsKey(id)) {
            log.warn("storage.cfg line {}: ignoring duplicate storage ID '{}'", line, id);
            return;
        }
        storages.put(id, new StorageConfig(type, id, options));
    }

    /** Writes every section; a key or value that would break the format is a ParameterError naming it. */
    public static String write(Iterable<StorageConfig> storages) {
        ConfigWriter out = new ConfigWriter();
        for (StorageConfig storage : storages) {
            out.sectionHeader(storage.type(), "storage", storage.id());
            storage.options().forEach((key, value) -> {
                if (!value.isBlank()) {
                    out.option(key, value.strip());
                }
            });
            out.blank();
        }
        return out.text();
    }
}
