package org.corral.storage;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.corral.core.schema.Formats;
import org.corral.core.schema.PropertyFormat;
import org.corral.core.schema.Schema;

/**
 * Every storage.cfg option under its Proxmox name, declared once (as pve-storage declares its
 * {@code properties}); each storage type picks the ones it takes with {@link OptionSpec}s. The
 * API methods declare these schemas, so values are checked before any type-specific rule runs.
 */
public final class StorageOptions {
    /** Options whose value lives in {@code priv/storage/<id>.pw}, never in storage.cfg. */
    public static final Set<String> SECRETS = Set.of("password");
    /** Boolean options: written as {@code 1}/{@code 0} and answered as integers. */
    public static final Set<String> BOOLEANS;

    private static final String HOST = "[A-Za-z0-9.:\\-\\[\\]]+";
    private static final String NAME = "[A-Za-z0-9_.+][A-Za-z0-9_.+\\-]*";
    private static final Map<String, Schema> OPTIONS = build();

    static {
        Set<String> booleans = new TreeSet<>();
        OPTIONS.forEach((name, schema) -> {
            if (schema.type() == Schema.Type.BOOLEAN) {
                booleans.add(name);
            }
        });
        BOOLEANS = Collections.unmodifiableSet(booleans);
    }

    private StorageOptions() {}

