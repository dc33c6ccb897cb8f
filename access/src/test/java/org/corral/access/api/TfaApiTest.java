package org.corral.access.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.access.AccessFixture.ANONYMOUS;
import static org.corral.access.AccessFixture.ROOT;
import static org.corral.core.api.HttpVerb.DELETE;
import static org.corral.core.api.HttpVerb.GET;
import static org.corral.core.api.HttpVerb.POST;
import static org.corral.core.api.HttpVerb.PUT;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.access.AccessFixture;
import org.corral.access.AuthenticationException;
import org.corral.access.TwoFactor;
import org.corral.access.tfa.Base32;
import org.corral.access.tfa.SoftAuthenticator;
import org.corral.core.config.ConfigStore;
import org.corral.access.tfa.Totp;
import org.corral.core.access.AuthContext;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.error.Unauthorized;
import org.corral.core.json.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class TfaApiTest {
    private static final String BOB = "bob@pve";
    private static final String BOB_PASSWORD = "bob-secret-1";
    private static final String URI = "otpauth://totp/corral:bob?secret="
            + Base32.encode("12345678901234567890".getBytes(StandardCharsets.US_ASCII)) + "&issuer=corral";
    private static final AuthContext BOB_AUTH = AccessFixture.user(BOB);

    private final AccessFixture fx = new AccessFixture();

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private static Map<String, Object> map(Object value) {
        return LoginApiTest.map(value);
    }

    private Map<String, Object> login(String username, String password, String... more) throws Exception {
        return LoginApiTest.login(fx, username, password, more);
    }

    private String code() {
        Totp totp = Totp.parseUri(URI);
        return totp.code(totp.step(fx.clock.instant().getEpochSecond()));
    }

    /** Moves past the TOTP step just used and past the login throttle's window. */
    private void later() {
        fx.clock.advance(Duration.ofMinutes(11));
    }

    private String bobWithTotp() throws Exception {
        fx.call(POST, "/access/users", ROOT, "userid", BOB, "password", BOB_PASSWORD);
        String id = (String) map(fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "totp", "totp", URI, "value", code(),
                "description", "phone", "password", BOB_PASSWORD)).get("id");
        later();
        return id;
    }

    private static JsonNode challengeOf(String halfTicket) {
        String encoded = halfTicket.substring("PVE:!tfa!".length(), halfTicket.indexOf(':', "PVE:!tfa!".length()));
        return Json.read(URLDecoder.decode(encoded, StandardCharsets.UTF_8));
    }

    @Test
    void totpLoginAnswersHalfTicketThenFullTicketForTheCode() throws Exception {
        String id = bobWithTotp();

        Map<String, Object> first = login(BOB, BOB_PASSWORD);
        assertThat(first).containsEntry("NeedTFA", 1).containsEntry("username", BOB).doesNotContainKey("cap");
        String half = (String) first.get("ticket");
        assertThat(half).startsWith("PVE:!tfa!");
        assertThat(challengeOf(half).path("totp").asBoolean()).isTrue();
        assertThat(fx.access.authenticateTicket(half, "198.51.100.1")).isEmpty();

        Map<String, Object> second = login(BOB, "totp:" + code(), "tfa-challenge", half);
        String ticket = (String) second.get("ticket");
        assertThat(ticket).startsWith("PVE:bob@pve:");
        assertThat(fx.access.authenticateTicket(ticket, "198.51.100.1")).contains(AuthContext.user(BOB, "198.51.100.1"));
        assertThat(second).doesNotContainKey("NeedTFA").containsKey("cap");

        assertThat(fx.call(GET, "/access/tfa/" + BOB + "/" + id, BOB_AUTH)).isEqualTo(Map.of("type", "totp", "id", id,
                "description", "phone", "created", 1_800_000_000L));
        JsonNode stored = Json.read(fx.store.text("priv/tfa.cfg")).path("users").path(BOB).path("totp").get(0);
        assertThat(stored.path("entry").asString()).isEqualTo(URI);
        assertThat(stored.path("id").asString()).isEqualTo(id);
    }

    @Test
    void aTotpCodeIsRefusedTheSecondTimeAndAWrongOneAlways() throws Exception {
        bobWithTotp();
        String half = (String) login(BOB, BOB_PASSWORD).get("ticket");
        String code = code();
        login(BOB, "totp:" + code, "tfa-challenge", half);

        assertThatThrownBy(() -> login(BOB, "totp:" + code, "tfa-challenge", half)).isInstanceOf(Unauthorized.class);
        assertThatThrownBy(() -> login(BOB, BOB_PASSWORD, "otp", code)).isInstanceOf(Unauthorized.class);
        later();
        String wrong = code().equals("000000") ? "000001" : "000000";
        assertThatThrownBy(() -> login(BOB, "totp:" + wrong, "tfa-challenge", half)).isInstanceOf(Unauthorized.class);
    }

    @Test
    void otpInTheFirstCallLogsInAtOnceAsOldClientsDo() throws Exception {
        bobWithTotp();
        assertThat((String) login(BOB, BOB_PASSWORD, "otp", code()).get("ticket")).startsWith("PVE:bob@pve:");
        later();
        assertThatThrownBy(() -> login(BOB, "wrong-password", "otp", code())).isInstanceOf(Unauthorized.class);
    }

    @Test
    void halfTicketIsOnlyGoodForItsOwnUser() throws Exception {
        bobWithTotp();
        fx.call(POST, "/access/users", ROOT, "userid", "carol@pve", "password", "carol-secret-1");
        String half = (String) login(BOB, BOB_PASSWORD).get("ticket");
        assertThatThrownBy(() -> login("carol@pve", "totp:" + code(), "tfa-challenge", half)).isInstanceOf(Unauthorized.class);
        String forged = half.replace("%22totp%22%3Atrue", "%22totp%22%3Afalse");
        assertThatThrownBy(() -> login(BOB, "totp:" + code(), "tfa-challenge", forged)).isInstanceOf(Unauthorized.class);
        // nor does a half ticket renew into a ticket as a password
        assertThatThrownBy(() -> login(BOB, half)).isInstanceOf(Unauthorized.class);
    }

    @Test
    void recoveryKeysWorkOnceEach() throws Exception {
        bobWithTotp();
        @SuppressWarnings("unchecked")
        List<String> keys = (List<String>) map(fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "recovery",
                "password", BOB_PASSWORD)).get("recovery");
        assertThat(keys).hasSize(10).allMatch(k -> k.matches("[0-9a-f]{4}(-[0-9a-f]{4}){3}"));
        assertThatThrownBy(() -> fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "recovery", "password", BOB_PASSWORD))
                .hasMessageContaining("already has recovery keys");

        String half = (String) login(BOB, BOB_PASSWORD).get("ticket");
        assertThat(challengeOf(half).path("recovery").size()).isEqualTo(10);
        assertThat(login(BOB, "recovery:" + keys.get(3), "tfa-challenge", half)).containsKey("cap");
        later();
        assertThatThrownBy(() -> login(BOB, "recovery:" + keys.get(3), "tfa-challenge", half)).isInstanceOf(Unauthorized.class);
        String next = (String) login(BOB, BOB_PASSWORD).get("ticket");
        assertThat(challengeOf(next).path("recovery").size()).isEqualTo(9);
        assertThat(fx.store.text("priv/tfa.cfg")).doesNotContain(keys.get(0));
    }

    @Test
    void repeatedWrongCodesLockTotpUntilUnlocked() throws Exception {
        bobWithTotp();
        String half = (String) login(BOB, BOB_PASSWORD).get("ticket");
        for (int i = 0; i < TwoFactor.TOTP_FAILURE_LIMIT; i++) {
            later();
            String wrong = code().equals("000000") ? "000001" : "000000";
            assertThatThrownBy(() -> login(BOB, "totp:" + wrong, "tfa-challenge", half)).isInstanceOf(Unauthorized.class);
        }
        later();
        assertThatThrownBy(() -> login(BOB, "totp:" + code(), "tfa-challenge", half)).isInstanceOf(Unauthorized.class);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> all = (List<Map<String, Object>>) fx.call(GET, "/access/tfa", ADMIN);
        assertThat(all).singleElement().satisfies(u -> assertThat(u).containsEntry("userid", BOB).containsEntry("totp-locked", 1));
        // locked TOTP and nothing else: no login at all
        assertThatThrownBy(() -> login(BOB, BOB_PASSWORD)).isInstanceOf(Unauthorized.class);

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> users = (List<Map<String, Object>>) fx.call(GET, "/access/users", ADMIN);
        assertThat(users).filteredOn(u -> u.get("userid").equals(BOB)).singleElement()
                .satisfies(u -> assertThat(u).containsEntry("totp-locked", 1));
        assertThat(fx.call(PUT, "/access/users/" + BOB + "/unlock-tfa", ADMIN)).isEqualTo(true);
        assertThat(fx.call(PUT, "/access/users/" + BOB + "/unlock-tfa", ADMIN)).isEqualTo(false);
        later();
        String fresh = (String) login(BOB, BOB_PASSWORD).get("ticket");
        assertThat(login(BOB, "totp:" + code(), "tfa-challenge", fresh)).containsKey("ticket");
    }

    @Test
    void aHundredFailedSecondFactorsLockThemAllForAnHour() throws Exception {
        bobWithTotp();
        fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "recovery", "password", BOB_PASSWORD);
        TwoFactor tfa = fx.access.service().twoFactor();
        JsonNode challenge = tfa.challenge(BOB, Optional.empty()).orElseThrow();
        for (int i = 0; i < TwoFactor.TFA_FAILURE_LIMIT; i++) {
            assertThatThrownBy(() -> tfa.verify(BOB, challenge, "recovery:0000-0000-0000-0000", Optional.empty()))
                    .isInstanceOf(AuthenticationException.class);
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> all = (List<Map<String, Object>>) fx.call(GET, "/access/tfa", ADMIN);
        assertThat(all).singleElement().satisfies(u -> assertThat(u)
                .containsEntry("tfa-locked-until", fx.clock.instant().getEpochSecond() + TwoFactor.TFA_LOCK_SECONDS));
        assertThatThrownBy(() -> tfa.verify(BOB, challenge, "totp:" + code(), Optional.empty())).isInstanceOf(AuthenticationException.class);
        assertThatThrownBy(() -> login(BOB, BOB_PASSWORD)).isInstanceOf(Unauthorized.class);

        fx.clock.advance(Duration.ofSeconds(TwoFactor.TFA_LOCK_SECONDS + 1));
        String half = (String) login(BOB, BOB_PASSWORD).get("ticket");
        assertThat(login(BOB, "totp:" + code(), "tfa-challenge", half)).containsKey("cap");
    }

    @Test
    void realmThatRequiresOathRefusesUsersWithoutTotpAndOtherFactors() throws Exception {
        fx.call(POST, "/access/users", ROOT, "userid", "dave@pve", "password", "dave-secret-1");
        bobWithTotp();
        fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "yubico", "value", "ccccccbcgujhingjrdejhgfnuetrgigvejhhgbkugded",
                "password", BOB_PASSWORD);
        fx.call(PUT, "/access/domains/pve", ADMIN, "tfa", "type=oath,step=30,digits=6");
        assertThat(map(fx.call(GET, "/access/users/" + BOB + "/tfa", BOB_AUTH, "multiple", "1")))
                .isEqualTo(Map.of("realm", "oath", "types", List.of("totp", "yubico")));
        assertThat(map(fx.call(GET, "/access/users/dave@pve/tfa", ADMIN))).isEqualTo(Map.of("realm", "oath"));

        assertThatThrownBy(() -> login("dave@pve", "dave-secret-1")).isInstanceOf(Unauthorized.class);
        String half = (String) login(BOB, BOB_PASSWORD).get("ticket");
        assertThat(challengeOf(half).has("yubico")).isFalse();
        assertThatThrownBy(() -> login(BOB, "yubico:ccccccbcgujhingjrdejhgfnuetrgigvejhhgbkugded", "tfa-challenge", half))
                .isInstanceOf(Unauthorized.class);
        assertThat(login(BOB, "totp:" + code(), "tfa-challenge", half)).containsKey("cap");

        fx.call(PUT, "/access/domains/pve", ADMIN, "delete", "tfa");
        assertThat(login("dave@pve", "dave-secret-1")).containsKey("cap");
    }

    @Test
    void yubicoEntriesAreStoredButSayTheyCanNotBeVerifiedHere() throws Exception {
        fx.call(POST, "/access/users", ROOT, "userid", BOB, "password", BOB_PASSWORD);
        assertThatThrownBy(() -> fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "yubico", "value", "123456",
                "password", BOB_PASSWORD)).isInstanceOf(ParameterError.class).hasMessageContaining("modhex");
        fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "yubico", "value", "ccccccbcgujhingjrdejhgfnuetrgigvejhhgbkugded",
                "password", BOB_PASSWORD);
        assertThat(Json.read(fx.store.text("priv/tfa.cfg")).path("users").path(BOB).path("yubico").get(0).path("entry").asString())
                .isEqualTo("ccccccbcgujh");

        String half = (String) login(BOB, BOB_PASSWORD).get("ticket");
        assertThat(challengeOf(half).path("yubico").asBoolean()).isTrue();
        assertThatThrownBy(() -> login(BOB, "yubico:ccccccbcgujhingjrdejhgfnuetrgigvejhhgbkugdee", "tfa-challenge", half))
                .isInstanceOf(Unauthorized.class).hasMessage(TwoFactor.YUBICO_UNVERIFIABLE);
    }

    @Test
    void changesNeedTheCallersPasswordAndTheRightPrivileges() throws Exception {
        String id = bobWithTotp();
        fx.call(POST, "/access/users", ROOT, "userid", "carol@pve", "password", "carol-secret-1");
        AuthContext carol = AccessFixture.user("carol@pve");

        assertThatThrownBy(() -> fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "recovery"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("password is required");
        assertThatThrownBy(() -> fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "recovery", "password", "wrong-pw"))
                .isInstanceOf(ParameterError.class);
        assertThatThrownBy(() -> fx.call(GET, "/access/tfa/" + BOB, carol)).isInstanceOf(PermissionDenied.class);
        assertThatThrownBy(() -> fx.call(DELETE, "/access/tfa/" + BOB + "/" + id, carol, "password", "carol-secret-1"))
                .isInstanceOf(PermissionDenied.class);
        assertThatThrownBy(() -> fx.call(PUT, "/access/users/" + BOB + "/unlock-tfa", carol)).isInstanceOf(PermissionDenied.class);
        assertThat(fx.call(GET, "/access/tfa", carol)).isEqualTo(List.of());
        assertThatThrownBy(() -> fx.call(POST, "/access/tfa/root@pam", ADMIN, "type", "recovery", "password", AccessFixture.ADMIN_PASSWORD))
                .isInstanceOf(PermissionDenied.class);

        fx.call(PUT, "/access/tfa/" + BOB + "/" + id, BOB_AUTH, "enable", "0", "description", "old phone", "password", BOB_PASSWORD);
        assertThat(map(fx.call(GET, "/access/tfa/" + BOB + "/" + id, ADMIN))).containsEntry("enable", 0)
                .containsEntry("description", "old phone");
        assertThat(login(BOB, BOB_PASSWORD)).doesNotContainKey("NeedTFA");

        fx.call(DELETE, "/access/tfa/" + BOB + "/" + id, ROOT);
        assertThatThrownBy(() -> fx.call(GET, "/access/tfa/" + BOB + "/" + id, BOB_AUTH)).isInstanceOf(NotFound.class);
        assertThat(fx.call(GET, "/access/tfa/" + BOB, BOB_AUTH)).isEqualTo(List.of());
    }

    @Test
    void webauthnRegistersAndLogsInWithASoftwareAuthenticatorOnceperAssertion() throws Exception {
        fx.store.write("priv/tfa.cfg", "{\"users\":{},\"webauthn\":{\"rp\":\"corral\",\"origin\":\"https://corral.example:8006\","
                + "\"id\":\"corral.example\"}}\n", ConfigStore.NEW);
        fx.call(POST, "/access/users", ROOT, "userid", BOB, "password", BOB_PASSWORD);
        SoftAuthenticator key = new SoftAuthenticator("https://corral.example:8006");

        String challenge = (String) map(fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "webauthn", "password", BOB_PASSWORD))
                .get("challenge");
        String answer = key.register(Json.read(challenge));
        String id = (String) map(fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "webauthn", "challenge", challenge,
                "value", answer, "description", "key", "password", BOB_PASSWORD)).get("id");
        assertThat(map(fx.call(GET, "/access/tfa/" + BOB + "/" + id, BOB_AUTH))).containsEntry("type", "webauthn");
        assertThatThrownBy(() -> fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "webauthn", "challenge", challenge,
                "value", answer, "password", BOB_PASSWORD)).isInstanceOf(ParameterError.class).hasMessageContaining("challenge");

        String half = (String) login(BOB, BOB_PASSWORD).get("ticket");
        JsonNode options = challengeOf(half).path("webauthn");
        assertThat(options.path("publicKey").path("rpId").asString()).isEqualTo("corral.example");
        assertThatThrownBy(() -> login(BOB, "webauthn:" + key.assertion(options, "b3RoZXItY2hhbGxlbmdl"), "tfa-challenge", half))
                .isInstanceOf(Unauthorized.class);
        String assertion = key.assertion(options, null);
        assertThat(login(BOB, "webauthn:" + assertion, "tfa-challenge", half)).containsKey("cap");
        assertThatThrownBy(() -> login(BOB, "webauthn:" + assertion, "tfa-challenge", half)).isInstanceOf(Unauthorized.class);
        SoftAuthenticator other = new SoftAuthenticator("https://corral.example:8006");
        assertThatThrownBy(() -> login(BOB, "webauthn:" + other.assertion(options, null), "tfa-challenge", half))
                .isInstanceOf(Unauthorized.class);
    }

    @Test
    void webauthnWithoutRelyingPartySettingsIsRefusedClearly() throws Exception {
        fx.call(POST, "/access/users", ROOT, "userid", BOB, "password", BOB_PASSWORD);
        assertThatThrownBy(() -> fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "webauthn", "password", BOB_PASSWORD))
                .isInstanceOf(ParameterError.class).hasMessageContaining("WebAuthn is not configured");
    }

    @Test
    void deletingAUserDropsItsSecondFactors() throws Exception {
        bobWithTotp();
        fx.call(DELETE, "/access/users/" + BOB, ROOT);
        fx.call(POST, "/access/users", ROOT, "userid", BOB, "password", BOB_PASSWORD);
        assertThat(login(BOB, BOB_PASSWORD)).doesNotContainKey("NeedTFA");
        assertThat(Json.read(fx.store.text("priv/tfa.cfg")).path("users").has(BOB)).isFalse();
    }

    @Test
    void addingTotpNeedsItsCurrentCode() throws Exception {
        fx.call(POST, "/access/users", ROOT, "userid", BOB, "password", BOB_PASSWORD);
        String wrong = code().equals("000000") ? "000001" : "000000";
        assertThatThrownBy(() -> fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "totp", "totp", URI, "value", wrong,
                "password", BOB_PASSWORD)).isInstanceOf(ParameterError.class).hasMessageContaining("value");
        assertThatThrownBy(() -> fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "totp", "totp", "https://x", "value", code(),
                "password", BOB_PASSWORD)).isInstanceOf(ParameterError.class).hasMessageContaining("totp");
        assertThatThrownBy(() -> fx.call(POST, "/access/tfa/" + BOB, BOB_AUTH, "type", "u2f", "password", BOB_PASSWORD))
                .isInstanceOf(ParameterError.class).hasMessageContaining("not supported");
        assertThat(fx.store.read("priv/tfa.cfg")).isEmpty();
    }
}
