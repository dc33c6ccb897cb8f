package org.corral.access.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.access.AccessFixture.ADMIN_PASSWORD;
import static org.corral.access.AccessFixture.ANONYMOUS;
import static org.corral.access.AccessFixture.ROOT;
import static org.corral.core.api.HttpVerb.GET;
import static org.corral.core.api.HttpVerb.POST;
import static org.corral.core.api.HttpVerb.PUT;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.access.AccessFixture;
import org.corral.core.access.AuthContext;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.error.Unauthorized;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoginApiTest {
    private final AccessFixture fx = new AccessFixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    private Map<String, Object> login(String username, String password, String... more) throws Exception {
        return login(fx, username, password, more);
    }

    /** POST /access/ticket; {@code more} as alternating names and values. */
    static Map<String, Object> login(AccessFixture fx, String username, String password, String... more) throws Exception {
        String[] params = new String[4 + more.length];
        params[0] = "username";
        params[1] = username;
        params[2] = "password";
        params[3] = password;
        System.arraycopy(more, 0, params, 4, more.length);
        return map(fx.call(POST, "/access/ticket", ANONYMOUS, params));
    }

    @Test
    @SuppressWarnings("unchecked")
    void loginAnswersTicketCsrfTokenClusterNameAndCapabilities() throws Exception {
        Map<String, Object> answer = login("admin@pve", ADMIN_PASSWORD);

        assertThat(answer).containsEntry("username", "admin@pve").containsEntry("clustername", "testcluster");
        String ticket = (String) answer.get("ticket");
        assertThat(ticket).startsWith("PVE:admin@pve:");
        assertThat(fx.access.authenticateTicket(ticket, "198.51.100.1")).contains(AuthContext.user("admin@pve", "198.51.100.1"));
        assertThat(fx.access.verifyCsrf((String) answer.get("CSRFPreventionToken"), "admin@pve")).isTrue();
        Map<String, Map<String, Integer>> cap = (Map<String, Map<String, Integer>>) (Map<?, ?>) answer.get("cap");
        assertThat(cap).containsOnlyKeys("access", "dc", "mapping", "nodes", "sdn", "storage", "vms");
        assertThat(cap.get("vms")).containsEntry("VM.Allocate", 1).containsEntry("Permissions.Modify", 1);
        assertThat(cap.get("access")).containsEntry("User.Modify", 1).containsEntry("Group.Allocate", 1)
                .doesNotContainKey("Realm.AllocateUser");
        assertThat(cap.get("dc")).containsOnlyKeys("Sys.Audit", "Sys.Modify", "SDN.Allocate", "SDN.Audit", "SDN.Use");
    }

    @Test
    void realmParameterIsAppendedToTheUserName() throws Exception {
        assertThat(login("admin", ADMIN_PASSWORD, "realm", "pve")).containsEntry("username", "admin@pve");
    }

    @Test
    void wrongPasswordUnknownUserAndUnknownRealmAllAnswerAuthenticationFailure() {
        for (String[] attempt : new String[][] {{"admin@pve", "wrong-password"}, {"nobody@pve", ADMIN_PASSWORD},
                {"admin@nowhere", ADMIN_PASSWORD}, {"admin", ADMIN_PASSWORD}}) {
            assertThatThrownBy(() -> login(attempt[0], attempt[1]))
                    .isInstanceOf(Unauthorized.class).hasMessage("authentication failure");
        }
    }

    @Test
    void repeatedFailuresLockTheUserOutEvenWithTheRightPasswordUntilTheLockExpires() throws Exception {
        for (int i = 0; i < 4; i++) {
            assertThatThrownBy(() -> login("admin@pve", "wrong-password")).isInstanceOf(Unauthorized.class);
        }
        assertThatThrownBy(() -> login("admin@pve", ADMIN_PASSWORD))
                .isInstanceOf(Unauthorized.class).hasMessage("too many failed login attempts");

        fx.clock.advance(Duration.ofMinutes(1));
        assertThat(login("admin@pve", ADMIN_PASSWORD)).containsKey("ticket");
    }

    @Test
    void validTicketAsPasswordRenewsIt() throws Exception {
        String ticket = (String) login("admin@pve", ADMIN_PASSWORD).get("ticket");
        fx.clock.advance(Duration.ofMinutes(90));

        String renewed = (String) login("admin@pve", ticket).get("ticket");

        assertThat(renewed).isNotEqualTo(ticket);
        fx.clock.advance(Duration.ofMinutes(60));
        assertThat(fx.access.authenticateTicket(ticket, "x")).isEmpty();
        assertThat(fx.access.authenticateTicket(renewed, "x")).isPresent();
    }

    @Test
    void anotherUsersTicketDoesNotLogInButRootsDoes() throws Exception {
        fx.call(POST, "/access/users", ROOT, "userid", "bob@pve", "password", "bob-secret-1");
        String bobTicket = (String) login("bob@pve", "bob-secret-1").get("ticket");
        String rootTicket = fx.access.issueTicket("root@pam");

        assertThatThrownBy(() -> login("admin@pve", bobTicket)).isInstanceOf(Unauthorized.class);
        assertThat(login("bob@pve", rootTicket)).containsEntry("username", "bob@pve");
    }

    @Test
    void disabledOrExpiredUsersCanNotLogInAndTheirTicketsStopWorking() throws Exception {
        String ticket = (String) login("admin@pve", ADMIN_PASSWORD).get("ticket");

        fx.call(PUT, "/access/users/admin@pve", ROOT, "enable", "0");
        assertThatThrownBy(() -> login("admin@pve", ADMIN_PASSWORD)).isInstanceOf(Unauthorized.class);
        assertThat(fx.access.authenticateTicket(ticket, "x")).isEmpty();

        fx.call(PUT, "/access/users/admin@pve", ROOT, "enable", "1", "expire", String.valueOf(1_800_000_000L - 1));
        assertThat(fx.access.authenticateTicket(ticket, "x")).isEmpty();
    }

    @Test
    void pathAndPrivsOnlyVerifyAndAnswerNoTicket() throws Exception {
        Map<String, Object> answer = login("admin@pve", ADMIN_PASSWORD, "path", "/vms/100", "privs", "VM.Console");

        assertThat(answer).containsKey("username").doesNotContainKeys("ticket", "CSRFPreventionToken");

        fx.call(POST, "/access/users", ROOT, "userid", "bob@pve", "password", "bob-secret-1");
        assertThatThrownBy(() -> login("bob@pve", "bob-secret-1", "path", "/vms/100", "privs", "VM.Console"))
                .isInstanceOf(Unauthorized.class);
    }

    @Test
    void otpWithoutSecondFactorsAndForgedChallengesAreRefused() {
        assertThatThrownBy(() -> login("admin@pve", ADMIN_PASSWORD, "otp", "123456")).isInstanceOf(Unauthorized.class);
        assertThatThrownBy(() -> login("admin@pve", ADMIN_PASSWORD, "tfa-challenge", "x")).isInstanceOf(Unauthorized.class);
    }

    @Test
    void getTicketIsAnonymousAndAnswersNothing() throws Exception {
        assertThat(fx.call(GET, "/access/ticket", ANONYMOUS)).isNull();
    }

    @Test
    void tokensCanNotCreateTickets() throws Exception {
        assertThatThrownBy(() -> fx.call(POST, "/access/ticket", AccessFixture.token("admin@pve!t1"),
                "username", "admin@pve", "password", ADMIN_PASSWORD)).isInstanceOf(PermissionDenied.class);
    }

    @Test
    void usersChangeTheirOwnPasswordAfterConfirmingTheOldOne() throws Exception {
        assertThatThrownBy(() -> fx.call(PUT, "/access/password", ADMIN, "userid", "admin@pve", "password", "new-secret-1"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("confirmation-password");
        assertThatThrownBy(() -> fx.call(PUT, "/access/password", ADMIN, "userid", "admin@pve", "password", "new-secret-1",
                "confirmation-password", "wrong")).isInstanceOf(ParameterError.class);

        fx.call(PUT, "/access/password", ADMIN, "userid", "admin@pve", "password", "new-secret-1",
                "confirmation-password", ADMIN_PASSWORD);

        assertThat(login("admin@pve", "new-secret-1")).containsKey("ticket");
        assertThatThrownBy(() -> login("admin@pve", ADMIN_PASSWORD)).isInstanceOf(Unauthorized.class);
    }

    @Test
    void onlyRootChangesRootsPasswordAndNobodyElsesWithoutPrivileges() throws Exception {
        fx.call(POST, "/access/users", ROOT, "userid", "bob@pve", "password", "bob-secret-1");

        assertThatThrownBy(() -> fx.call(PUT, "/access/password", ADMIN, "userid", "root@pam", "password", "new-secret-1",
                "confirmation-password", ADMIN_PASSWORD)).isInstanceOf(PermissionDenied.class);
        assertThatThrownBy(() -> fx.call(PUT, "/access/password", AccessFixture.user("bob@pve"), "userid", "admin@pve",
                "password", "new-secret-1", "confirmation-password", "bob-secret-1")).isInstanceOf(PermissionDenied.class);

        fx.call(PUT, "/access/password", ROOT, "userid", "bob@pve", "password", "bob-secret-2");
        assertThat(login("bob@pve", "bob-secret-2")).containsKey("ticket");
    }

    @Test
    void permissionsOfTheCallerAreListedByPath() throws Exception {
        Map<String, Object> all = map(fx.call(GET, "/access/permissions", ADMIN));
        assertThat(all).containsKeys("/", "/vms", "/access");
        assertThat(map(all.get("/"))).containsEntry("Permissions.Modify", 1);

        Map<String, Object> one = map(fx.call(GET, "/access/permissions", ADMIN, "path", "/vms/100", "userid", "admin@pve"));
        assertThat(one).containsOnlyKeys("/vms/100");

        fx.call(POST, "/access/users", ROOT, "userid", "bob@pve");
        assertThat(map(fx.call(GET, "/access/permissions", AccessFixture.user("bob@pve")))).isEmpty();
        assertThatThrownBy(() -> fx.call(GET, "/access/permissions", AccessFixture.user("bob@pve"), "userid", "admin@pve"))
                .isInstanceOf(PermissionDenied.class);
    }

    @Test
    @SuppressWarnings("unchecked")
    void accessIndexListsTheSubdirectories() throws Exception {
        assertThat((List<Object>) fx.call(GET, "/access", ADMIN)).contains(Map.of("subdir", "ticket"), Map.of("subdir", "users"));
        assertThat(Optional.ofNullable(fx.call(GET, "/access/ticket", ANONYMOUS))).isEmpty();
    }
}
