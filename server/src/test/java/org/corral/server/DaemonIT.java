package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.swagger.parser.OpenAPIParser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.Check;
import org.corral.core.config.ConfigFile;
import org.corral.core.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

/** One real node (ZooKeeper, HTTPS on loopback) driven over HTTP the way Proxmox clients drive it. */
class DaemonIT {
    static final String PASSWORD = "admin-pass-1";
    @TempDir
    static Path dataDir;
    static CorralDaemon daemon;
    static TestClient admin;

    @BeforeAll
    static void start() throws Exception {
        daemon = CorralDaemon.start(new CorralDaemon.Options("testnode", dataDir, "127.0.0.1", 0, Optional.of(PASSWORD)));
        admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static String file(String path) {
        return daemon.store().read(path).map(ConfigFile::text).orElse("");
    }

    /** A ticket of the right shape, signed with a key this cluster never had. */
    private static String forged(String userid) throws Exception {
        String plain = "PVE:" + userid + ":" + String.format(Locale.ROOT, "%08X", Instant.now().getEpochSecond());
        Signature signature = Signature.getInstance("Ed25519");
        signature.initSign(KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate());
        signature.update(plain.getBytes(StandardCharsets.UTF_8));
        return plain + "::" + Base64.getEncoder().encodeToString(signature.sign());
    }

    @Test
    void ticketFromBeforeARotationStillWorksAndAForgedOneIsRefused() throws Exception {
        TestClient before = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
        assertThat(before.get("/version").status()).isEqualTo(200);
        String signedWith = file("authkey.pub");
        assertThat(signedWith).contains("-----BEGIN PUBLIC KEY-----");

        // make the key look a day old: the next login rotates it, as it would after 24 hours
        ConfigFile pub = daemon.store().read("authkey.pub").orElseThrow();
        String aged = pub.text().replaceFirst("created: \\d+",
                "created: " + Instant.now().minus(Duration.ofHours(25)).getEpochSecond());
        daemon.store().write("authkey.pub", aged, pub.version());
        TestClient after = new TestClient(daemon.port());
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        do {
            // the node learns of the change through a store watch
            after.login("admin@pve", PASSWORD);
        } while (file("authkey.pub").equals(aged) && System.nanoTime() < deadline);

        assertThat(file("authkey.pub")).isNotIn(aged, signedWith);
        assertThat(file("authkey.pub.old")).isEqualTo(signedWith);
        assertThat(before.get("/version").status()).isEqualTo(200);
        assertThat(before.post("/access/users", Map.of("userid", "rotated@pve")).status()).isEqualTo(200);
        assertThat(after.get("/version").status()).isEqualTo(200);
        // the old ticket still renews
        assertThat(new TestClient(daemon.port()).login("admin@pve", before.ticket()).get("/version").status()).isEqualTo(200);

        for (String userid : new String[] {"admin@pve", "root@pam"}) {
            assertThat(new TestClient(daemon.port()).withTicket(forged(userid)).get("/version").status()).isEqualTo(401);
        }
        String tampered = after.ticket().replace("PVE:admin@pve:", "PVE:root@pam:");
        assertThat(new TestClient(daemon.port()).withTicket(tampered).get("/version").status()).isEqualTo(401);
    }

    @Test
    void callsWithoutAuthenticationAreRefusedWith401() {
        assertThat(new TestClient(daemon.port()).get("/version").status()).isEqualTo(401);
        assertThat(new TestClient(daemon.port()).get("/nodes").status()).isEqualTo(401);
    }

    @Test
    void versionReportsTheProxmoxApiLevelAndTheProduct() {
        JsonNode version = admin.get("/version").data();
        assertThat(version.path("version").asString()).startsWith("9.");
        assertThat(version.path("release").asString()).isNotEmpty();
        assertThat(version.path("repoid").asString()).isNotEmpty();
        assertThat(version.path("product").asString()).isEqualTo("corral");
    }

    @Test
    void extjsPathsWrapTheSameAnswer() {
        TestClient.Answer json = admin.get("/nodes/testnode/time");
        assertThat(json.status()).isEqualTo(200);
        assertThat(json.data().path("timezone").asString()).isNotEmpty();
    }

    @Test
    void writeWithCookieButWithoutCsrfTokenIs401AndChangesNothing() {
        String before = file("datacenter.cfg");
        TestClient noCsrf = new TestClient(daemon.port()).login("admin@pve", PASSWORD).withoutCsrf();
        TestClient.Answer answer = noCsrf.put("/cluster/options", Map.of("keyboard", "fr"));
        assertThat(answer.status()).isEqualTo(401);
        assertThat(file("datacenter.cfg")).isEqualTo(before);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource(delimiter = '|', value = {
        "PUT|/cluster/options|max_workers=abc|max_workers",
        "PUT|/cluster/options|bogus=1|bogus",
        "PUT|/cluster/options|keyboard=klingon|keyboard",
        "PUT|/cluster/options|next-id=lower=5|next-id",
        "PUT|/cluster/options|store-timeouts=session=99|store-timeouts",
        "PUT|/cluster/options|store-timeouts=token=3000|store-timeouts",
        "POST|/access/groups|groupid=..|groupid",
        "POST|/access/groups|groupid=a/b|groupid",
        "POST|/access/users|userid=../x@pve|userid",
        "POST|/access/users|userid=a/b@pve|userid",
        "POST|/access/users|userid=nobody|userid",
        "POST|/access/roles|roleid=..|roleid",
        "PUT|/access/acl|path=/vms/..,roles=PVEAuditor,users=admin@pve|path",
        "GET|/nodes/testnode/tasks|limit=-1|limit",
        "GET|/cluster/resources|type=everything|type",
    })
    void badInputGetsA400NamingTheParameterAndChangesNothing(String verb, String path, String params, String bad) {
        String users = file("user.cfg");
        String datacenter = file("datacenter.cfg");
        Map<String, String> raw = new LinkedHashMap<>();
        for (String pair : params.split(",")) {
            int eq = pair.indexOf('=');
            raw.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        TestClient.Answer answer = admin.call(verb, path, raw);
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(400);
        assertThat(answer.errors()).containsKey(bad);
        assertThat(answer.data().isNull()).isTrue();
        assertThat(file("user.cfg")).isEqualTo(users);
        assertThat(file("datacenter.cfg")).isEqualTo(datacenter);
    }

    @Test
    void ldapBindPasswordStaysInPrivAndARealmSyncRunsAsATask() throws Exception {
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        assertThat(admin.post("/access/domains", Map.of("realm", "dirtest", "type", "ldap", "server1", "127.0.0.1",
                "port", Integer.toString(closedPort), "base_dn", "dc=example,dc=com", "user_attr", "uid",
                "bind_dn", "cn=reader,dc=example,dc=com", "password", "ldap-bind-secret-77")).status()).isEqualTo(200);
        TestClient.Answer read = admin.get("/access/domains/dirtest");
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.body().toString()).contains("cn=reader").doesNotContain("ldap-bind-secret-77");
        assertThat(file("domains.cfg")).doesNotContain("ldap-bind-secret-77");
        assertThat(file("priv/ldap/dirtest.pw")).isEqualTo("ldap-bind-secret-77\n");

        TestClient.Answer sync = admin.post("/access/domains/dirtest/sync", Map.of("scope", "both", "dry-run", "1"));
        assertThat(sync.status()).as(sync.body().toString()).isEqualTo(200);
        String upid = sync.data().asString();
        assertThat(upid).contains(":auth-realm-sync-test:dirtest:admin@pve:");
        String status = "/nodes/" + daemon.node().name() + "/tasks/" + upid + "/status";
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() ->
                admin.get(status).data().path("status").asString().equals("stopped"));
        // nothing listens there: the task fails saying why
        assertThat(admin.get(status).data().path("exitstatus").asString()).isNotEqualTo("OK");

        String log = java.nio.file.Files.readString(daemon.node().localDir().resolve("log/audit.log"));
        assertThat(log).contains("/access/domains").doesNotContain("ldap-bind-secret-77");
        assertThat(admin.delete("/access/domains/dirtest").status()).isEqualTo(200);
    }

    @Test
    void auditLogRecordsWritesWithUserPathResultAndMaskedSecrets() throws Exception {
        admin.post("/access/users", Map.of("userid", "audited@pve", "password", "very-secret-pw-42"));
        admin.put("/cluster/options", Map.of("keyboard", "klingon"));
        String log = java.nio.file.Files.readString(daemon.node().localDir().resolve("log/audit.log"));
        List<JsonNode> entries = log.lines().map(Json::read).toList();
        JsonNode create = entries.stream().filter(e -> e.path("path").asString().equals("/access/users")
                && e.path("params").path("userid").asString().equals("audited@pve")).findFirst().orElseThrow();
        assertThat(create.path("user").asString()).isEqualTo("admin@pve");
        assertThat(create.path("method").asString()).isEqualTo("POST");
        assertThat(create.path("status").asInt()).isEqualTo(200);
        assertThat(create.path("params").path("password").asString()).isEqualTo("********");
        assertThat(log).doesNotContain("very-secret-pw-42");
        assertThat(entries).anySatisfy(e -> {
            assertThat(e.path("path").asString()).isEqualTo("/cluster/options");
            assertThat(e.path("status").asInt()).isEqualTo(400);
        });
        // (the anonymous walk of everyMethodRefusesACallerWithoutLogin... posts one without any password)
        assertThat(entries.stream().filter(e -> e.path("path").asString().equals("/access/ticket") && e.path("params").has("password")))
                .allSatisfy(e -> assertThat(e.path("params").path("password").asString()).isEqualTo("********"));
        TestClient.Answer clusterLog = admin.get("/cluster/log", Map.of("max", "20"));
        assertThat(clusterLog.data().valueStream().map(e -> e.path("msg").asString())).anyMatch(m -> m.startsWith("POST /access/users"));
    }

    @Test
    void storeTimeoutsSetThroughTheApiAreKeptForTheNodesNextStart() {
        TestClient.Answer set = admin.put("/cluster/options", Map.of("store-timeouts", "tick=1000,session=10"));
        assertThat(set.status()).as(set.body().toString()).isEqualTo(200);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(org.corral.cluster.StoreTimings.local(daemon.node().localDir()))
                        .isEqualTo(new org.corral.cluster.StoreTimings(1000, 10, 5, 10)));
        assertThat(admin.get("/cluster/options").data().path("store-timeouts").asString()).isEqualTo("tick=1000,session=10");
        TestClient.Answer deleted = admin.put("/cluster/options", Map.of("delete", "store-timeouts"));
        assertThat(deleted.status()).as(deleted.body().toString()).isEqualTo(200);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(org.corral.cluster.StoreTimings.local(daemon.node().localDir())).isEqualTo(org.corral.cluster.StoreTimings.DEFAULTS));
    }

    @Test
    void nextIdSkipsTakenIdsAndRefusesATakenOne() {
        daemon.store().overwrite("nodes/testnode/qemu-server/100.conf", "name: taken\nmemory: 512\n");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(admin.get("/cluster/nextid").data().asString()).isEqualTo("101"));
        TestClient.Answer taken = admin.get("/cluster/nextid", Map.of("vmid", "100"));
        assertThat(taken.status()).isEqualTo(400);
        assertThat(taken.errors().get("vmid")).contains("already exists");
        assertThat(admin.get("/cluster/resources", Map.of("type", "vm")).data().valueStream()
                .map(r -> r.path("id").asString())).contains("qemu/100");
        daemon.store().read("nodes/testnode/qemu-server/100.conf").ifPresent(f -> daemon.store().delete(f.path(), f.version()));
    }

    @Test
    void overLongStringIsRefused() {
        String users = file("user.cfg");
        TestClient.Answer answer = admin.post("/access/groups", Map.of("groupid", "g" + "x".repeat(5000)));
        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.errors()).containsKey("groupid");
        assertThat(file("user.cfg")).isEqualTo(users);
    }

    @Test
    void pathVariableWithDotsOrSlashIsRefused() {
        assertThat(admin.get("/nodes/%2E%2E/status").status()).isEqualTo(400);
        assertThat(admin.get("/access/users/a%2Fb@pve").status()).isIn(400, 404);
    }

    @Test
    void staleDigestIsRefusedAndChangesNothing() {
        assertThat(admin.put("/cluster/options", Map.of("keyboard", "de")).status()).isEqualTo(200);
        String digest = admin.get("/cluster/options").data().path("digest").asString();
        assertThat(admin.put("/cluster/options", Map.of("keyboard", "fr", "digest", digest)).status()).isEqualTo(200);
        String after = file("datacenter.cfg");
        TestClient.Answer stale = admin.put("/cluster/options", Map.of("keyboard", "it", "digest", digest));
        assertThat(stale.status()).isEqualTo(409);
        assertThat(stale.body().path("message").asString()).contains("file changed by other user");
        assertThat(file("datacenter.cfg")).isEqualTo(after).contains("keyboard: fr");
    }

    @Test
    void openApiDocumentIsValidAndListsEveryDeclaredMethod() {
        JsonNode doc = new TestClient(daemon.port()).raw("/api2/openapi.json");
        SwaggerParseResult parsed = new OpenAPIParser().readContents(Json.write(doc), null, null);
        assertThat(parsed.getMessages()).isEmpty();
        assertThat(parsed.getOpenAPI().getOpenapi()).startsWith("3.1");
        int operations = 0;
        for (ApiMethod method : daemon.registry().methods()) {
            JsonNode item = doc.path("paths").path(method.path());
            assertThat(item.has(method.verb().name().toLowerCase(java.util.Locale.ROOT))).as(method.toString()).isTrue();
            operations++;
        }
        assertThat(operations).isEqualTo(daemon.registry().methods().size());
    }

    @Test
    void everyMethodThatNeedsAPrivilegeRefusesAUserWithoutAny() {
        assertThat(admin.post("/access/users", Map.of("userid", "nobody@pve", "password", "nobody-pass-1")).status()).isEqualTo(200);
        TestClient nobody = new TestClient(daemon.port()).login("nobody@pve", "nobody-pass-1");
        int checked = 0;
        for (ApiMethod method : daemon.registry().methods()) {
            if (!method.check().requiresPrivilege()) {
                continue;
            }
            String path = concretePath(method);
            TestClient.Answer answer = nobody.call(method.verb().name(), path, Map.of());
            assertThat(answer.status()).as(method + " as nobody@pve: " + answer.body()).isEqualTo(403);
            checked++;
        }
        System.out.println("Methods that need a privilege, all refused to a user without privileges: " + checked
                + " of " + daemon.registry().methods().size() + " declared");
        assertThat(checked).isGreaterThan(10);
    }

    @Test
    void everyMethodRefusesACallerWithoutLoginUnlessItIsOpenToAnyone() {
        TestClient anonymous = new TestClient(daemon.port());
        List<String> open = new java.util.ArrayList<>();
        for (ApiMethod method : daemon.registry().methods()) {
            TestClient.Answer answer = anonymous.call(method.verb().name(), concretePath(method), Map.of());
            if (method.check() instanceof Check.Anonymous) {
                // the login methods (/access/ticket, /access/openid/...) answer for themselves: no 401 or 403 for lack of one
                assertThat(answer.status()).as(method + " without login: " + answer.body()).isNotIn(401, 403);
                open.add(method.toString());
            } else {
                assertThat(answer.status()).as(method + " without login: " + answer.body()).isEqualTo(401);
            }
        }
        System.out.println("Methods open to anyone: " + open + "; all " + (daemon.registry().methods().size() - open.size())
                + " others refused a caller without login");
        assertThat(open).contains("POST /access/ticket", "POST /access/openid/auth-url", "POST /access/openid/login",
                "POST /access/vncticket");
        // open to anyone, the console ticket check grants nothing without a ticket of the user it names
        TestClient.Answer made = anonymous.post("/access/vncticket",
                Map.of("authid", "admin@pve", "vncticket", "PVEVNC:made-up", "path", "/", "privs", "Sys.Audit"));
        assertThat(made.status()).as(made.body().toString()).isEqualTo(401);
    }

    /** A path for the method with a valid value in each path variable. */
    private static String concretePath(ApiMethod method) {
        Matcher m = Check.VARIABLE.matcher(method.path());
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = switch (m.group(1)) {
                case "node" -> "testnode";
                case "vmid" -> "100";
                case "userid" -> "admin@pve";
                case "tokenid" -> "sometoken";
                case "groupid" -> "somegroup";
                case "roleid" -> "PVEAuditor";
                case "realm" -> "pve";
                case "poolid" -> "somepool";
                case "storage" -> "local";
                case "pos" -> "0";
                case "upid" -> "UPID:testnode:00000001:00000001:00000001:test::root@pam:";
                default -> "sample";
            };
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    @Test
    void errorMessageIsTheStatusLineReasonPhrase() throws Exception {
        var socketFactory = javax.net.ssl.SSLContext.getInstance("TLS");
        socketFactory.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}

            @Override
            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}

            @Override
            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        try (var socket = socketFactory.getSocketFactory().createSocket("127.0.0.1", daemon.port())) {
            socket.getOutputStream().write(("GET /api2/json/nodes/testnode/tasks?limit=-1 HTTP/1.1\r\nHost: x\r\n"
                    + "Cookie: PVEAuthCookie=" + admin.ticket() + "\r\nConnection: close\r\n\r\n").getBytes());
            String statusLine = new String(socket.getInputStream().readAllBytes()).lines().findFirst().orElse("");
            assertThat(statusLine).startsWith("HTTP/1.1 400 Parameter verification failed.").contains("limit");
        }
    }

    @Test
    void onlyTls12And13AreAccepted() throws Exception {
        for (String protocol : List.of("TLSv1.2", "TLSv1.3")) {
            var context = javax.net.ssl.SSLContext.getInstance(protocol);
            context.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
                @Override
                public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}

                @Override
                public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}

                @Override
                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            try (var socket = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", daemon.port())) {
                socket.setEnabledProtocols(new String[] {protocol});
                socket.startHandshake();
                assertThat(socket.getSession().getProtocol()).isEqualTo(protocol);
            }
        }
    }

    @Test
    void syslogAnswersWithNumberedLinesWhetherOrNotTheHostHasAJournal() {
        TestClient.Answer answer = admin.get("/nodes/testnode/syslog", Map.of("limit", "5"));
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.data().size()).isBetween(1, 5);
        assertThat(answer.data().get(0).path("n").asInt()).isEqualTo(1);
        assertThat(answer.data().get(0).path("t").asString()).isNotBlank();
    }

    @Test
    void everyMethodOfANodeRefusesANodeThatIsNotInTheCluster() {
        int walked = 0;
        for (ApiMethod method : daemon.registry().methods()) {
            if (!org.corral.server.http.NodeProxy.belongsToNode(method)) {
                continue;
            }
            String path = method.path().replace("{node}", "nosuch").replaceAll("\\{[^}]+}", "100");
            TestClient.Answer answer = admin.call(method.verb().name(), path, Map.of());
            assertThat(answer.status()).as(method.verb() + " " + method.path()).isEqualTo(595);
            assertThat(answer.body().path("message").asString()).as(method.verb() + " " + method.path())
                    .contains("no such cluster node 'nosuch'");
            walked++;
        }
        assertThat(walked).isGreaterThan(100);
        // and "localhost" is the node that answers, as on Proxmox
        assertThat(admin.get("/nodes/localhost/status").status()).isEqualTo(200);
    }
}
