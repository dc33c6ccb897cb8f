package org.corral.storage;

import static java.util.Objects.requireNonNull;


/**
 * One storage.cfg option a storage type takes: its name in {@link StorageOptions}, whether a new
 * storage must set it, and whether it is fixed once the storage exists (Proxmox's {@code fixed}).
 */
public record OptionSpec(String name, boolean required, boolean fixed) {
    public OptionSpec {
        requireNonNull(name, "name is null");
        if (!StorageOptions.known(name)) {
            throw new IllegalArgumentException("unknown storage option '" + name + "'");
        }
    }

    public static OptionSpec optional(String name) {
        return new OptionSpec(name, false, false);
    }

    /** Required on create, unchangeable afterwards. */
    public static OptionSpec fixed(String name) {
        return new OptionSpec(name, true, true);
    }

    /** Optional on create, unchangeable afterwards. */
    public static OptionSpec fixedOptional(String name) {
        return new OptionSpec(name, false, true);
    }
}
