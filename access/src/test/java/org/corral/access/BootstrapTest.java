package org.corral.access;

import org.corral.core.config.InMemoryConfigStore;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;
import org.junit.jupiter.api.Test;

class BootstrapTest {
    private final InMemoryConfigStore store = new InMemoryConfigStore();

    @Test
    void newClusterGetsRealmsUsersAdminAclPasswordAndKeys() {
        Optional<String> password = AccessControl.initialize(store, Optional.empty());

        assertThat(password).get().asString().hasSizeGreaterThanOrEqualTo(16).matches("[A-Za-z0-9]+");
        assertThat(store.text("user.cfg")).isEqualTo("""
                user:admin@pve:1:0::::::
                user:root@pam:1:0::::::




                acl:1:/:admin@pve:Administrator:
                """);
        assertThat(store.text("domains.cfg")).isEqualTo("""
                pam: pam
                \tcomment Linux PAM standard authentication

                pve: pve
                \tcomment Proxmox VE authentication server

                """);
        assertThat(store.text("priv/shadow.cfg")).startsWith("admin:$argon2id$v=19$m=19456,t=2,p=1$");
        assertThat(store.text("priv/pve-www.key")).matches("[A-Za-z0-9+/]{43}=\n");
        // the ticket signing key pair is made by the first login
        assertThat(store.read("priv/authkey.key")).isEmpty();
    }

    @Test
    void generatedAdminPasswordLogsIn() throws Exception {
        String password = AccessControl.initialize(store, Optional.empty()).orElseThrow();
        try (AccessControl access = new AccessControl(store, Clock.systemUTC(), AccessSettings.defaults())) {
            ApiDispatcher dispatcher = new ApiDispatcher(new ApiRegistry(access.apiModules()), access);

            Object answer = dispatcher.dispatch(HttpVerb.POST, "/access/ticket",
                    Map.of("username", "admin@pve", "password", password), AuthContext.anonymous("127.0.0.1"));

            assertThat(answer).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP).containsKey("ticket");
            assertThat(access.privileges(AuthContext.user("admin@pve", "127.0.0.1"), "/nodes/n1")).contains(Privilege.SYS_POWER_MGMT);
        }
    }

    @Test
    void secondInitializationChangesNothing() {
        AccessControl.initialize(store, Optional.of("first-password"));
        Map<String, String> before = store.snapshot();

        assertThat(AccessControl.initialize(store, Optional.of("second-password"))).isEmpty();
        assertThat(store.snapshot()).isEqualTo(before);
    }

    @Test
    void givenPasswordIsUsedAndNotHandedBack() {
        assertThat(AccessControl.initialize(store, Optional.of("my-own-password"))).isEmpty();
        assertThat(store.text("user.cfg")).contains("user:admin@pve:");
        assertThat(new PasswordHasher().verify("my-own-password",
                store.text("priv/shadow.cfg").split(":")[1])).isTrue();
    }

    @Test
    void tooShortAdminPasswordIsRefused() {
        assertThatThrownBy(() -> AccessControl.initialize(store, Optional.of("short"))).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.snapshot()).isEmpty();
    }
}
