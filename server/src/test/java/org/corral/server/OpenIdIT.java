package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.access.TestOpenIdProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenID Connect sign-in against a running node over HTTPS, with a real provider on another
 * loopback HTTPS port: the browser's redirects are followed by hand, as the GUI's login does.
 */
class OpenIdIT {
    private static final String PASSWORD = "admin-pass-1";
    private static final String CLIENT_KEY = "oidc-client-key-93517";
    private static final String REDIRECT = "https://127.0.0.1:8006";

    @TempDir
    static Path dataDir;
    static TestOpenIdProvider provider;
    static CorralDaemon daemon;
    static TestClient admin;

    @BeforeAll
    static void start() throws Exception {
        provider = new TestOpenIdProvider(CLIENT_KEY);
        daemon = CorralDaemon.start(new CorralDaemon.Options("testnode", dataDir, "127.0.0.1", 0, Optional.of(PASSWORD), false,
                Optional.of(provider.clientTls())));
        admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
        TestClient.Answer created = admin.post("/access/domains", Map.of("realm", "corp", "type", "openid",
                "issuer-url", provider.issuer(), "client-id", TestOpenIdProvider.CLIENT_ID, "client-key", CLIENT_KEY,
                "autocreate", "1", "groups-claim", "groups", "groups-autocreate", "1", "comment", "Company sign-in"));
        assertThat(created.status()).as(created.body().toString()).isEqualTo(200);
        // the group the provider's "auditors" claim maps to may see the nodes
        assertThat(admin.post("/access/groups", Map.of("groupid", "auditors-corp")).status()).isEqualTo(200);
        assertThat(admin.put("/access/acl", Map.of("path", "/", "groups", "auditors-corp", "roles", "PVEAuditor")).status())
                .isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
        if (provider != null) {
            provider.close();
        }
    }

