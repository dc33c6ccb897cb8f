package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import com.sun.net.httpserver.HttpServer;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.Check;
import org.corral.core.api.HttpVerb;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.json.Json;
import org.corral.core.schema.Schema;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.corral.access.tfa.Base32;
import org.corral.access.tfa.Totp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * One test per class of Proxmox VE security bug, against a real daemon over HTTPS: config
 * injection through a line break in any parameter (a walk over every declared write method),
 * file access outside a storage through volume ids and file names, SSRF through download-url,
 * stored XSS through notes and comments, and two-factor bypass (half tickets, tickets without the
 * second factor, replayed TOTP codes).
 */
class InjectionIT {
    private static final String PASSWORD = "admin-pass-1";
    private static final String NODE = "testnode";
    private static final int VM = 100;
    private static final int CT = 101;
    private static final List<String> PAYLOADS = List.of("x\nargs: -name injected", "x\r\n[injected]");
    private static final String XSS = "<script>alert('xss')</script>";
    private static final String ISO = URLEncoder.encode("local:iso/walk.iso", StandardCharsets.UTF_8);
    /** Write methods the walk leaves out: they run guests or consoles, or log in (and could lock the walker out). */
    private static final Pattern SKIPPED = Pattern.compile(".*/status/.*|.*/template|.*proxy|/access/ticket|.*vncwebsocket");

    @TempDir
    static Path dataDir;
    static CorralDaemon daemon;
    static TestClient admin;

