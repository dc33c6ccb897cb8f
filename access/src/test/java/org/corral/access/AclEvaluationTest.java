package org.corral.access;

import org.corral.core.config.InMemoryConfigStore;
import static org.assertj.core.api.Assertions.assertThat;
import static org.corral.core.access.Privilege.DATASTORE_ALLOCATE;
import static org.corral.core.access.Privilege.DATASTORE_AUDIT;
import static org.corral.core.access.Privilege.SYS_AUDIT;
import static org.corral.core.access.Privilege.SYS_POWER_MGMT;
import static org.corral.core.access.Privilege.VM_ALLOCATE;
import static org.corral.core.access.Privilege.VM_AUDIT;
import static org.corral.core.access.Privilege.VM_POWER_MGMT;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.Set;
import org.corral.access.config.BuiltinRoles;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AclEvaluationTest {
    static final String USERS = """
            user:u@pve:1:0::::::
            token:u@pve!full:0:0::
            token:u@pve!gone:1000:0::
            token:u@pve!sep:0:1::
            user:v@pve:1:0::::::
            token:v@pve!sep:0:1::
            user:off@pve:0:0::::::
            token:off@pve!full:0:0::
            user:old@pve:1:1000::::::
            user:root@pam:1:0::::::

            group:g:off@pve,old@pve,u@pve,v@pve::
            group:h:u@pve::

            pool:p::100:local:
            pool:q::200::

            acl:1:/:@g:PVEAuditor:
            acl:1:/nodes:u@pve:NoAccess:
            acl:1:/pool/p:@h:PVEVMAdmin:
            acl:1:/pool/q:@g:NoAccess:
            acl:0:/storage:@g:PVEDatastoreAdmin:
            acl:1:/vms:@g:PVEVMAdmin:
            acl:1:/vms:u@pve:PVEVMUser:
            acl:1:/vms/101:u@pve!sep:PVEVMUser:
            acl:1:/vms/103:u@pve!sep:PVEVMAdmin:
            acl:1:/vms/200:v@pve:PVEVMAdmin:
            acl:1:/vms/300:v@pve!sep:PVEAuditor:
            """;

    private InMemoryConfigStore store;
    private AccessControl access;

    @BeforeEach
    void setUp() {
        store = new InMemoryConfigStore();
        store.write("user.cfg", USERS, -1);
        access = new AccessControl(store, Clock.fixed(Instant.ofEpochSecond(1_800_000_000L), ZoneOffset.UTC), AccessSettings.defaults());
    }

    @AfterEach
    void tearDown() {
        access.close();
    }

    private Set<Privilege> user(String userid, String path) {
        return access.privileges(AuthContext.user(userid, "192.0.2.1"), path);
    }

    private Set<Privilege> token(String tokenid, String path) {
        return access.privileges(new AuthContext(tokenid.substring(0, tokenid.indexOf('!')), Optional.of(tokenid), "192.0.2.1"), path);
    }

    private static Set<Privilege> role(String name) {
        return BuiltinRoles.get(name).orElseThrow().privileges();
    }

    @ParameterizedTest(name = "{0} on {1} has the privileges of {2}")
    @CsvSource({
        // a group's propagated entry on / reaches everything below
        "v@pve, /, PVEAuditor",
        "v@pve, /nodes/n1, PVEAuditor",
        // on one level the user's own entry wins over its groups' entries
        "u@pve, /vms, PVEVMUser",
        "v@pve, /vms, PVEVMAdmin",
        // a deeper level replaces what was inherited from above
        "u@pve, /vms/102, PVEVMUser",
        // propagate=0 applies on the path itself only
        "v@pve, /storage, PVEDatastoreAdmin",
        "v@pve, /storage/other, PVEAuditor",
        // NoAccess clears
        "u@pve, /nodes/n1, NoAccess",
        // a pool's NoAccess wins over the guest's own entries
        "v@pve, /vms/200, NoAccess",
        // disabled and expired users have nothing, whatever their groups have
        "off@pve, /, NoAccess",
        "old@pve, /, NoAccess",
        // unknown users have nothing
        "ghost@pve, /, NoAccess"})
    void userPrivilegesFollowProxmoxPrecedence(String userid, String path, String expectedRole) {
        assertThat(user(userid, path)).isEqualTo(role(expectedRole));
    }

    @Test
    void poolRolesAddToTheMembersOwnRoles() {
        // PVEVMUser from /vms plus PVEVMAdmin of group h on /pool/p
        assertThat(user("u@pve", "/vms/100")).contains(VM_ALLOCATE, VM_POWER_MGMT);
        assertThat(user("u@pve", "/vms/101")).doesNotContain(VM_ALLOCATE);
        assertThat(user("u@pve", "/storage/local")).contains(VM_ALLOCATE, DATASTORE_AUDIT);
        assertThat(user("v@pve", "/storage/local")).doesNotContain(VM_ALLOCATE);
    }

    @Test
    void privilegeSeparatedTokenGetsWhatBothItAndItsUserHave() {
        assertThat(token("u@pve!sep", "/vms/101")).isEqualTo(role("PVEVMUser"));
        // the token's PVEVMAdmin is cut down to the user's PVEVMUser
        assertThat(token("u@pve!sep", "/vms/103")).isEqualTo(role("PVEVMUser"));
        // no own entry, nothing, although the user has privileges there
        assertThat(token("u@pve!sep", "/vms/102")).isEmpty();
        assertThat(token("u@pve!sep", "/")).isEmpty();
        // the user has PVEVMAdmin on /vms/300 through g: the token's PVEAuditor is limited to what overlaps
        assertThat(token("v@pve!sep", "/vms/300")).containsExactlyInAnyOrder(VM_AUDIT, Privilege.VM_GUESTAGENT_AUDIT);
    }

    @Test
    void tokenWithoutPrivilegeSeparationHasItsUsersPrivileges() {
        for (String path : new String[] {"/", "/vms/100", "/nodes/n1", "/storage/local"}) {
            assertThat(token("u@pve!full", path)).as(path).isEqualTo(user("u@pve", path));
        }
    }

    @Test
    void expiredTokensAndTokensOfDisabledUsersHaveNothing() {
        assertThat(token("u@pve!gone", "/vms")).isEmpty();
        assertThat(token("off@pve!full", "/")).isEmpty();
        assertThat(token("u@pve!missing", "/vms")).isEmpty();
        // a token id that does not belong to the context's user has nothing
        assertThat(access.privileges(new AuthContext("v@pve", Optional.of("u@pve!full"), "192.0.2.1"), "/vms")).isEmpty();
    }

    @Test
    void rootHasEveryPrivilegeEverywhere() {
        assertThat(user("root@pam", "/nodes/n1")).contains(SYS_POWER_MGMT).hasSize(Privilege.values().length);
        assertThat(user("root@pam", "/any/path")).hasSize(Privilege.values().length);
    }

    @Test
    void pathsAreNormalizedBeforeEvaluation() {
        assertThat(user("v@pve", "//storage/")).contains(DATASTORE_ALLOCATE);
        assertThat(user("v@pve", "/storage/bad path")).isEmpty();
    }

    @Test
    void propagateFlagsAreReported() {
        AccessService service = access.service();
        assertThat(service.privileges("v@pve", "/").flags()).containsEntry(SYS_AUDIT, true);
        assertThat(service.privileges("v@pve", "/storage").flags()).containsEntry(DATASTORE_ALLOCATE, false);
        // roles that come from a pool never propagate
        assertThat(service.privileges("u@pve", "/vms/100").flags()).containsEntry(VM_ALLOCATE, false);
    }

    @Test
    void changedUserConfigIsSeenByTheNextCheck() {
        assertThat(user("v@pve", "/nodes/n1")).contains(SYS_AUDIT);

        store.write("user.cfg", USERS.replace("acl:1:/:@g:PVEAuditor:\n", ""), 0);

        assertThat(user("v@pve", "/nodes/n1")).isEmpty();
    }

    @Test
    void anonymousCallersHaveNothing() {
        assertThat(access.privileges(AuthContext.anonymous("192.0.2.1"), "/")).isEmpty();
    }
}