    private static Map<String, Schema> build() {
        Map<String, Schema> o = new LinkedHashMap<>();
        o.put("path", Schema.string().pattern("/[^;()\\r\\n\\x00]*").maxLength(4096).optional()
                .description("File system path."));
        o.put("content", Schema.string().pattern("[a-z]+([,; ][a-z]+)*").maxLength(256).optional()
                .description("Allowed content types (images, rootdir, vztmpl, iso, backup, snippets, import); 'none' for none."));
        o.put("nodes", Schema.string().format(Formats.PVE_NODE + "-list").maxLength(4096).optional()
                .description("List of nodes for which the storage configuration applies."));
        o.put("disable", Schema.bool().optional().description("Flag to disable the storage."));
        o.put("shared", Schema.bool().optional()
                .description("Indicate that this is a single storage with the same contents on all nodes (or all listed in the 'nodes' option)."));
        o.put("format", Schema.string().enumValues("raw", "qcow2", "subvol", "vmdk").optional().description("Default image format."));
        o.put("preallocation", Schema.string().enumValues("off", "metadata", "falloc", "full").optional()
                .description("Preallocation mode for raw and qcow2 images. Using 'metadata' on raw images results in preallocation=off."));
        o.put("prune-backups", Schema.propertyString(PropertyFormat.of()
                        .key("keep-all", Schema.bool().optional().description("Keep all backups."))
                        .key("keep-last", Schema.integer().minimum(0).optional().description("Keep the last <N> backups."))
                        .key("keep-hourly", Schema.integer().minimum(0).optional().description("Keep backups for the last <N> different hours."))
                        .key("keep-daily", Schema.integer().minimum(0).optional().description("Keep backups for the last <N> different days."))
                        .key("keep-weekly", Schema.integer().minimum(0).optional().description("Keep backups for the last <N> different weeks."))
                        .key("keep-monthly", Schema.integer().minimum(0).optional().description("Keep backups for the last <N> different months."))
                        .key("keep-yearly", Schema.integer().minimum(0).optional().description("Keep backups for the last <N> different years.")))
                .optional().description("The retention options with shorter intervals are processed first."));
        o.put("max-protected-backups", Schema.integer().minimum(-1).optional()
                .description("Maximal number of protected backups per guest. Use '-1' for unlimited."));
        o.put("mkdir", Schema.bool().optional()
                .description("Create the directory if it doesn't exist and populate it with default sub-dirs. Deprecated, use create-base-path and create-subdirs."));
        o.put("create-base-path", Schema.bool().optional().description("Create the base directory if it doesn't exist."));
        o.put("create-subdirs", Schema.bool().optional().description("Populate the directory with the default structure."));
        o.put("is_mountpoint", Schema.string().pattern("[^\\r\\n\\x00;]*").maxLength(4096).optional()
                .description("Assume the given path is an externally managed mountpoint and consider the storage offline if it is not mounted. "
                        + "Using a boolean (yes/no) value serves as a shortcut to using the target path in this field."));
        o.put("server", Schema.string().pattern(HOST).maxLength(256).optional().description("Server IP or DNS name."));
        o.put("export", Schema.string().pattern("/[^;()\\s\\x00]*").maxLength(4096).optional().description("NFS export path."));
        o.put("options", Schema.string().pattern("[^\\s;\\x00]+").maxLength(1024).optional().description("NFS/CIFS mount options (see 'man nfs' or 'man mount.cifs')"));
        o.put("share", Schema.string().pattern(NAME).maxLength(256).optional().description("CIFS share."));
        o.put("subdir", Schema.string().pattern("/?[A-Za-z0-9_.+\\-/]*").maxLength(4096).optional().description("Subdir to mount."));
        o.put("username", Schema.string().pattern("[^\\s:;\\x00]+").maxLength(256).optional().description("RBD Id / CIFS or PBS user name."));
        o.put("password", Schema.string().maxLength(256).optional().secret().description("Password for accessing the share/datastore."));
        o.put("domain", Schema.string().pattern("[A-Za-z0-9_.\\-]+").maxLength(256).optional().description("CIFS domain."));
        o.put("smbversion", Schema.string().enumValues("default", "2.0", "2.1", "3", "3.0", "3.11").optional()
                .description("SMB protocol version. 'default' if not set, negotiates the highest SMB2+ version supported by both the client and server."));
        o.put("vgname", Schema.string().pattern("[a-zA-Z0-9.+_][a-zA-Z0-9.+_\\-]*").maxLength(128).optional().description("Volume group name."));
        o.put("base", Schema.string().pattern("[a-z][a-z0-9\\-_.]*[a-z0-9]:[A-Za-z0-9_.+\\-]+").maxLength(256).optional()
                .description("Base volume. This volume is automatically activated."));
        o.put("saferemove", Schema.bool().optional().description("Zero-out data when removing LVs."));
        o.put("tagged_only", Schema.bool().optional().description("Only use logical volumes tagged with 'pve-vm-ID'."));
        o.put("thinpool", Schema.string().pattern("[a-zA-Z0-9.+_][a-zA-Z0-9.+_\\-]*").maxLength(128).optional().description("LVM thin pool LV name."));
        o.put("pool", Schema.string().pattern("[A-Za-z0-9_.:\\-]+(/[A-Za-z0-9_.:\\-]+)*").maxLength(256).optional().description("Pool."));
        o.put("sparse", Schema.bool().optional().description("Use ZFS thin-provisioning."));
        o.put("blocksize", Schema.string().pattern("[1-9][0-9]*[kKmM]?").maxLength(16).optional().description("Block size"));
        o.put("mountpoint", Schema.string().pattern("/[^;()\\s\\x00]*").maxLength(4096).optional().description("mount point"));
        o.put("monhost", Schema.string().pattern("[A-Za-z0-9.:\\-\\[\\]]+([,; ][A-Za-z0-9.:\\-\\[\\]]+)*").maxLength(1024).optional()
                .description("IP addresses of monitors (for external clusters)."));
        o.put("krbd", Schema.bool().optional().description("Always access rbd through krbd kernel module."));
        o.put("namespace", Schema.string().pattern("[A-Za-z0-9_.\\-/]+").maxLength(256).optional().description("Namespace."));
        o.put("data-pool", Schema.string().pattern("[A-Za-z0-9_.\\-]+").maxLength(256).optional().description("Data Pool (for erasure coding only)"));
        o.put("fs-name", Schema.string().pattern("[A-Za-z0-9_.\\-]+").maxLength(256).optional().description("The Ceph filesystem name."));
        o.put("fuse", Schema.bool().optional().description("Mount CephFS through FUSE."));
        o.put("portal", Schema.string().pattern(HOST).maxLength(256).optional().description("iSCSI portal (IP or DNS name with optional port)."));
        o.put("target", Schema.string().pattern("[A-Za-z0-9.:\\-_]+").maxLength(256).optional().description("iSCSI target."));
        o.put("datastore", Schema.string().pattern(NAME).maxLength(256).optional().description("Proxmox Backup Server datastore name."));
        o.put("fingerprint", Schema.string().pattern("([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}").optional()
                .description("Certificate SHA 256 fingerprint."));
        o.put("encryption-key", Schema.string().maxLength(4096).optional().secret()
                .description("Encryption key. Use 'autogen' to generate one automatically without passphrase. The key is kept in priv/storage/<STORAGE>.enc; storage.cfg shows its fingerprint."));
        o.put("port", Schema.integer().minimum(1).maximum(65535).optional().description("For non default port."));
        return Collections.unmodifiableMap(o);
    }

    public static boolean known(String name) {
        return OPTIONS.containsKey(name);
    }

    /** Every option with its schema, in declaration order. */
    public static Map<String, Schema> all() {
        return OPTIONS;
    }

    public static Schema schema(String name) {
        Schema schema = OPTIONS.get(name);
        if (schema == null) {
            throw new IllegalArgumentException("unknown storage option '" + name + "'");
        }
        return schema;
    }
}
