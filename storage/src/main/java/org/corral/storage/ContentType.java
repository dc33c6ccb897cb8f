package org.corral.storage;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** What a storage may hold, in Proxmox's {@code content} names. */
public enum ContentType {
    IMAGES("images"),
    ROOTDIR("rootdir"),
    VZTMPL("vztmpl"),
    ISO("iso"),
    BACKUP("backup"),
    SNIPPETS("snippets"),
    IMPORT("import");

    /** The content value that stands for "nothing" in storage.cfg. */
    public static final String NONE = "none";

    private final String proxmoxName;

    ContentType(String proxmoxName) {
        this.proxmoxName = proxmoxName;
    }

    public String proxmoxName() {
        return proxmoxName;
    }

    public static Optional<ContentType> byName(String name) {
        return Arrays.stream(values()).filter(c -> c.proxmoxName.equals(name)).findFirst();
    }

    /**
     * Parses a {@code content} list ({@code iso,vztmpl,backup}); {@code none} alone means no content.
     * Throws IllegalArgumentException naming the first unknown value.
     */
    public static Set<ContentType> parseList(String text) {
        Set<ContentType> out = EnumSet.noneOf(ContentType.class);
        boolean none = false;
        for (String item : text.split("[,;\\s]+")) {
            if (item.isEmpty()) {
                continue;
            }
            if (item.equals(NONE)) {
                none = true;
                continue;
            }
            out.add(byName(item).orElseThrow(() -> new IllegalArgumentException("invalid content type '" + item + "'")));
        }
        if (none && !out.isEmpty()) {
            throw new IllegalArgumentException("'none' can't be combined with other content types");
        }
        return out;
    }

    /** Writes a set the way the API answers it: declaration order, comma separated, {@code none} when empty. */
    public static String formatList(Set<ContentType> content) {
        if (content.isEmpty()) {
            return NONE;
        }
        return content.stream().sorted().map(ContentType::proxmoxName).collect(Collectors.joining(","));
    }
}
