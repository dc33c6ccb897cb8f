package org.corral.core.config;

import static java.util.Objects.requireNonNull;

/**
 * One file of the config store as read: its text, the store's version of it (for compare-and-set
 * writes) and its Proxmox {@code digest} (SHA-1 hex of the content).
 */
public record ConfigFile(String path, String text, int version) {
    public ConfigFile {
        requireNonNull(path, "path is null");
        requireNonNull(text, "text is null");
    }

    public String digest() {
        return Digest.sha1Hex(text);
    }
}
