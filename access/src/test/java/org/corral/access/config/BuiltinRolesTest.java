package org.corral.access.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.corral.core.access.Privilege;
import org.junit.jupiter.api.Test;

class BuiltinRolesTest {
    private static Set<String> privs(String role) {
        return BuiltinRoles.get(role).orElseThrow().privileges().stream().map(Privilege::proxmoxName).collect(Collectors.toSet());
    }

    @Test
    void theSeventeenProxmoxRolesExist() {
        assertThat(BuiltinRoles.names()).containsExactlyInAnyOrder(
                "Administrator", "NoAccess", "PVEAdmin", "PVEAuditor", "PVETemplateUser",
                "PVEVMAdmin", "PVESysAdmin", "PVEDatastoreAdmin", "PVESDNAdmin", "PVEUserAdmin", "PVEPoolAdmin", "PVEMappingAdmin",
                "PVEVMUser", "PVEDatastoreUser", "PVESDNUser", "PVEPoolUser", "PVEMappingUser");
    }

    @Test
    void administratorHasEveryPrivilegeAndNoAccessNone() {
        assertThat(BuiltinRoles.get("Administrator").orElseThrow().privileges()).containsExactlyInAnyOrder(Privilege.values());
        assertThat(privs("Administrator")).contains("Sys.PowerMgmt", "Permissions.Modify", "Realm.Allocate");
        assertThat(privs("NoAccess")).isEmpty();
    }

    @Test
    void auditorHasEveryAuditLevelPrivilegeAndPoolAudit() {
        Set<Privilege> audit = Arrays.stream(Privilege.values()).filter(p -> p.level() == Privilege.Level.AUDIT)
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(Privilege.class)));
        audit.add(Privilege.POOL_AUDIT);

        assertThat(BuiltinRoles.get("PVEAuditor").orElseThrow().privileges()).isEqualTo(audit);
        assertThat(privs("PVEAuditor")).containsExactlyInAnyOrder("Datastore.Audit", "Mapping.Audit", "Pool.Audit",
                "SDN.Audit", "Sys.Audit", "VM.Audit", "VM.GuestAgent.Audit");
    }

    @Test
    void vmUserCanOperateButNotReconfigureGuests() {
        assertThat(privs("PVEVMUser")).containsExactlyInAnyOrder("VM.Audit", "VM.Backup", "VM.Config.CDROM", "VM.Config.Cloudinit",
                "VM.Console", "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt",
                "VM.GuestAgent.FileWrite", "VM.PowerMgmt");
    }

    @Test
    void pveAdminLacksMappingModifyAndRootLevelPrivileges() {
        Set<String> admin = privs("PVEAdmin");

        assertThat(admin).doesNotContain("Mapping.Modify", "Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork",
                "Realm.Allocate", "Permissions.Modify");
        assertThat(admin).contains("VM.Allocate", "Sys.Console", "Datastore.Allocate", "User.Modify", "Pool.Allocate",
                "Mapping.Use", "Mapping.Audit", "SDN.Allocate");
        assertThat(admin).hasSize(Privilege.values().length - 7);
        assertThat(privs("PVEMappingAdmin")).containsExactlyInAnyOrder("Mapping.Modify", "Mapping.Use", "Mapping.Audit");
    }

    @Test
    void categoryRolesFollowTheirLevels() {
        assertThat(privs("PVESysAdmin")).containsExactlyInAnyOrder("Sys.Console", "Sys.Syslog", "Sys.Audit");
        assertThat(privs("PVEUserAdmin")).containsExactlyInAnyOrder("User.Modify", "Group.Allocate", "Realm.AllocateUser");
        assertThat(privs("PVEDatastoreUser")).containsExactlyInAnyOrder("Datastore.AllocateSpace", "Datastore.Audit");
        assertThat(privs("PVEPoolUser")).containsExactlyInAnyOrder("Pool.Audit");
        assertThat(privs("PVEPoolAdmin")).containsExactlyInAnyOrder("Pool.Allocate", "Pool.Audit");
        assertThat(privs("PVETemplateUser")).containsExactlyInAnyOrder("VM.Clone", "VM.Audit");
        assertThat(BuiltinRoles.names()).doesNotContain("PVESysUser", "PVEUserUser");
    }
}
