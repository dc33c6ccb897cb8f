package org.corral.core.access;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Proxmox VE's privileges, grouped the way pve-access-control groups them: the group decides
 * which built-in roles (PVE{Category}Admin, PVE{Category}User, PVEAuditor) carry a privilege.
 */
public enum Privilege {
    VM_CONFIG_DISK("VM.Config.Disk", Category.VM, Level.ADMIN),
    VM_CONFIG_CPU("VM.Config.CPU", Category.VM, Level.ADMIN),
    VM_CONFIG_MEMORY("VM.Config.Memory", Category.VM, Level.ADMIN),
    VM_CONFIG_NETWORK("VM.Config.Network", Category.VM, Level.ADMIN),
    VM_CONFIG_HWTYPE("VM.Config.HWType", Category.VM, Level.ADMIN),
    VM_CONFIG_OPTIONS("VM.Config.Options", Category.VM, Level.ADMIN),
    VM_ALLOCATE("VM.Allocate", Category.VM, Level.ADMIN),
    VM_CLONE("VM.Clone", Category.VM, Level.ADMIN),
    VM_GUESTAGENT_UNRESTRICTED("VM.GuestAgent.Unrestricted", Category.VM, Level.ADMIN),
    VM_MIGRATE("VM.Migrate", Category.VM, Level.ADMIN),
    VM_REPLICATE("VM.Replicate", Category.VM, Level.ADMIN),
    VM_SNAPSHOT("VM.Snapshot", Category.VM, Level.ADMIN),
    VM_SNAPSHOT_ROLLBACK("VM.Snapshot.Rollback", Category.VM, Level.ADMIN),
    VM_CONFIG_CDROM("VM.Config.CDROM", Category.VM, Level.USER),
    VM_CONFIG_CLOUDINIT("VM.Config.Cloudinit", Category.VM, Level.USER),
    VM_CONSOLE("VM.Console", Category.VM, Level.USER),
    VM_BACKUP("VM.Backup", Category.VM, Level.USER),
    VM_GUESTAGENT_FILEREAD("VM.GuestAgent.FileRead", Category.VM, Level.USER),
    VM_GUESTAGENT_FILESYSTEMMGMT("VM.GuestAgent.FileSystemMgmt", Category.VM, Level.USER),
    VM_GUESTAGENT_FILEWRITE("VM.GuestAgent.FileWrite", Category.VM, Level.USER),
    VM_POWER_MGMT("VM.PowerMgmt", Category.VM, Level.USER),
    VM_AUDIT("VM.Audit", Category.VM, Level.AUDIT),
    VM_GUESTAGENT_AUDIT("VM.GuestAgent.Audit", Category.VM, Level.AUDIT),

    SYS_POWER_MGMT("Sys.PowerMgmt", Category.SYS, Level.ROOT),
    SYS_MODIFY("Sys.Modify", Category.SYS, Level.ROOT),
    SYS_INCOMING("Sys.Incoming", Category.SYS, Level.ROOT),
    SYS_ACCESS_NETWORK("Sys.AccessNetwork", Category.SYS, Level.ROOT),
    SYS_CONSOLE("Sys.Console", Category.SYS, Level.ADMIN),
    SYS_SYSLOG("Sys.Syslog", Category.SYS, Level.ADMIN),
    SYS_AUDIT("Sys.Audit", Category.SYS, Level.AUDIT),

    DATASTORE_ALLOCATE("Datastore.Allocate", Category.DATASTORE, Level.ADMIN),
    DATASTORE_ALLOCATE_TEMPLATE("Datastore.AllocateTemplate", Category.DATASTORE, Level.ADMIN),
    DATASTORE_ALLOCATE_SPACE("Datastore.AllocateSpace", Category.DATASTORE, Level.USER),
    DATASTORE_AUDIT("Datastore.Audit", Category.DATASTORE, Level.AUDIT),

    SDN_ALLOCATE("SDN.Allocate", Category.SDN, Level.ADMIN),
    SDN_USE("SDN.Use", Category.SDN, Level.USER),
    SDN_AUDIT("SDN.Audit", Category.SDN, Level.AUDIT),

    REALM_ALLOCATE("Realm.Allocate", Category.USER, Level.ROOT),
    USER_MODIFY("User.Modify", Category.USER, Level.ADMIN),
    GROUP_ALLOCATE("Group.Allocate", Category.USER, Level.ADMIN),
    REALM_ALLOCATE_USER("Realm.AllocateUser", Category.USER, Level.ADMIN),

    POOL_ALLOCATE("Pool.Allocate", Category.POOL, Level.ADMIN),
    POOL_AUDIT("Pool.Audit", Category.POOL, Level.USER),

    MAPPING_MODIFY("Mapping.Modify", Category.MAPPING, Level.ADMIN),
    MAPPING_USE("Mapping.Use", Category.MAPPING, Level.USER),
    MAPPING_AUDIT("Mapping.Audit", Category.MAPPING, Level.AUDIT),

    PERMISSIONS_MODIFY("Permissions.Modify", Category.NONE, Level.ROOT);

    /** The prefix of the built-in role names: PVE{Category}Admin. */
    public enum Category {
        VM("VM"), SYS("Sys"), DATASTORE("Datastore"), SDN("SDN"), USER("User"), POOL("Pool"), MAPPING("Mapping"), NONE("");

        private final String roleName;

        Category(String roleName) {
            this.roleName = roleName;
        }

        public String roleName() {
            return roleName;
        }
    }

    /** Which built-in roles of its category carry a privilege. */
    public enum Level { ROOT, ADMIN, USER, AUDIT }

    private static final Map<String, Privilege> BY_NAME =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(Privilege::proxmoxName, Function.identity()));

    private final String proxmoxName;
    private final Category category;
    private final Level level;

    Privilege(String proxmoxName, Category category, Level level) {
        this.proxmoxName = proxmoxName;
        this.category = category;
        this.level = level;
    }

    public String proxmoxName() {
        return proxmoxName;
    }

    public Category category() {
        return category;
    }

    public Level level() {
        return level;
    }

    public static Optional<Privilege> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    @Override
    public String toString() {
        return proxmoxName;
    }
}
