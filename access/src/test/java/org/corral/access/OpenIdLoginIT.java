package org.corral.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.access.AccessFixture.ADDRESS;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.access.AccessFixture.ANONYMOUS;
import static org.corral.core.api.HttpVerb.GET;
import static org.corral.core.api.HttpVerb.POST;
import static org.corral.core.api.HttpVerb.PUT;

import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.error.ParameterError;
import org.corral.core.error.Unauthorized;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * OpenID Connect sign-in against a real provider on a loopback HTTPS port ({@link TestOpenIdProvider}):
 * the code flow with PKCE signs in and maps the user and its groups, and every broken step is refused.
 */
class OpenIdLoginIT {
    private static final String REDIRECT = "https://corral.example:8006";
    private static final String CLIENT_KEY = "client-key-s3cret";

    private static TestOpenIdProvider provider;
    private AccessFixture fx;
    private int refusedBefore;

    @BeforeAll
    static void startProvider() throws Exception {
        provider = new TestOpenIdProvider(CLIENT_KEY);
    }

    @AfterAll
    static void stopProvider() {
        provider.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        provider.behave();
        refusedBefore = provider.refusedTokenRequests();
        javax.net.ssl.SSLContext tls = provider.clientTls();
        fx = new AccessFixture(true, Optional.empty(), settings -> settings.withOutboundTls(tls));
        fx.call(POST, "/access/domains", ADMIN, "realm", "corp", "type", "openid", "issuer-url", provider.issuer(),
                "client-id", TestOpenIdProvider.CLIENT_ID, "client-key", CLIENT_KEY, "autocreate", "1",
                "groups-claim", "groups", "groups-autocreate", "1", "scopes", "email profile");
        provider.signIn(Map.of("sub", "alice", "email", "alice@example.com", "given_name", "Alice",
                "groups", List.of("admins", "ops team")));
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    /** The browser's part: opens the authorization URL and answers the code and state of the redirect back. */
    private Map<String, String> authorize(String authUrl) throws Exception {
        try (HttpClient browser = HttpClient.newBuilder().sslContext(provider.clientTls())
                .followRedirects(HttpClient.Redirect.NEVER).build()) {
            HttpResponse<String> response = browser.send(HttpRequest.newBuilder(URI.create(authUrl)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(302);
            URI location = URI.create(response.headers().firstValue("Location").orElseThrow());
            assertThat(location.toString()).startsWith(REDIRECT);
            Map<String, String> query = new LinkedHashMap<>();
            for (String pair : location.getRawQuery().split("&")) {
                String[] kv = pair.split("=", 2);
                query.put(kv[0], URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
            }
            return query;
        }
    }

    private String authUrl() throws Exception {
        return (String) fx.call(POST, "/access/openid/auth-url", ANONYMOUS, "realm", "corp", "redirect-url", REDIRECT);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> login(Map<String, String> redirect) throws Exception {
        return (Map<String, Object>) fx.call(POST, "/access/openid/login", ANONYMOUS, "code", redirect.get("code"),
                "state", redirect.get("state"), "redirect-url", REDIRECT);
    }

    /** Why the node refuses the sign-in the redirect comes back from (the API answers only "authentication failure"). */
    private String refusal(Map<String, String> redirect) {
        try {
            fx.access.openIdLogin().login(redirect.get("code"), redirect.get("state"), REDIRECT);
        } catch (AuthenticationException e) {
            return e.getMessage();
        }
        throw new AssertionError("the sign-in was not refused");
    }

    @Test
    void codeFlowWithPkceSignsInCreatesTheUserAndMapsTheGroupsClaim() throws Exception {
        String authUrl = authUrl();
        assertThat(authUrl).startsWith(provider.issuer() + "/authorize?").contains("code_challenge_method=S256")
                .contains("code_challenge=").contains("nonce=").contains("state=").contains("scope=openid+email+profile")
                .doesNotContain(CLIENT_KEY);

        Map<String, Object> answer = login(authorize(authUrl));

        assertThat(answer).containsEntry("username", "alice@corp").containsKeys("ticket", "CSRFPreventionToken", "cap");
        assertThat(fx.access.authenticateTicket((String) answer.get("ticket"), ADDRESS)).hasValueSatisfying(
                auth -> assertThat(auth.userid()).isEqualTo("alice@corp"));
        assertThat(fx.access.verifyCsrf((String) answer.get("CSRFPreventionToken"), "alice@corp")).isTrue();
        assertThat(fx.userCfg()).contains("user:alice@corp:1:0:Alice::alice@example.com:")
                .contains("group:admins-corp:alice@corp:").contains("group:opsXteam-corp:alice@corp:");
        // the client key lives in priv/ only
        assertThat(fx.store.text("priv/openid/corp.key")).isEqualTo(CLIENT_KEY + "\n");
        assertThat(fx.store.text("domains.cfg")).contains("issuer-url " + provider.issuer()).doesNotContain(CLIENT_KEY);
        assertThat(fx.call(GET, "/access/domains/corp", ADMIN).toString()).doesNotContain(CLIENT_KEY).contains("autocreate=1");
    }

    @Test
    void aTamperedOrReplayedStateIsRefused() throws Exception {
        Map<String, String> redirect = authorize(authUrl());
        String state = redirect.get("state");
        String tampered = (state.charAt(0) == 'A' ? "B" : "A") + state.substring(1);
        assertThatThrownBy(() -> login(Map.of("code", redirect.get("code"), "state", tampered)))
                .isInstanceOf(Unauthorized.class).hasMessageContaining("invalid OpenID state");

        assertThat(login(redirect)).containsEntry("username", "alice@corp");
        assertThatThrownBy(() -> login(redirect)).isInstanceOf(Unauthorized.class).hasMessageContaining("invalid OpenID state");
    }

    @Test
    void aLoginWithAnotherRedirectUrlThanItsAuthUrlIsRefused() throws Exception {
        Map<String, String> redirect = authorize(authUrl());
        assertThatThrownBy(() -> fx.access.openIdLogin().login(redirect.get("code"), redirect.get("state"), "https://evil.example"))
                .isInstanceOf(AuthenticationException.class).hasMessageContaining("redirect-url differs");
        // the state was taken by that attempt: it can't be tried again
        assertThat(refusal(redirect)).contains("invalid OpenID state");
        assertThat(fx.userCfg()).doesNotContain("alice@corp");
    }

    @Test
    void aStateOlderThanItsLifetimeIsRefused() throws Exception {
        Map<String, String> redirect = authorize(authUrl());
        fx.clock.advance(OpenIdLogin.STATE_LIFETIME.plusSeconds(1));
        assertThatThrownBy(() -> login(redirect)).isInstanceOf(Unauthorized.class).hasMessageContaining("OpenID state expired");
        assertThat(fx.userCfg()).doesNotContain("alice@corp");
    }

    @Test
    void aCodeRedeemedWithAnotherSignInsVerifierIsRefusedByThePkceCheck() throws Exception {
        Map<String, String> first = authorize(authUrl());
        Map<String, String> second = authorize(authUrl());
        // the first sign-in's code with the second's state: the node sends the second's code_verifier
        assertThat(refusal(Map.of("code", first.get("code"), "state", second.get("state")))).contains("invalid_grant");
        assertThat(provider.refusedTokenRequests()).isEqualTo(refusedBefore + 1);
        assertThat(fx.userCfg()).doesNotContain("alice@corp");
    }

    @Test
    void anIdTokenOfAnotherIssuerIsRefused() throws Exception {
        provider.idTokenIssuer("https://evil.example/realms/test");
        assertThatThrownBy(() -> login(authorize(authUrl()))).isInstanceOf(Unauthorized.class)
                .hasMessage(Authenticator.FAILURE);
        assertThat(refusal(authorize(authUrl()))).contains("Unexpected JWT issuer");
        assertThat(fx.userCfg()).doesNotContain("alice@corp");
        provider.idTokenIssuer(provider.issuer());
        assertThat(login(authorize(authUrl()))).containsEntry("username", "alice@corp");
    }

    @Test
    void anExpiredIdTokenIsRefused() throws Exception {
        provider.idTokenLifetime(Duration.ofMinutes(-5));
        assertThat(refusal(authorize(authUrl()))).contains("Expired JWT");
        assertThat(fx.userCfg()).doesNotContain("alice@corp");
    }

    @Test
    void anIdTokenForAnotherClientWithAnotherNonceOrAForeignSignatureIsRefused() throws Exception {
        provider.idTokenAudience("another-client");
        assertThat(refusal(authorize(authUrl()))).contains("Unexpected JWT audience");
        provider.behave();
        provider.idTokenNonce("replayed-nonce");
        assertThat(refusal(authorize(authUrl()))).contains("Unexpected JWT nonce");
        provider.behave();
        provider.signWithForeignKey(true);
        assertThat(refusal(authorize(authUrl()))).contains("Invalid signature");
        assertThat(fx.userCfg()).doesNotContain("alice@corp");
        provider.behave();
        assertThat(login(authorize(authUrl()))).containsEntry("username", "alice@corp");
    }

    @Test
    void aWrongClientKeyIsRefusedByTheProvider() throws Exception {
        fx.call(PUT, "/access/domains/corp", ADMIN, "client-key", "not-the-key");
        assertThat(refusal(authorize(authUrl()))).contains("invalid_client");
        assertThat(provider.refusedTokenRequests()).isEqualTo(refusedBefore + 1);
        assertThat(fx.store.text("priv/openid/corp.key")).isEqualTo("not-the-key\n");
    }

    @Test
    void withoutAutocreateOnlyExistingUsersSignInAndGroupsOverwriteReplacesMemberships() throws Exception {
        fx.call(PUT, "/access/domains/corp", ADMIN, "autocreate", "0", "groups-overwrite", "1", "groups-autocreate", "0");
        assertThat(refusal(authorize(authUrl()))).contains("does not exist");
        assertThat(fx.userCfg()).doesNotContain("alice@corp");

        fx.call(POST, "/access/groups", ADMIN, "groupid", "local");
        fx.call(POST, "/access/groups", ADMIN, "groupid", "admins-corp");
        fx.call(POST, "/access/users", ADMIN, "userid", "alice@corp", "groups", "local");
        assertThat(login(authorize(authUrl()))).containsEntry("username", "alice@corp");
        assertThat(fx.userCfg()).contains("group:admins-corp:alice@corp:").contains("group:local::")
                .doesNotContain("opsXteam-corp");

        fx.call(PUT, "/access/users/alice@corp", ADMIN, "enable", "0");
        assertThat(refusal(authorize(authUrl()))).contains("disabled");
    }

    @Test
    void aClientKeyKeptInlineByProxmoxIsUsedNeverShownAndMovedToPrivWhenSet() throws Exception {
        fx.call(org.corral.core.api.HttpVerb.DELETE, "/access/domains/corp", ADMIN);
        String domains = fx.store.text("domains.cfg") + "\nopenid: corp\n\tissuer-url " + provider.issuer() + "\n\tclient-id "
                + TestOpenIdProvider.CLIENT_ID + "\n\tclient-key " + CLIENT_KEY + "\n\tautocreate 1\n";
        fx.store.overwrite("domains.cfg", domains);
        assertThat(fx.store.read("priv/openid/corp.key")).isEmpty();

        assertThat(login(authorize(authUrl()))).containsEntry("username", "alice@corp");
        assertThat(fx.call(GET, "/access/domains/corp", ADMIN).toString()).doesNotContain(CLIENT_KEY).contains("issuer-url");

        fx.call(PUT, "/access/domains/corp", ADMIN, "client-key", CLIENT_KEY);
        assertThat(fx.store.text("domains.cfg")).doesNotContain(CLIENT_KEY);
        assertThat(fx.store.text("priv/openid/corp.key")).isEqualTo(CLIENT_KEY + "\n");
        assertThat(login(authorize(authUrl()))).containsEntry("username", "alice@corp");
    }

    @Test
    void theUsernameClaimNamesTheUser() throws Exception {
        fx.call(POST, "/access/domains", ADMIN, "realm", "corp2", "type", "openid", "issuer-url", provider.issuer(),
                "client-id", TestOpenIdProvider.CLIENT_ID, "client-key", CLIENT_KEY, "autocreate", "1",
                "username-claim", "email");
        Map<String, String> redirect = authorize((String) fx.call(POST, "/access/openid/auth-url", ANONYMOUS, "realm", "corp2",
                "redirect-url", REDIRECT));
        assertThat(login(redirect)).containsEntry("username", "alice@example.com@corp2");
    }

    @Test
    void realmOptionsAreCheckedAndPasswordLoginIsRefused() throws Exception {
        assertThatThrownBy(() -> fx.call(POST, "/access/domains", ADMIN, "realm", "bad", "type", "openid",
                "client-id", "x")).isInstanceOf(ParameterError.class).hasMessageContaining("issuer-url");
        assertThatThrownBy(() -> fx.call(POST, "/access/domains", ADMIN, "realm", "bad", "type", "openid",
                "issuer-url", "ftp://x", "client-id", "x")).isInstanceOf(ParameterError.class);
        assertThatThrownBy(() -> fx.call(POST, "/access/domains", ADMIN, "realm", "bad", "type", "ldap",
                "server1", "h", "base_dn", "dc=x", "user_attr", "uid", "client-key", "k"))
                .isInstanceOf(ParameterError.class).hasMessageContaining("client-key");
        assertThatThrownBy(() -> fx.call(PUT, "/access/domains/corp", ADMIN, "username-claim", "email"))
                .isInstanceOf(ParameterError.class);
        assertThatThrownBy(() -> fx.call(PUT, "/access/domains/corp", ADMIN, "delete", "username-claim"))
                .isInstanceOf(ParameterError.class);
        assertThatThrownBy(() -> fx.call(POST, "/access/openid/auth-url", ANONYMOUS, "realm", "pve", "redirect-url", REDIRECT))
                .isInstanceOf(ParameterError.class).hasMessageContaining("not an OpenID realm");
        fx.call(POST, "/access/users", ADMIN, "userid", "bob@corp");
        assertThatThrownBy(() -> fx.call(POST, "/access/ticket", ANONYMOUS, "username", "bob@corp", "password", "anything"))
                .isInstanceOf(Unauthorized.class);

        fx.call(org.corral.core.api.HttpVerb.DELETE, "/access/domains/corp", ADMIN);
        assertThat(fx.store.text("domains.cfg")).doesNotContain("openid: corp");
        assertThat(fx.store.read("priv/openid/corp.key")).isEmpty();
    }
}
