package org.corral.access.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.access.AccessFixture.ROOT;
import static org.corral.access.api.LoginApiTest.map;
import static org.corral.core.api.HttpVerb.DELETE;
import static org.corral.core.api.HttpVerb.GET;
import static org.corral.core.api.HttpVerb.POST;
import static org.corral.core.api.HttpVerb.PUT;

import java.util.List;
import java.util.Map;
import org.corral.access.AccessFixture;
import org.corral.core.access.AuthContext;
import org.corral.core.api.HttpVerb;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.error.Unauthorized;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UserApiTest {
    private final AccessFixture fx = new AccessFixture();

    @BeforeEach
    void setUp() throws Exception {
        fx.call(POST, "/access/groups", ADMIN, "groupid", "ops", "comment", "Operations");
        fx.call(POST, "/access/users", ADMIN, "userid", "alice@pve", "password", "alice-secret", "groups", "ops",
                "firstname", "Alice", "email", "alice@example.com");
        fx.call(POST, "/access/users", ADMIN, "userid", "audit@pve", "password", "audit-secret");
        fx.call(PUT, "/access/acl", ADMIN, "path", "/", "roles", "PVEAuditor", "users", "audit@pve");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object value) {
        return (List<Map<String, Object>>) value;
    }

    @Test
    void createdUserIsStoredInProxmoxFormatWithGroupAndArgon2Password() throws Exception {
        assertThat(fx.userCfg()).contains("user:alice@pve:1:0:Alice::alice@example.com:::\n", "group:ops:alice@pve:Operations:\n",
                "acl:1:/:audit@pve:PVEAuditor:\n");
        assertThat(fx.store.text("priv/shadow.cfg")).contains("alice:$argon2id$v=19$m=64,t=1,p=1$");

        Map<String, Object> alice = map(fx.call(GET, "/access/users/alice@pve", ADMIN));
        assertThat(alice).containsEntry("enable", 1).containsEntry("firstname", "Alice").containsEntry("groups", List.of("ops"))
                .containsEntry("tokens", Map.of()).containsKey("digest");
    }

    @Test
    void userListShowsRealmTypeAndWithFullGroupsAndTokens() throws Exception {
        fx.call(POST, "/access/users/alice@pve/token/ci", ADMIN);

        List<Map<String, Object>> users = list(fx.call(GET, "/access/users", ADMIN, "full", "1"));

        assertThat(users).extracting(u -> u.get("userid")).containsExactly("admin@pve", "alice@pve", "audit@pve", "root@pam");
        Map<String, Object> alice = users.get(1);
        assertThat(alice).containsEntry("realm-type", "pve").containsEntry("groups", "ops");
        assertThat(list(alice.get("tokens"))).containsExactly(Map.of("tokenid", "ci", "expire", 0L, "privsep", 1));
    }

    @Test
    void usersWithoutPrivilegesOnlySeeThemselves() throws Exception {
        assertThat(list(fx.call(GET, "/access/users", AccessFixture.user("alice@pve"))))
                .extracting(u -> u.get("userid")).containsExactly("alice@pve");
    }

    @Test
    void auditorReadsEverythingButCanNotWrite() throws Exception {
        AuthContext auditor = AccessFixture.user("audit@pve");
        String before = fx.userCfg();

        assertThat(list(fx.call(GET, "/access/users", auditor))).hasSize(4);
        assertThat(map(fx.call(GET, "/access/users/alice@pve", auditor))).containsEntry("firstname", "Alice");
        assertThat(list(fx.call(GET, "/access/acl", auditor))).isNotEmpty();
        assertThat(list(fx.call(GET, "/access/groups", auditor))).hasSize(1);

        assertThatThrownBy(() -> fx.call(POST, "/access/groups", auditor, "groupid", "evil"))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("/access/groups, Group.Allocate");
        assertThatThrownBy(() -> fx.call(PUT, "/access/users/alice@pve", auditor, "comment", "x"))
                .isInstanceOf(PermissionDenied.class);
        assertThatThrownBy(() -> fx.call(POST, "/access/users", auditor, "userid", "evil@pve"))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("/access/realm/pve, Realm.AllocateUser");
        assertThatThrownBy(() -> fx.call(PUT, "/access/acl", auditor, "path", "/", "roles", "Administrator", "users", "audit@pve"))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("Permissions.Modify");
        assertThatThrownBy(() -> fx.call(DELETE, "/access/users/alice@pve/token/x1", auditor)).isInstanceOf(PermissionDenied.class);
        assertThat(fx.userCfg()).isEqualTo(before);
    }

    @Test
    void groupAdminManagesOnlyMembersOfItsGroups() throws Exception {
        fx.call(POST, "/access/users", ADMIN, "userid", "lead@pve");
        fx.call(POST, "/access/users", ADMIN, "userid", "other@pve");
        fx.call(PUT, "/access/acl", ADMIN, "path", "/access/groups/ops", "roles", "PVEUserAdmin", "users", "lead@pve");
        fx.call(PUT, "/access/acl", ADMIN, "path", "/access/realm/pve", "roles", "PVEUserAdmin", "users", "lead@pve");
        AuthContext lead = AccessFixture.user("lead@pve");

        fx.call(PUT, "/access/users/alice@pve", lead, "comment", "managed", "groups", "ops");
        fx.call(POST, "/access/users", lead, "userid", "new@pve", "groups", "ops");

        assertThatThrownBy(() -> fx.call(PUT, "/access/users/other@pve", lead, "comment", "x", "groups", "ops"))
                .isInstanceOf(PermissionDenied.class);
        assertThatThrownBy(() -> fx.call(POST, "/access/users", lead, "userid", "loose@pve"))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("/access/groups, User.Modify");
        assertThat(list(fx.call(GET, "/access/users", lead))).extracting(u -> u.get("userid"))
                .containsExactlyInAnyOrder("alice@pve", "lead@pve", "new@pve");
    }

    @Test
    void updateReplacesOrAppendsGroupsAndChecksTheDigest() throws Exception {
        fx.call(POST, "/access/groups", ADMIN, "groupid", "dev");
        String digest = (String) map(fx.call(GET, "/access/users/alice@pve", ADMIN)).get("digest");

        fx.call(PUT, "/access/users/alice@pve", ADMIN, "groups", "dev", "append", "1", "digest", digest);
        assertThat(map(fx.call(GET, "/access/users/alice@pve", ADMIN))).containsEntry("groups", List.of("dev", "ops"));

        fx.call(PUT, "/access/users/alice@pve", ADMIN, "groups", "dev");
        assertThat(map(fx.call(GET, "/access/users/alice@pve", ADMIN))).containsEntry("groups", List.of("dev"));

        String before = fx.userCfg();
        assertThatThrownBy(() -> fx.call(PUT, "/access/users/alice@pve", ADMIN, "comment", "stale", "digest", digest))
                .isInstanceOf(Conflict.class).hasMessageContaining("file changed by other user");
        assertThat(fx.userCfg()).isEqualTo(before);
    }

    @Test
    void deletingAUserRemovesItEverywhereInOneWriteAndCleansItsSecrets() throws Exception {
        Map<String, Object> token = map(fx.call(POST, "/access/users/alice@pve/token/ci", ADMIN));
        fx.call(PUT, "/access/acl", ADMIN, "path", "/vms", "roles", "PVEVMUser", "users", "alice@pve", "tokens", "alice@pve!ci");
        int writes = fx.store.writes();

        fx.call(DELETE, "/access/users/alice@pve", ADMIN);

        assertThat(fx.userCfg()).doesNotContain("alice");
        assertThat(fx.store.text("priv/shadow.cfg")).doesNotContain("alice");
        assertThat(fx.store.text("priv/token.cfg")).doesNotContain("alice");
        // user.cfg, shadow.cfg, token.cfg
        assertThat(fx.store.writes() - writes).isEqualTo(3);
        assertThatThrownBy(() -> fx.access.authenticateToken("alice@pve!ci=" + token.get("value"), "x"))
                .isInstanceOf(Unauthorized.class);
        assertThatThrownBy(() -> fx.call(GET, "/access/users/alice@pve", ADMIN)).isInstanceOf(NotFound.class)
                .hasMessage("no such user ('alice@pve')");
    }

    @Test
    void recreatedUserWithoutPasswordDoesNotInheritTheOldOne() throws Exception {
        fx.store.write("priv/shadow.cfg", fx.store.text("priv/shadow.cfg") + "ghost:$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5:\n",
                fx.store.read("priv/shadow.cfg").orElseThrow().version());

        fx.call(POST, "/access/users", ADMIN, "userid", "ghost@pve");

        assertThat(fx.store.text("priv/shadow.cfg")).doesNotContain("ghost");
    }

    @Test
    void duplicateUserAndMissingUserAreReportedWithProxmoxTexts() {
        assertThatThrownBy(() -> fx.call(POST, "/access/users", ADMIN, "userid", "alice@pve"))
                .isInstanceOf(Conflict.class).hasMessage("create user failed: user 'alice@pve' already exists");
        assertThatThrownBy(() -> fx.call(PUT, "/access/users/nobody@pve", ROOT, "comment", "x"))
                .isInstanceOf(NotFound.class).hasMessage("no such user ('nobody@pve')");
        assertThatThrownBy(() -> fx.call(DELETE, "/access/groups/nope", ADMIN))
                .isInstanceOf(NotFound.class).hasMessageContaining("group 'nope' does not exist");
        assertThatThrownBy(() -> fx.call(POST, "/access/groups", ADMIN, "groupid", "ops"))
                .isInstanceOf(Conflict.class).hasMessageContaining("group 'ops' already exists");
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource(delimiter = '|', value = {
        // unknown parameter
        "POST|/access/users|userid=bob@pve,colour=blue",
        // invalid group: nothing of the user may be written
        "POST|/access/users|userid=bob@pve,groups=nosuchgroup",
        // wrong types
        "POST|/access/users|userid=bob@pve,enable=maybe",
        "POST|/access/users|userid=bob@pve,expire=-1",
        // ids with path characters
        "POST|/access/users|userid=../x@pve",
        "POST|/access/users|userid=a/b@pve",
        "POST|/access/groups|groupid=..",
        "POST|/access/groups|groupid=a/b",
        "PUT|/access/groups/..|comment=x",
        "POST|/access/roles|roleid=a/b",
        "POST|/access/users/alice@pve/token/..|",
        // over-long values
        "POST|/access/users|userid=bob@pve,comment=LONG",
        "POST|/access/users|userid=bob@pve,password=short",
        // a stale digest
        "PUT|/access/users/alice@pve|comment=x,digest=0000000000000000000000000000000000000000",
        "PUT|/access/groups/ops|comment=x,digest=0000000000000000000000000000000000000000",
        // bad ACL input
        "PUT|/access/acl|path=/vms/100,roles=NoSuchRole,users=alice@pve",
        "PUT|/access/acl|path=/vms/100,roles=PVEAuditor,users=nobody@pve",
        "PUT|/access/acl|path=/no/such/kind,roles=PVEAuditor,users=alice@pve",
        "PUT|/access/acl|path=/vms/100,roles=PVEAuditor",
        "PUT|/access/acl|path=/vms/100,roles=PVEAuditor,tokens=alice@pve!nope",
        "PUT|/access/acl|path=/vms/100,roles=PVEAuditor,groups=ops;nosuch"})
    void badInputIsRefusedAndLeavesUserCfgByteIdentical(String verb, String path, String params) throws Exception {
        String before = fx.userCfg();
        String shadow = fx.store.text("priv/shadow.cfg");
        String[] pairs = params == null || params.isEmpty() ? new String[0] : params.split(",");
        String[] flat = new String[pairs.length * 2];
        for (int i = 0; i < pairs.length; i++) {
            String[] kv = pairs[i].split("=", 2);
            flat[2 * i] = kv[0];
            flat[2 * i + 1] = kv[1].equals("LONG") ? "x".repeat(3000) : kv[1].replace(';', ',');
        }

        assertThatThrownBy(() -> fx.call(HttpVerb.valueOf(verb), path, ADMIN, flat))
                .isInstanceOfAny(ParameterError.class, Conflict.class, NotFound.class)
                .satisfies(e -> assertThat(((ApiException) e).status()).isIn(400, 404, 409));
        assertThat(fx.userCfg()).isEqualTo(before);
        assertThat(fx.store.text("priv/shadow.cfg")).isEqualTo(shadow);
    }

    @Test
    void groupsAreListedReadUpdatedAndDeletedWithTheirAcls() throws Exception {
        fx.call(PUT, "/access/acl", ADMIN, "path", "/storage", "roles", "PVEDatastoreUser", "groups", "ops");
        fx.call(PUT, "/access/groups/ops", ADMIN, "comment", "Ops team");

        assertThat(list(fx.call(GET, "/access/groups", ADMIN)))
                .containsExactly(Map.of("groupid", "ops", "comment", "Ops team", "users", "alice@pve"));
        assertThat(map(fx.call(GET, "/access/groups/ops", ADMIN))).containsEntry("members", List.of("alice@pve"));

        fx.call(DELETE, "/access/groups/ops", ADMIN);

        assertThat(fx.userCfg()).doesNotContain("ops");
    }
}
