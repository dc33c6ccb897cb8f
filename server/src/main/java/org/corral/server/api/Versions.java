package org.corral.server.api;

/** What {@code /version} reports: the Proxmox VE API level Corral implements, and Corral's own version. */
public final class Versions {
    /** Clients branch on the major version; Corral follows Proxmox VE 9's API and privileges. */
    public static final String PVE_VERSION = "9.0.0";
    public static final String PVE_RELEASE = "9.0";
    public static final String PRODUCT = "corral";
    public static final String CORRAL_VERSION = "0.1.0";

    private Versions() {}
}
