package org.corral.access.config;

import java.util.Optional;
import java.util.regex.Pattern;

/** ACL paths: Proxmox's normalization and the list of paths an ACL entry may be put on. */
public final class AclPaths {
    private static final Pattern CHARS = Pattern.compile("[A-Za-z0-9.\\-_/]+");
    private static final String ID = "[A-Za-z0-9.\\-_]+";
    private static final String ALNUM = "[A-Za-z0-9]+";
    private static final Pattern VALID = Pattern.compile(String.join("|",
            "/",
            "/access",
            "/access/groups",
            "/access/groups/" + ID,
            "/access/realm",
            "/access/realm/" + ID,
            "/nodes",
            "/nodes/" + ID,
            "/pool",
            "/pool/" + ID + "(?:/" + ID + "){0,2}",
            "/sdn",
            "/sdn/controllers",
            "/sdn/controllers/[A-Za-z0-9_\\-]+",
            "/sdn/dns",
            "/sdn/dns/" + ALNUM,
            "/sdn/fabrics",
            "/sdn/fabrics/" + ALNUM,
            "/sdn/ipams",
            "/sdn/ipams/" + ALNUM,
            "/sdn/prefix-lists",
            "/sdn/prefix-lists/" + ALNUM,
            "/sdn/route-maps",
            "/sdn/route-maps/" + ALNUM,
            "/sdn/zones",
            "/sdn/zones/" + ID,
            "/sdn/zones/" + ID + "/" + ID,
            "/sdn/zones/" + ID + "/" + ID + "/[1-9][0-9]{0,3}",
            "/storage",
            "/storage/" + ID,
            "/vms",
            "/vms/[1-9][0-9]{2,}",
            "/mapping",
            "/mapping/" + ID,
            "/mapping/" + ID + "/" + ID));

    private AclPaths() {}

    /**
     * Proxmox's {@code normalize_path}: squeezes repeated slashes, drops a trailing one, adds the
     * leading one, and refuses characters other than letters, digits, '.', '-', '_' and '/'.
     */
    public static Optional<String> normalize(String path) {
        if (path == null || path.isEmpty()) {
            return Optional.empty();
        }
        String p = path.replaceAll("/+", "/");
        if (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.isEmpty()) {
            p = "/";
        }
        if (!p.startsWith("/")) {
            p = "/" + p;
        }
        return CHARS.matcher(p).matches() ? Optional.of(p) : Optional.empty();
    }

    /** Proxmox's {@code check_path}: whether new ACL entries may be put on this (normalized) path. */
    public static boolean isValid(String path) {
        return VALID.matcher(path).matches();
    }
}
