package org.corral.access.config;

import static java.util.Objects.requireNonNull;

import java.util.Comparator;

/**
 * One role granted to one user, group or token on one ACL path. An {@code acl:} line of user.cfg
 * bundles several of these.
 */
public record AclEntry(String path, Kind kind, String ugid, String roleid, boolean propagate) {
    /** Who an entry is for; the order is the one Proxmox's GET /access/acl lists them in. */
    public enum Kind {
        USER("user"), GROUP("group"), TOKEN("token");

        private final String apiName;

        Kind(String apiName) {
            this.apiName = apiName;
        }

        public String apiName() {
            return apiName;
        }
    }

    /** Depth-first over the path tree, children by name, then subject and role. */
    public static final Comparator<AclEntry> ORDER = Comparator.<AclEntry, String>comparing(AclEntry::path, AclEntry::comparePaths)
            .thenComparing(AclEntry::kind)
            .thenComparing(AclEntry::ugid, ProxmoxText.BYTE_ORDER)
            .thenComparing(AclEntry::roleid, ProxmoxText.BYTE_ORDER);

    public AclEntry {
        requireNonNull(path, "path is null");
        requireNonNull(kind, "kind is null");
        requireNonNull(ugid, "ugid is null");
        requireNonNull(roleid, "roleid is null");
    }

    /** Whether {@code other} grants to the same subject the same role on the same path. */
    public boolean sameGrant(AclEntry other) {
        return path.equals(other.path) && kind == other.kind && ugid.equals(other.ugid) && roleid.equals(other.roleid);
    }

    /** Compares ACL paths segment by segment, as Proxmox walks its ACL tree. */
    public static int comparePaths(String a, String b) {
        String[] sa = segments(a);
        String[] sb = segments(b);
        for (int i = 0; i < Math.min(sa.length, sb.length); i++) {
            int c = ProxmoxText.BYTE_ORDER.compare(sa[i], sb[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(sa.length, sb.length);
    }

    private static String[] segments(String path) {
        return path.equals("/") ? new String[0] : path.substring(1).split("/");
    }
}
