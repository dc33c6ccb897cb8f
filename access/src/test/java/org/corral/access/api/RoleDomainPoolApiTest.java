package org.corral.access.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.access.AccessFixture.ANONYMOUS;
import static org.corral.access.api.LoginApiTest.map;
import static org.corral.core.api.HttpVerb.DELETE;
import static org.corral.core.api.HttpVerb.GET;
import static org.corral.core.api.HttpVerb.POST;
import static org.corral.core.api.HttpVerb.PUT;

import java.util.List;
import java.util.Map;
import org.corral.access.AccessFixture;
import org.corral.core.access.Privilege;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RoleDomainPoolApiTest {
    private final AccessFixture fx = new AccessFixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object value) {
        return (List<Map<String, Object>>) value;
    }

    @Test
    void rolesListBuiltinOnesAsSpecialAndCustomOnesAsNot() throws Exception {
        fx.call(POST, "/access/roles", ADMIN, "roleid", "Backup", "privs", "VM.Backup,Datastore.AllocateSpace");

        List<Map<String, Object>> roles = list(fx.call(GET, "/access/roles", ADMIN));

        assertThat(roles).hasSize(18);
        assertThat(roles).contains(Map.of("roleid", "Backup", "privs", "Datastore.AllocateSpace,VM.Backup", "special", 0),
                Map.of("roleid", "PVETemplateUser", "privs", "VM.Audit,VM.Clone", "special", 1));
        assertThat(map(fx.call(GET, "/access/roles/Backup", ADMIN))).isEqualTo(Map.of("Datastore.AllocateSpace", 1, "VM.Backup", 1));
        assertThat(fx.userCfg()).contains("role:Backup:Datastore.AllocateSpace,VM.Backup:\n");
    }

    @Test
    void builtinRolesCanNotBeChangedAndPveNamesNotTaken() {
        assertThatThrownBy(() -> fx.call(PUT, "/access/roles/PVEAdmin", ADMIN, "privs", "Sys.PowerMgmt"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("auto-generated role 'PVEAdmin' cannot be modified");
        assertThatThrownBy(() -> fx.call(DELETE, "/access/roles/Administrator", ADMIN))
                .isInstanceOf(ParameterError.class).hasMessageContaining("cannot be deleted");
        assertThatThrownBy(() -> fx.call(POST, "/access/roles", ADMIN, "roleid", "pveCustom"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("'PVE' namespace");
        assertThatThrownBy(() -> fx.call(POST, "/access/roles", ADMIN, "roleid", "NoAccess"))
                .isInstanceOf(Conflict.class).hasMessageContaining("role 'NoAccess' already exists");
        assertThatThrownBy(() -> fx.call(POST, "/access/roles", ADMIN, "roleid", "X1", "privs", "VM.Fly"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("invalid privilege 'VM.Fly'");
        assertThatThrownBy(() -> fx.call(GET, "/access/roles/Nope", ADMIN))
                .isInstanceOf(NotFound.class).hasMessage("role 'Nope' does not exist");
    }

    @Test
    void deletingACustomRoleRemovesItsAclEntries() throws Exception {
        fx.call(POST, "/access/roles", ADMIN, "roleid", "Viewer", "privs", "VM.Audit");
        fx.call(PUT, "/access/acl", ADMIN, "path", "/vms", "roles", "Viewer", "users", "admin@pve");
        fx.call(PUT, "/access/roles/Viewer", ADMIN, "privs", "VM.Console", "append", "1");
        assertThat(fx.userCfg()).contains("role:Viewer:VM.Audit,VM.Console:");

        fx.call(DELETE, "/access/roles/Viewer", ADMIN);

        assertThat(fx.userCfg()).doesNotContain("Viewer");
    }

    @Test
    void realmsAreListedToAnyoneAndChangedWithADigest() throws Exception {
        assertThat(list(fx.call(GET, "/access/domains", ANONYMOUS))).containsExactly(
                Map.of("realm", "pam", "type", "pam", "comment", "Linux PAM standard authentication"),
                Map.of("realm", "pve", "type", "pve", "comment", "Proxmox VE authentication server"));
        String digest = (String) map(fx.call(GET, "/access/domains/pve", ADMIN)).get("digest");

        fx.call(PUT, "/access/domains/pve", ADMIN, "default", "1", "comment", "Corral users", "digest", digest);

        assertThat(fx.store.text("domains.cfg")).isEqualTo("""
                pam: pam
                \tcomment Linux PAM standard authentication

                pve: pve
                \tcomment Corral users
                \tdefault 1

                """);
        String before = fx.store.text("domains.cfg");
        assertThatThrownBy(() -> fx.call(PUT, "/access/domains/pve", ADMIN, "comment", "stale", "digest", digest))
                .isInstanceOf(Conflict.class);
        assertThat(fx.store.text("domains.cfg")).isEqualTo(before);
    }

    @Test
    void realmsOfOtherTypesAndBuiltinChangesAreRefusedClearly() {
        assertThatThrownBy(() -> fx.call(POST, "/access/domains", ADMIN, "realm", "corp", "type", "openid"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("issuer-url");
        assertThatThrownBy(() -> fx.call(POST, "/access/domains", ADMIN, "realm", "other", "type", "pve"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("unable to create builtin type 'pve'");
        assertThatThrownBy(() -> fx.call(DELETE, "/access/domains/pam", ADMIN))
                .isInstanceOf(ParameterError.class).hasMessageContaining("built-in realm 'pam'");
        assertThatThrownBy(() -> fx.call(PUT, "/access/domains/pve", ADMIN, "tfa", "type=sms"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("enumeration 'oath, yubico'");
        assertThatThrownBy(() -> fx.call(PUT, "/access/domains/pve", ADMIN, "tfa", "type=oath,digits=12"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("digits");
        assertThatThrownBy(() -> fx.call(PUT, "/access/domains/pve", AccessFixture.user("admin@pve"), "delete", "frobnicate"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("unknown option 'frobnicate'");
    }

    @Test
    void poolAclsReachTheirMembers() throws Exception {
        fx.call(POST, "/access/users", ADMIN, "userid", "bob@pve");
        fx.call(POST, "/pools", ADMIN, "poolid", "dev", "comment", "Development");
        fx.call(PUT, "/pools/dev", ADMIN, "vms", "100,101", "storage", "local");
        fx.call(PUT, "/access/acl", ADMIN, "path", "/pool/dev", "roles", "PVEVMUser,PVEPoolUser", "users", "bob@pve");

        assertThat(fx.userCfg()).contains("pool:dev:Development:100,101:local:\n", "acl:1:/pool/dev:bob@pve:PVEPoolUser,PVEVMUser:\n");
        assertThat(fx.access.privileges(AccessFixture.user("bob@pve"), "/vms/101")).contains(Privilege.VM_POWER_MGMT);
        assertThat(fx.access.privileges(AccessFixture.user("bob@pve"), "/vms/102")).isEmpty();
        assertThat(list(fx.call(GET, "/pools", AccessFixture.user("bob@pve")))).containsExactly(Map.of("poolid", "dev", "comment", "Development"));
        assertThat(list(map(fx.call(GET, "/pools/dev", ADMIN)).get("members"))).hasSize(3);
    }

    @Test
    void guestsMoveBetweenPoolsOnlyWhenAllowed() throws Exception {
        fx.call(POST, "/pools", ADMIN, "poolid", "a");
        fx.call(POST, "/pools", ADMIN, "poolid", "b");
        fx.call(PUT, "/pools/a", ADMIN, "vms", "100");

        assertThatThrownBy(() -> fx.call(PUT, "/pools/b", ADMIN, "vms", "100"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("belongs already to pool 'a'");
        fx.call(PUT, "/pools/b", ADMIN, "vms", "100", "allow-move", "1");

        assertThat(fx.userCfg()).contains("pool:a::::\n", "pool:b::100::\n");
    }

    @Test
    void poolsWithMembersOrSubpoolsCanNotBeDeleted() throws Exception {
        fx.call(POST, "/access/users", ADMIN, "userid", "bob@pve");
        fx.call(POST, "/pools", ADMIN, "poolid", "dev");
        fx.call(POST, "/pools", ADMIN, "poolid", "dev/team");
        fx.call(PUT, "/pools", ADMIN, "poolid", "dev/team", "storage", "local");
        fx.call(PUT, "/access/acl", ADMIN, "path", "/pool/dev/team", "roles", "PVEAuditor", "users", "bob@pve");

        assertThatThrownBy(() -> fx.call(DELETE, "/pools/dev", ADMIN)).isInstanceOf(Conflict.class).hasMessageContaining("dev/team");
        assertThatThrownBy(() -> fx.call(DELETE, "/pools", ADMIN, "poolid", "dev/team"))
                .isInstanceOf(Conflict.class).hasMessageContaining("contains storage 'local'");
        fx.call(PUT, "/pools", ADMIN, "poolid", "dev/team", "storage", "local", "delete", "1");
        fx.call(DELETE, "/pools", ADMIN, "poolid", "dev/team");
        fx.call(DELETE, "/pools/dev", ADMIN);

        assertThat(fx.userCfg()).doesNotContain("pool:", "/pool/");
    }

    @Test
    void poolWritesNeedPoolAllocate() throws Exception {
        fx.call(POST, "/access/users", ADMIN, "userid", "bob@pve");

        assertThatThrownBy(() -> fx.call(POST, "/pools", AccessFixture.user("bob@pve"), "poolid", "mine"))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("/pool/mine, Pool.Allocate");
        assertThatThrownBy(() -> fx.call(POST, "/pools", ADMIN, "poolid", "x/y"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("parent pool 'x' does not exist");
    }
}
