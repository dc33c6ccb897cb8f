package org.corral.storage;

import java.util.Arrays;
import java.util.Optional;

/** Image formats of guest volumes, in Proxmox's names. {@code subvol} is a directory, not a file. */
public enum VolumeFormat {
    RAW("raw"),
    QCOW2("qcow2"),
    VMDK("vmdk"),
    SUBVOL("subvol");

    private final String proxmoxName;

    VolumeFormat(String proxmoxName) {
        this.proxmoxName = proxmoxName;
    }

    public String proxmoxName() {
        return proxmoxName;
    }

    /** The file name suffix on file storages: {@code .qcow2}. */
    public String extension() {
        return "." + proxmoxName;
    }

    public boolean isDirectory() {
        return this == SUBVOL;
    }

    public static Optional<VolumeFormat> byName(String name) {
        return Arrays.stream(values()).filter(f -> f.proxmoxName.equals(name)).findFirst();
    }

    @Override
    public String toString() {
        return proxmoxName;
    }
}