    /** POST auth-url, then the browser at the provider: answers the code and state it is sent back with. */
    private static Map<String, String> signInAtProvider(TestClient client) throws Exception {
        TestClient.Answer url = client.post("/access/openid/auth-url", Map.of("realm", "corp", "redirect-url", REDIRECT));
        assertThat(url.status()).as(url.body().toString()).isEqualTo(200);
        try (HttpClient browser = HttpClient.newBuilder().sslContext(provider.clientTls())
                .followRedirects(HttpClient.Redirect.NEVER).build()) {
            HttpResponse<String> response = browser.send(HttpRequest.newBuilder(URI.create(url.data().asString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(302);
            URI location = URI.create(response.headers().firstValue("Location").orElseThrow());
            Map<String, String> query = new LinkedHashMap<>();
            for (String pair : location.getRawQuery().split("&")) {
                String[] kv = pair.split("=", 2);
                query.put(kv[0], URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
            }
            return query;
        }
    }

    private static TestClient.Answer login(TestClient client, String code, String state) {
        return client.post("/access/openid/login", Map.of("code", code, "state", state, "redirect-url", REDIRECT));
    }

    @Test
    void theCodeFlowSignsInCreatesTheUserAndMapsTheGroupsClaim() throws Exception {
        provider.signIn(Map.of("sub", "carol", "email", "carol@example.com", "groups", List.of("auditors", "staff")));
        TestClient anonymous = new TestClient(daemon.port());
        Map<String, String> redirect = signInAtProvider(anonymous);

        TestClient.Answer answer = login(anonymous, redirect.get("code"), redirect.get("state"));

        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        assertThat(answer.data().path("username").asString()).isEqualTo("carol@corp");
        assertThat(answer.data().path("CSRFPreventionToken").asString()).isNotEmpty();
        assertThat(answer.data().path("cap").path("nodes").has("Sys.Audit")).isTrue();
        TestClient carol = new TestClient(daemon.port()).withTicket(answer.data().path("ticket").asString());
        assertThat(carol.get("/nodes").status()).isEqualTo(200);
        TestClient.Answer user = admin.get("/access/users/carol@corp");
        assertThat(user.status()).isEqualTo(200);
        assertThat(user.data().path("email").asString()).isEqualTo("carol@example.com");
        assertThat(user.data().path("groups").toString()).contains("auditors-corp").contains("staff-corp");
        assertThat(admin.get("/access/groups/staff-corp").data().path("members").toString()).contains("carol@corp");

        // the state was used: the same redirect again is refused
        TestClient.Answer replay = login(anonymous, redirect.get("code"), redirect.get("state"));
        assertThat(replay.status()).isEqualTo(401);
        assertThat(replay.body().path("message").asString()).contains("invalid OpenID state");
    }

    @Test
    void aTamperedStateIsRefused() throws Exception {
        provider.signIn(Map.of("sub", "dave"));
        TestClient anonymous = new TestClient(daemon.port());
        Map<String, String> redirect = signInAtProvider(anonymous);
        String state = redirect.get("state");
        String tampered = state.substring(0, state.length() - 1) + (state.endsWith("A") ? "B" : "A");

        TestClient.Answer answer = login(anonymous, redirect.get("code"), tampered);

        assertThat(answer.status()).isEqualTo(401);
        assertThat(answer.body().path("message").asString()).contains("invalid OpenID state");
        assertThat(admin.get("/access/users/dave@corp").status()).isNotEqualTo(200);
    }

    @Test
    void aWrongCodeVerifierAWrongIssuerAndAnExpiredTokenAreRefused() throws Exception {
        provider.signIn(Map.of("sub", "erin"));
        TestClient anonymous = new TestClient(daemon.port());
        int refusedBefore = provider.refusedTokenRequests();
        // the first sign-in's code redeemed with the second's state, hence with the second's code_verifier
        Map<String, String> first = signInAtProvider(anonymous);
        Map<String, String> second = signInAtProvider(anonymous);
        assertThat(login(anonymous, first.get("code"), second.get("state")).status()).isEqualTo(401);
        assertThat(provider.refusedTokenRequests()).isEqualTo(refusedBefore + 1);

        provider.idTokenIssuer("https://127.0.0.1:1/realms/other");
        try {
            Map<String, String> redirect = signInAtProvider(anonymous);
            assertThat(login(anonymous, redirect.get("code"), redirect.get("state")).status()).isEqualTo(401);
        } finally {
            provider.idTokenIssuer(provider.issuer());
        }

        provider.idTokenLifetime(Duration.ofMinutes(-5));
        try {
            Map<String, String> redirect = signInAtProvider(anonymous);
            assertThat(login(anonymous, redirect.get("code"), redirect.get("state")).status()).isEqualTo(401);
        } finally {
            provider.idTokenLifetime(Duration.ofMinutes(5));
        }
        assertThat(admin.get("/access/users/erin@corp").status()).isNotEqualTo(200);

        // and with everything right again, erin signs in
        Map<String, String> redirect = signInAtProvider(anonymous);
        assertThat(login(anonymous, redirect.get("code"), redirect.get("state")).status()).isEqualTo(200);
    }

    @Test
    void proxmoxerSignsInWithTheCodeAndStateAndLogsInWithTheTicket() throws Exception {
        provider.signIn(Map.of("sub", "grace"));
        Path script = dataDir.resolve("openid_e2e.py");
        try (var in = getClass().getResourceAsStream("/e2e/openid_e2e.py")) {
            Files.write(script, in.readAllBytes());
        }
        Process python = new ProcessBuilder("/usr/bin/python3", script.toString(), "127.0.0.1", Integer.toString(daemon.port()),
                PASSWORD).redirectErrorStream(true).start();
        String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(python.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        System.out.println(output);
        assertThat(python.exitValue()).as(output).isZero();
        assertThat(output).contains("signed in as grace@corp").contains("ALL OK");
    }

    @Test
    void theClientKeyAppearsInNoAnswerAndNoAuditLog() throws Exception {
        assertThat(admin.put("/access/domains/corp", Map.of("client-key", CLIENT_KEY, "comment", "rotated")).status())
                .isEqualTo(200);
        // a refused call with the key as a parameter is audited too, masked
        assertThat(admin.put("/access/domains/pve", Map.of("client-key", CLIENT_KEY)).status()).isEqualTo(400);
        String answers = admin.get("/access/domains/corp").body().toString() + admin.get("/access/domains").body()
                + admin.get("/cluster/resources").body() + admin.raw("/api2/openapi.json");
        assertThat(answers).doesNotContain(CLIENT_KEY);
        assertThat(admin.get("/access/domains/corp").data().path("issuer-url").asString()).isEqualTo(provider.issuer());
        String audit = Files.readString(daemon.node().localDir().resolve("log/audit.log"));
        assertThat(audit).contains("/access/domains/corp").contains("\"client-key\":\"********\"").doesNotContain(CLIENT_KEY);
        assertThat(daemon.store().read("domains.cfg").orElseThrow().text()).doesNotContain(CLIENT_KEY);
        assertThat(daemon.store().read("priv/openid/corp.key").orElseThrow().text()).isEqualTo(CLIENT_KEY + "\n");
    }
}
