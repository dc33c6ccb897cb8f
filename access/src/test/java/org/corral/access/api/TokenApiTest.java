package org.corral.access.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.access.api.LoginApiTest.map;
import static org.corral.core.api.HttpVerb.DELETE;
import static org.corral.core.api.HttpVerb.GET;
import static org.corral.core.api.HttpVerb.POST;
import static org.corral.core.api.HttpVerb.PUT;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.access.AccessFixture;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.error.Unauthorized;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TokenApiTest {
    private final AccessFixture fx = new AccessFixture();

    @BeforeEach
    void setUp() throws Exception {
        fx.call(POST, "/access/users", ADMIN, "userid", "alice@pve", "password", "alice-secret");
        fx.call(PUT, "/access/acl", ADMIN, "path", "/vms", "roles", "PVEVMAdmin", "users", "alice@pve");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private Map<String, Object> create(String userid, String tokenid, String... params) throws Exception {
        return map(fx.call(POST, "/access/users/" + userid + "/token/" + tokenid, AccessFixture.user(userid), params));
    }

    @Test
    void createdTokenAnswersItsSecretOnceAndStoresOnlyItsHash() throws Exception {
        Map<String, Object> answer = create("alice@pve", "ci", "comment", "CI jobs");

        String secret = (String) answer.get("value");
        assertThat(secret).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(answer).containsEntry("full-tokenid", "alice@pve!ci")
                .containsEntry("info", Map.of("privsep", 1, "comment", "CI jobs"));
        assertThat(fx.userCfg()).contains("token:alice@pve!ci:0:1:CI jobs:\n");
        assertThat(fx.store.text("priv/token.cfg")).startsWith("alice@pve!ci ").doesNotContain(secret);
        assertThat(map(fx.call(GET, "/access/users/alice@pve/token/ci", ADMIN)))
                .isEqualTo(Map.of("expire", 0L, "privsep", 1, "comment", "CI jobs"));
    }

    private static String tampered(String secret) {
        char last = secret.charAt(secret.length() - 1);
        return secret.substring(0, secret.length() - 1) + (last == '0' ? '1' : '0');
    }

    @Test
    void tokenAuthenticatesWithItsSecretOnly() throws Exception {
        String secret = (String) create("alice@pve", "ci").get("value");

        AuthContext auth = fx.access.authenticateToken("alice@pve!ci=" + secret, "198.51.100.2");

        assertThat(auth).isEqualTo(new AuthContext("alice@pve", Optional.of("alice@pve!ci"), "198.51.100.2"));
        assertThatThrownBy(() -> fx.access.authenticateToken("alice@pve!ci=" + tampered(secret), "x"))
                .isInstanceOf(Unauthorized.class).hasMessage("invalid token value!");
        assertThatThrownBy(() -> fx.access.authenticateToken("alice@pve!other=" + secret, "x"))
                .isInstanceOf(Unauthorized.class).hasMessageContaining("no such token");
        assertThatThrownBy(() -> fx.access.authenticateToken("garbage", "x")).isInstanceOf(Unauthorized.class);
    }

    @Test
    void repeatedTokenRequestsDoNotReadTheStoreAgain() throws Exception {
        String secret = (String) create("alice@pve", "ci").get("value");
        fx.access.authenticateToken("alice@pve!ci=" + secret, "x");
        int reads = fx.store.reads();

        for (int i = 0; i < 100; i++) {
            fx.access.authenticateToken("alice@pve!ci=" + secret, "x");
            fx.access.privileges(AccessFixture.token("alice@pve!ci"), "/vms/100");
        }

        assertThat(fx.store.reads()).isEqualTo(reads);
    }

    @Test
    void deletedTokenStopsWorkingAtOnceAndLosesItsAcls() throws Exception {
        String secret = (String) create("alice@pve", "ci").get("value");
        fx.access.authenticateToken("alice@pve!ci=" + secret, "x");
        fx.call(PUT, "/access/acl", ADMIN, "path", "/vms", "roles", "PVEVMUser", "tokens", "alice@pve!ci");

        fx.call(DELETE, "/access/users/alice@pve/token/ci", AccessFixture.user("alice@pve"));

        assertThatThrownBy(() -> fx.access.authenticateToken("alice@pve!ci=" + secret, "x")).isInstanceOf(Unauthorized.class);
        assertThat(fx.userCfg()).doesNotContain("alice@pve!ci");
        assertThat(fx.store.text("priv/token.cfg")).isEmpty();

        // a new token of the same name gets a new secret; the old one stays invalid
        String renewed = (String) create("alice@pve", "ci").get("value");
        assertThatThrownBy(() -> fx.access.authenticateToken("alice@pve!ci=" + secret, "x")).isInstanceOf(Unauthorized.class);
        assertThat(fx.access.authenticateToken("alice@pve!ci=" + renewed, "x").tokenid()).contains("alice@pve!ci");
    }

    @Test
    void regeneratedSecretReplacesTheOldOne() throws Exception {
        String secret = (String) create("alice@pve", "ci").get("value");
        fx.access.authenticateToken("alice@pve!ci=" + secret, "x");

        Map<String, Object> answer = map(fx.call(PUT, "/access/users/alice@pve/token/ci", ADMIN, "regenerate", "1", "comment", "new"));

        assertThat(answer).containsEntry("full-tokenid", "alice@pve!ci").containsEntry("comment", "new");
        assertThatThrownBy(() -> fx.access.authenticateToken("alice@pve!ci=" + secret, "x")).isInstanceOf(Unauthorized.class);
        assertThat(fx.access.authenticateToken("alice@pve!ci=" + answer.get("value"), "x").userid()).isEqualTo("alice@pve");
    }

    @Test
    void expiredTokenAndDisabledUserAreRefused() throws Exception {
        String secret = (String) create("alice@pve", "ci", "expire", String.valueOf(1_800_000_100L)).get("value");
        fx.clock.advance(java.time.Duration.ofSeconds(101));
        assertThatThrownBy(() -> fx.access.authenticateToken("alice@pve!ci=" + secret, "x"))
                .isInstanceOf(Unauthorized.class).hasMessage("token 'ci' access expired");

        fx.call(PUT, "/access/users/alice@pve/token/ci", ADMIN, "expire", "0");
        fx.call(PUT, "/access/users/alice@pve", ADMIN, "enable", "0");
        assertThatThrownBy(() -> fx.access.authenticateToken("alice@pve!ci=" + secret, "x"))
                .isInstanceOf(Unauthorized.class).hasMessage("user 'alice@pve' is disabled");
    }

    @Test
    void privilegeSeparatedTokenWithoutOwnAclIsRefusedWrites() throws Exception {
        create("alice@pve", "sep");
        AuthContext token = AccessFixture.token("alice@pve!sep");
        assertThat(fx.access.privileges(token, "/vms/100")).isEmpty();

        assertThatThrownBy(() -> fx.call(POST, "/access/users/alice@pve/token/more", token, "privsep", "0"))
                .isInstanceOf(PermissionDenied.class);
        assertThatThrownBy(() -> fx.call(PUT, "/access/acl", token, "path", "/vms/100", "roles", "PVEVMAdmin", "tokens", "alice@pve!sep"))
                .isInstanceOf(PermissionDenied.class);
        assertThat(fx.userCfg()).doesNotContain("alice@pve!more");
    }

    @Test
    void tokenWithoutPrivilegeSeparationActsAsItsUser() throws Exception {
        create("alice@pve", "full", "privsep", "0");

        assertThat(fx.access.privileges(AccessFixture.token("alice@pve!full"), "/vms/100")).contains(Privilege.VM_ALLOCATE);
    }

    @Test
    void usersManageOnlyTheirOwnTokens() throws Exception {
        fx.call(POST, "/access/users", ADMIN, "userid", "bob@pve");

        assertThatThrownBy(() -> fx.call(POST, "/access/users/alice@pve/token/x1", AccessFixture.user("bob@pve")))
                .isInstanceOf(PermissionDenied.class);
        assertThat((List<?>) fx.call(GET, "/access/users/bob@pve/token", AccessFixture.user("bob@pve"))).isEmpty();
    }

    @Test
    void duplicateAndMissingTokensAreReported() throws Exception {
        create("alice@pve", "ci");
        String before = fx.userCfg();
        String secrets = fx.store.text("priv/token.cfg");

        assertThatThrownBy(() -> create("alice@pve", "ci")).isInstanceOf(ParameterError.class).hasMessageContaining("Token already exists.");
        assertThatThrownBy(() -> fx.call(DELETE, "/access/users/alice@pve/token/nope", ADMIN))
                .isInstanceOf(NotFound.class).hasMessage("no such token 'nope' for user 'alice@pve'");
        assertThatThrownBy(() -> fx.call(PUT, "/access/users/alice@pve/token/ci", ADMIN, "delete", "privsep"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("unknown option 'privsep'");
        assertThat(fx.userCfg()).isEqualTo(before);
        assertThat(fx.store.text("priv/token.cfg")).isEqualTo(secrets);
    }
}
