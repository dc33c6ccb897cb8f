package org.corral.access.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.core.api.HttpVerb.GET;
import static org.corral.core.api.HttpVerb.POST;
import static org.corral.core.api.HttpVerb.PUT;

import java.util.List;
import java.util.Map;
import org.corral.access.AccessFixture;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AclApiTest {
    private final AccessFixture fx = new AccessFixture();
    private final AuthContext vmAdmin = AccessFixture.user("vmadmin@pve");

    @BeforeEach
    void setUp() throws Exception {
        fx.call(POST, "/access/users", ADMIN, "userid", "vmadmin@pve");
        fx.call(POST, "/access/users", ADMIN, "userid", "bob@pve");
        fx.call(PUT, "/access/acl", ADMIN, "path", "/vms/100", "roles", "PVEVMAdmin", "users", "vmadmin@pve");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> acl(AuthContext auth) throws Exception {
        return (List<Map<String, Object>>) fx.call(GET, "/access/acl", auth);
    }

    @Test
    void aclListShowsEntriesInProxmoxShape() throws Exception {
        fx.call(PUT, "/access/acl", ADMIN, "path", "/storage", "roles", "PVEDatastoreUser", "users", "bob@pve", "propagate", "0");

        assertThat(acl(ADMIN)).containsExactly(
                Map.of("path", "/", "type", "user", "ugid", "admin@pve", "roleid", "Administrator", "propagate", 1),
                Map.of("path", "/storage", "type", "user", "ugid", "bob@pve", "roleid", "PVEDatastoreUser", "propagate", 0),
                Map.of("path", "/vms/100", "type", "user", "ugid", "vmadmin@pve", "roleid", "PVEVMAdmin", "propagate", 1));
    }

    @Test
    void callersSeeOnlyEntriesOnPathsWhereTheyMayChangePermissions() throws Exception {
        assertThat(acl(vmAdmin)).extracting(e -> e.get("path")).containsExactly("/vms/100");
        assertThat(acl(AccessFixture.user("bob@pve"))).isEmpty();
    }

    @Test
    void vmAllocateHoldersMayDelegateRolesTheyHoldOnTheirVms() throws Exception {
        fx.call(PUT, "/access/acl", vmAdmin, "path", "/vms/100", "roles", "PVEVMUser", "users", "bob@pve");

        assertThat(fx.access.privileges(AccessFixture.user("bob@pve"), "/vms/100")).contains(Privilege.VM_POWER_MGMT);
        assertThatThrownBy(() -> fx.call(PUT, "/access/acl", vmAdmin, "path", "/vms/100", "roles", "Administrator", "users", "bob@pve"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("requires 'Permissions.Modify' or superset of privileges");
        assertThatThrownBy(() -> fx.call(PUT, "/access/acl", vmAdmin, "path", "/vms/100", "roles", "NoAccess", "users", "bob@pve"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("Cannot add role 'NoAccess'");
        assertThatThrownBy(() -> fx.call(PUT, "/access/acl", vmAdmin, "path", "/vms/101", "roles", "PVEVMUser", "users", "bob@pve"))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("/vms/101");
    }

    @Test
    void deleteRemovesOnlyTheNamedGrant() throws Exception {
        fx.call(PUT, "/access/acl", ADMIN, "path", "/vms/100", "roles", "PVEAuditor", "users", "vmadmin@pve");

        fx.call(PUT, "/access/acl", ADMIN, "path", "/vms/100", "roles", "PVEVMAdmin", "users", "vmadmin@pve", "delete", "1");

        assertThat(fx.userCfg()).contains("acl:1:/vms/100:vmadmin@pve:PVEAuditor:\n").doesNotContain("PVEVMAdmin");
    }

    @Test
    void pathsAreNormalizedBeforeTheyAreStored() throws Exception {
        fx.call(PUT, "/access/acl", ADMIN, "path", "//storage//local/", "roles", "PVEDatastoreUser", "users", "bob@pve");

        assertThat(fx.userCfg()).contains("acl:1:/storage/local:bob@pve:PVEDatastoreUser:\n");
    }
}