    @BeforeAll
    static void start() throws Exception {
        daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, dataDir, "127.0.0.1", 0, Optional.of(PASSWORD)));
        admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
        awaitTask(admin.post("/nodes/" + NODE + "/qemu", Map.of("vmid", Integer.toString(VM), "name", "walkvm", "memory", "256")));
        awaitTask(admin.post("/nodes/" + NODE + "/qemu/" + VM + "/snapshot", Map.of("snapname", "walk")));
        // a container needs no rootfs to have its config edited; writing it directly keeps templates out of this test
        daemon.store().write("nodes/" + NODE + "/lxc/" + CT + ".conf",
                "arch: amd64\nhostname: walkct\nmemory: 256\nostype: debian\n\n[walk]\narch: amd64\nhostname: walkct\n", ConfigStore.NEW);
        assertThat(admin.post("/access/users", Map.of("userid", "walk@pve", "password", "walk-pass-123")).status()).isEqualTo(200);
        assertThat(admin.post("/access/users/walk@pve/token/walktoken", Map.of()).status()).isEqualTo(200);
        assertThat(admin.post("/access/groups", Map.of("groupid", "walkgroup")).status()).isEqualTo(200);
        assertThat(admin.post("/pools", Map.of("poolid", "walkpool")).status()).isEqualTo(200);
        Files.createDirectories(isoDir());
        Files.writeString(isoDir().resolve("walk.iso"), "iso");
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static Path isoDir() {
        return dataDir.resolve("storage/local/template/iso");
    }

    private static void awaitTask(TestClient.Answer answer) {
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        TaskStatus status = daemon.tasks().awaitCompletion(Upid.parse(answer.data().asString()), Duration.ofSeconds(60));
        assertThat(status.exitstatus()).as(answer.data().asString()).contains("OK");
    }

    // ---- config injection

    @Test
    @Timeout(180)
    void walkOverEveryWriteMethodInjectsNoLineIntoAnyConfigFile() {
        Map<String, String> before = configFiles();
        Map<String, Integer> statuses = new TreeMap<>();
        List<String> accepted = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        List<Upid> tasks = new ArrayList<>();
        int[] counter = {500};
        int calls = 0;
        long started = System.nanoTime();
        for (ApiMethod method : daemon.registry().methods()) {
            if (method.verb() != HttpVerb.PUT && method.verb() != HttpVerb.POST || SKIPPED.matcher(method.path()).matches()
                    || method.isWebSocket()) {
                continue;
            }
            for (String target : walkedStrings(method)) {
                for (String payload : PAYLOADS) {
                    Map<String, String> params = new LinkedHashMap<>();
                    method.parameters().forEach((name, schema) -> {
                        if (!schema.isOptional() && !method.pathVariables().contains(name) && !name.equals(target)) {
                            params.put(name, sample(name, schema, counter));
                        }
                    });
                    params.put(target, payload);
                    TestClient.Answer answer = admin.call(method.verb().name(), concretePath(method), params);
                    calls++;
                    statuses.merge(Integer.toString(answer.status()), 1, Integer::sum);
                    if (answer.status() >= 500) {
                        failed.add(method + " " + target + ": " + answer.body().path("message").asString().strip());
                    }
                    if (answer.status() == 200) {
                        accepted.add(method + " " + target);
                        if (answer.data().isString() && answer.data().asString().startsWith("UPID:")) {
                            tasks.add(Upid.parse(answer.data().asString()));
                        }
                    }
                }
            }
        }
        tasks.forEach(upid -> daemon.tasks().awaitCompletion(upid, Duration.ofSeconds(60)));
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.println("Injection walk: " + calls + " calls in " + millis + " ms, answers by status " + statuses
                + "; accepted (multi-line text, stored escaped): " + accepted + "; server errors: " + failed);

        List<String> injected = new ArrayList<>();
        configFiles().forEach((path, text) -> text.lines().forEach(line -> {
            if (isInjected(line)) {
                injected.add(path + ": " + line + (before.containsKey(path) ? "" : "  (new file)"));
            }
        }));
        assertThat(injected).as("config lines that a payload added").isEmpty();
        assertThat(admin.get("/nodes/" + NODE + "/qemu/" + VM + "/config").data().has("args")).isFalse();
        assertThat(calls).isGreaterThan(200);
    }

    /** A line a payload made: it names the payload's second line outside an escaped or commented-out value. */
    private static boolean isInjected(String line) {
        String trimmed = line.strip();
        if (!trimmed.contains("injected") || trimmed.startsWith("#")) {
            return false;
        }
        return trimmed.startsWith("args") || trimmed.startsWith("[injected]") || !trimmed.contains("%0A") && !trimmed.contains("%0D");
    }

    /** Every string parameter outside the path; of numbered families ({@code net0..net31}) only the first two. */
    private static List<String> walkedStrings(ApiMethod method) {
        List<String> out = new ArrayList<>();
        Map<String, Integer> families = new LinkedHashMap<>();
        method.parameters().forEach((name, schema) -> {
            if (schema.type() != Schema.Type.STRING || method.pathVariables().contains(name)) {
                return;
            }
            Matcher numbered = Pattern.compile("([a-z_-]+)(\\d+)").matcher(name);
            if (numbered.matches() && families.merge(numbered.group(1), 1, Integer::sum) > 2) {
                return;
            }
            out.add(name);
        });
        return out;
    }

    /** A valid-looking value for a required parameter the walk does not aim at. */
    private static String sample(String name, Schema schema, int[] counter) {
        if (schema.enumValues().isPresent()) {
            List<String> values = schema.enumValues().get();
            return values.contains("dir") ? "dir" : values.getFirst();
        }
        return switch (name) {
            case "vmid", "newid" -> Integer.toString(counter[0]++);
            case "node", "target" -> NODE;
            case "storage" -> "walkstore";
            case "userid" -> "walk@pve";
            case "snapname" -> "walk2";
            case "path" -> dataDir.resolve("walkstore").toString();
            case "url" -> "https://127.0.0.1:1/walk.iso";
            case "filename" -> "walk2.iso";
            case "volume" -> "local:iso/walk.iso";
            case "ostemplate" -> "local:vztmpl/none.tar.gz";
            case "password" -> "walk-pass-123";
            case "roles" -> "PVEAuditor";
            case "privs" -> "VM.Audit";
            case "disk" -> "scsi0";
            case "size" -> "+1G";
            default -> switch (schema.type()) {
                case INTEGER -> schema.minimum().map(n -> Long.toString(n.longValue())).orElse("1");
                case NUMBER -> "1";
                case BOOLEAN -> "0";
                default -> "sample";
            };
        };
    }

    private static String concretePath(ApiMethod method) {
        Matcher m = Check.VARIABLE.matcher(method.path());
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = switch (m.group(1)) {
                case "node" -> NODE;
                case "vmid" -> method.path().contains("/lxc/") ? Integer.toString(CT) : Integer.toString(VM);
                case "userid" -> "walk@pve";
                case "tokenid" -> "walktoken";
                case "groupid" -> "walkgroup";
                case "roleid" -> "PVEAuditor";
                case "realm" -> "pve";
                case "poolid" -> "walkpool";
                case "storage" -> "local";
                case "snapname" -> "walk";
                case "volume" -> ISO;
                default -> "sample";
            };
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Every file of the config store, by path. */
    private static Map<String, String> configFiles() {
        Map<String, String> files = new TreeMap<>();
        collect("", files);
        return files;
    }

    private static void collect(String dir, Map<String, String> files) {
        for (String name : daemon.store().list(dir)) {
            String path = dir.isEmpty() ? name : dir + "/" + name;
            daemon.store().read(path).ifPresent(f -> files.put(path, f.text()));
            collect(path, files);
        }
    }

    private static String file(String path) {
        return daemon.store().read(path).map(ConfigFile::text).orElse("");
    }

    @Test
    void ciuserWithALineBreakIsRefusedNamingItAndLeavesTheVmConfigAlone() {
        String before = file(vmConfig());
        TestClient.Answer answer = admin.put("/nodes/" + NODE + "/qemu/" + VM + "/config", Map.of("ciuser", "admin\nargs: -name injected"));
        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.errors()).containsEntry("ciuser", "value must not contain control characters");
        for (String key : List.of("nameserver", "searchdomain", "watchdog", "numa0", "keyboard")) {
            TestClient.Answer other = admin.put("/nodes/" + NODE + "/qemu/" + VM + "/config", Map.of(key, "x\nargs: -name injected"));
            assertThat(other.status()).as(key).isEqualTo(400);
            assertThat(other.errors()).as(key).containsKey(key);
        }
        assertThat(file(vmConfig())).isEqualTo(before);
        assertThat(admin.get("/nodes/" + NODE + "/qemu/" + VM + "/config").data().has("args")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"hostname", "nameserver", "searchdomain"})
    void containerOptionWithALineBreakIsRefusedNamingIt(String key) {
        String before = file(ctConfig());
        TestClient.Answer answer = admin.put("/nodes/" + NODE + "/lxc/" + CT + "/config",
                Map.of(key, "walkct\nlxc.apparmor.profile: unconfined"));
        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.errors()).containsEntry(key, "value must not contain control characters");
        assertThat(file(ctConfig())).isEqualTo(before).doesNotContain("lxc.apparmor");
    }

    @Test
    void storageOptionWithALineBreakIsRefusedAndStorageCfgStaysAsItWas() {
        String before = file("storage.cfg");
        TestClient.Answer answer = admin.post("/storage", Map.of("storage", "evil", "type", "dir",
                "path", dataDir.resolve("evil") + "\n\tcontent images\nnfs: injected"));
        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.errors()).containsEntry("path", "value must not contain control characters");
        assertThat(file("storage.cfg")).isEqualTo(before);
    }

    @Test
    void multiLineDescriptionIsStoredAsCommentLinesAndReadBackVerbatim() {
        String description = "first line\nargs: -name injected\r\n" + XSS;
        assertThat(admin.put("/nodes/" + NODE + "/qemu/" + VM + "/config", Map.of("description", description)).status()).isEqualTo(200);
        assertThat(admin.put("/nodes/" + NODE + "/lxc/" + CT + "/config", Map.of("description", description)).status()).isEqualTo(200);
        assertThat(admin.put("/cluster/options", Map.of("description", description)).status()).isEqualTo(200);
        for (String path : List.of(vmConfig(), ctConfig(), "datacenter.cfg")) {
            assertThat(file(path).lines().filter(l -> l.contains("injected"))).as(path).allMatch(l -> l.startsWith("#"));
        }
        assertThat(admin.get("/nodes/" + NODE + "/qemu/" + VM + "/config").data().path("description").asString()).isEqualTo(description);
        // pve-container answers the description with the newline that ends its last '#' line
        assertThat(admin.get("/nodes/" + NODE + "/lxc/" + CT + "/config").data().path("description").asString()).isEqualTo(description + "\n");
        assertThat(admin.get("/cluster/options").data().path("description").asString()).isEqualTo(description);
        assertThat(admin.get("/nodes/" + NODE + "/qemu/" + VM + "/config").data().has("args")).isFalse();
    }

    private static String vmConfig() {
        return "nodes/" + NODE + "/qemu-server/" + VM + ".conf";
    }

    private static String ctConfig() {
        return "nodes/" + NODE + "/lxc/" + CT + ".conf";
    }

    // ---- file access outside a storage

    @ParameterizedTest
    @ValueSource(strings = {"local:iso/../../../../../../etc/shadow", "local:../..", "local:iso/../../canary.iso",
        "local:/etc/shadow", "local:iso/%2e%2e/%2e%2e/canary.iso", "local:iso/walk.iso\n../../canary.iso"})
    void volumeIdThatLeavesTheStorageReadsAndDeletesNothing(String volume) throws Exception {
        Path canary = dataDir.resolve("storage/canary.iso");
        Files.writeString(canary, "canary");
        String encoded = URLEncoder.encode(volume, StandardCharsets.UTF_8).replace("+", "%20");
        String base = "/api2/json/nodes/" + NODE + "/storage/local/content/" + encoded;
        HttpResponse<String> read = admin.send("GET", base, Map.of());
        HttpResponse<String> delete = admin.send("DELETE", base, Map.of());
        HttpResponse<String> notes = admin.send("PUT", base, Map.of("notes", "x"));
        for (HttpResponse<String> answer : List.of(read, delete, notes)) {
            assertThat(answer.statusCode()).as(answer.request() + " " + answer.body()).isIn(400, 404);
            assertThat(answer.body()).doesNotContain("root:").doesNotContain("canary\"");
        }
        assertThat(canary).hasContent("canary");
        assertThat(dataDir.resolve("storage/canary.iso.notes")).doesNotExist();
    }

    @ParameterizedTest
    @ValueSource(strings = {"../walk-escape.iso", "..%2fwalk-escape.iso", "sub/walk-escape.iso", "..\\walk-escape.iso", ".hidden.iso"})
    void downloadFileNameThatNamesAPathIsRefused(String filename) {
        TestClient.Answer answer = admin.post("/nodes/" + NODE + "/storage/local/download-url",
                Map.of("url", "https://127.0.0.1:1/a.iso", "content", "iso", "filename", filename));
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(400);
        assertThat(answer.errors()).containsKey("filename");
        assertThat(dataDir.resolve("storage/local/template/walk-escape.iso")).doesNotExist();
    }

    @ParameterizedTest
    @ValueSource(strings = {"../../walk-upload.iso", "/tmp/walk-upload.iso", "a/walk-upload.iso", "..\\walk-upload.iso"})
    void uploadFileNameWithASlashIsRefusedAndWritesNothing(String filename) throws Exception {
        String boundary = "walkboundary";
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\niso\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"filename\"; filename=\"" + filename + "\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\nISO DATA\r\n--" + boundary + "--\r\n";
        String path = "/api2/json/nodes/" + NODE + "/storage/local/upload";
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(admin.root() + path))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> answer = admin.send(request, "POST", path);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(400);
        assertThat(answer.body()).contains("filename");
        try (var files = Files.walk(dataDir)) {
            assertThat(files.filter(f -> f.getFileName().toString().contains("walk-upload"))).isEmpty();
        }
        assertThat(Path.of("/tmp/walk-upload.iso")).doesNotExist();
    }

    // ---- SSRF through download-url

    @ParameterizedTest
    @ValueSource(strings = {"http://localhost:%d/a.iso", "http://127.0.0.1:%d/a.iso", "http://[::1]:%d/a.iso",
        "http://169.254.169.254:%d/latest/meta-data.iso", "http://10.0.0.1:%d/a.iso", "http://0.0.0.0:%d/a.iso",
        "http://[::ffff:127.0.0.1]:%d/a.iso", "http://[::ffff:a9fe:a9fe]:%d/a.iso"})
    void downloadFromAPrivateAddressIsRefusedBeforeAnyConnection(String template) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        Set<String> hits = new HashSet<>();
        server.createContext("/", exchange -> {
            hits.add(exchange.getRequestURI().toString());
            exchange.sendResponseHeaders(200, 3);
            exchange.getResponseBody().write("iso".getBytes(StandardCharsets.UTF_8));
            exchange.close();
        });
        server.start();
        try {
            String url = String.format(template, server.getAddress().getPort());
            TestClient.Answer answer = admin.post("/nodes/" + NODE + "/storage/local/download-url",
                    Map.of("url", url, "content", "iso", "filename", "ssrf.iso"));
            assertThat(answer.status()).as(url + " " + answer.body()).isEqualTo(400);
            assertThat(answer.errors()).containsKey("url");
            assertThat(hits).isEmpty();
            assertThat(isoDir().resolve("ssrf.iso")).doesNotExist();
        } finally {
            server.stop(0);
        }
    }

    @Test
    void downloadFromLoopbackWorksOnceTheDatacenterAllowsIt() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/a.iso", exchange -> {
            exchange.sendResponseHeaders(200, 3);
            exchange.getResponseBody().write("iso".getBytes(StandardCharsets.UTF_8));
            exchange.close();
        });
        server.start();
        try {
            assertThat(admin.put("/cluster/options", Map.of("allow-private-download", "1")).status()).isEqualTo(200);
            awaitTask(admin.post("/nodes/" + NODE + "/storage/local/download-url", Map.of(
                    "url", "http://127.0.0.1:" + server.getAddress().getPort() + "/a.iso", "content", "iso", "filename", "allowed.iso")));
            assertThat(isoDir().resolve("allowed.iso")).hasContent("iso");
        } finally {
            admin.put("/cluster/options", Map.of("delete", "allow-private-download"));
            server.stop(0);
        }
    }

    // ---- stored XSS

    @Test
    void scriptInNotesAndCommentsIsStoredVerbatimAndServedOnlyAsJson() throws Exception {
        assertThat(admin.put("/access/groups/walkgroup", Map.of("comment", XSS)).status()).isEqualTo(200);
        assertThat(admin.put("/pools/walkpool", Map.of("comment", XSS)).status()).isEqualTo(200);
        assertThat(admin.put("/nodes/" + NODE + "/storage/local/content/" + ISO, Map.of("notes", XSS)).status()).isEqualTo(200);
        assertThat(admin.put("/nodes/" + NODE + "/qemu/" + VM + "/config", Map.of("description", XSS)).status()).isEqualTo(200);
        Map<String, String> reads = new LinkedHashMap<>();
        reads.put("/api2/json/access/groups/walkgroup", "comment");
        reads.put("/api2/json/pools/walkpool", "comment");
        reads.put("/api2/json/nodes/" + NODE + "/storage/local/content/" + ISO, "notes");
        reads.put("/api2/json/nodes/" + NODE + "/qemu/" + VM + "/config", "description");
        reads.put("/api2/extjs/nodes/" + NODE + "/qemu/" + VM + "/config", "description");
        for (Map.Entry<String, String> read : reads.entrySet()) {
            HttpResponse<String> answer = admin.send("GET", read.getKey(), Map.of());
            assertThat(answer.statusCode()).as(read.getKey()).isEqualTo(200);
            assertThat(answer.headers().firstValue("Content-Type")).as(read.getKey()).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
            JsonNode data = Json.read(answer.body()).path("data");
            assertThat(data.path(read.getValue()).asString()).as(read.getKey()).isEqualTo(XSS);
        }
        // answers that echo what the caller sent: errors, unknown paths, Proxmox's html format
        List<HttpResponse<String>> echoes = List.of(
                admin.send("PUT", "/api2/json/nodes/" + NODE + "/qemu/" + VM + "/config", Map.of("name", XSS)),
                admin.send("GET", "/api2/json/nodes/" + NODE + "/" + URLEncoder.encode(XSS, StandardCharsets.UTF_8), Map.of()),
                admin.send("GET", "/api2/html/nodes/" + NODE + "/qemu/" + VM + "/config", Map.of()),
                admin.send("GET", "/" + URLEncoder.encode(XSS, StandardCharsets.UTF_8), Map.of()));
        for (HttpResponse<String> answer : echoes) {
            String type = answer.headers().firstValue("Content-Type").orElse("");
            assertThat(type.startsWith("text/html") && answer.body().contains("<script>"))
                    .as(answer.request().uri() + " answered " + type + ": " + answer.body()).isFalse();
        }
    }

    // ---- two-factor authentication bypass (Proxmox's TFA CVEs)

    @Test
    void noHalfTicketTicketWithoutSecondFactorOrReplayedCodeGivesAccess() throws Exception {
        String user = "mfa@pve";
        String password = "mfa-pass-123";
        String uri = "otpauth://totp/corral:mfa?secret=" + Base32.encode("bypass-test-secret-0".getBytes(StandardCharsets.US_ASCII));
        Totp totp = Totp.parseUri(uri);
        long now = System.currentTimeMillis() / 1000;
        assertThat(admin.post("/access/users", Map.of("userid", user, "password", password)).status()).isEqualTo(200);
        assertThat(admin.put("/access/acl", Map.of("path", "/", "roles", "PVEAuditor", "users", user)).status()).isEqualTo(200);
        TestClient.Answer added = admin.post("/access/tfa/" + user, Map.of("type", "totp", "totp", uri,
                "value", totp.code(totp.step(now)), "password", PASSWORD));
        assertThat(added.status()).as(added.body().toString()).isEqualTo(200);

        // the password alone answers a half ticket; with its CSRF token it opens nothing
        TestClient half = new TestClient(daemon.port()).login(user, password);
        String halfTicket = half.ticket();
        assertThat(halfTicket).startsWith("PVE:!tfa!");
        assertThat(half.get("/version").status()).isEqualTo(401);
        assertThat(half.get("/access/tfa/" + user).status()).isEqualTo(401);
        assertThat(half.get("/nodes/" + NODE + "/qemu/" + VM + "/config").status()).isEqualTo(401);
        assertThat(half.post("/access/tfa/" + user, Map.of("type", "recovery")).status()).isEqualTo(401);
        // nor does it renew into a ticket, for its user or another, nor sign in with a forged challenge
        TestClient anonymous = new TestClient(daemon.port());
        assertThat(anonymous.post("/access/ticket", Map.of("username", user, "password", halfTicket)).status()).isEqualTo(401);
        assertThat(anonymous.post("/access/ticket", Map.of("username", "admin@pve", "password", "totp:" + totp.code(totp.step(now) + 1),
                "tfa-challenge", halfTicket)).status()).isEqualTo(401);
        String forged = halfTicket.replace("%22totp%22%3Atrue", "%22recovery%22%3A%5B0%5D");
        assertThat(anonymous.post("/access/ticket", Map.of("username", user, "password", "recovery:0000-0000-0000-0000",
                "tfa-challenge", forged)).status()).isEqualTo(401);
        // a wrong code, then the right one
        String next = totp.code(totp.step(now) + 1);
        String wrong = next.equals("000000") ? "000001" : "000000";
        assertThat(anonymous.post("/access/ticket", Map.of("username", user, "password", "totp:" + wrong,
                "tfa-challenge", halfTicket)).status()).isEqualTo(401);
        TestClient.Answer full = anonymous.post("/access/ticket", Map.of("username", user, "password", "totp:" + next,
                "tfa-challenge", halfTicket));
        assertThat(full.status()).as(full.body().toString()).isEqualTo(200);
        assertThat(new TestClient(daemon.port()).withTicket(full.data().path("ticket").asString()).get("/version").status())
                .isEqualTo(200);
        // the code that was just used is refused, in either form
        assertThat(anonymous.post("/access/ticket", Map.of("username", user, "password", "totp:" + next,
                "tfa-challenge", halfTicket)).status()).isEqualTo(401);
        assertThat(anonymous.post("/access/ticket", Map.of("username", user, "password", password, "otp", next)).status())
                .isEqualTo(401);
        assertThat(admin.put("/access/users/" + user + "/unlock-tfa", Map.of()).status()).isEqualTo(200);
    }
}
