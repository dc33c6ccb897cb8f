package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.corral.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * {@code /cluster/resources} over HTTPS answers from memory, yet the answer right after a change
 * already shows it: a guest config edited through the API, an ACL granted or taken away, a user
 * put into or out of a group. And it comes gzipped to clients that ask for it.
 */
class ClusterViewIT {
    private static final String NODE = "viewnode";
    private static final String PASSWORD = "admin-pass-1";

    @TempDir
    Path dataDir;

    private static List<String> vmNames(TestClient client) {
        TestClient.Answer answer = client.get("/cluster/resources", Map.of("type", "vm"));
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        return answer.data().valueStream().map(e -> e.path("vmid").asInt() + ":" + e.path("name").asString()).toList();
    }

    private static void ok(TestClient.Answer answer) {
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
    }

    @Test
    void changesShowInTheNextAnswer() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, dataDir, "127.0.0.1", 0, Optional.of(PASSWORD)))) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/qemu", Map.of("vmid", "201", "name", "first", "memory", "64")));
            Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/qemu", Map.of("vmid", "202", "name", "second", "memory", "64")));
            assertThat(vmNames(admin)).containsExactly("201:first", "202:second");

            // a config change through the API: no waiting between the write and the listing
            for (int i = 0; i < 20; i++) {
                ok(admin.put("/nodes/" + NODE + "/qemu/201/config", Map.of("name", "renamed" + i)));
                assertThat(vmNames(admin)).containsExactly("201:renamed" + i, "202:second");
            }

            // a storage added through the API is listed by the next answer, not a second later
            ok(admin.post("/storage", Map.of("storage", "extra", "type", "dir", "path", dataDir.resolve("extra").toString(),
                    "content", "images", "mkdir", "1")));
            assertThat(admin.get("/cluster/resources", Map.of("type", "storage")).data().valueStream()
                    .map(e -> e.path("storage").asString()).toList()).contains("extra");

            ok(admin.post("/access/users", Map.of("userid", "viewer@pve")));
            ok(admin.post("/access/groups", Map.of("groupid", "watchers")));
            ok(admin.put("/access/acl", Map.of("path", "/vms/202", "roles", "PVEAuditor", "groups", "watchers")));
            JsonNode token = admin.post("/access/users/viewer@pve/token/view", Map.of("privsep", "0")).data();
            TestClient viewer = new TestClient(daemon.port()).token("viewer@pve!view", token.path("value").asString());
            assertThat(vmNames(viewer)).as("a user without privileges sees no guest").isEmpty();
            assertThat(viewer.get("/cluster/resources").data().isEmpty()).as("nor node or storage").isTrue();
            // /nodes: the same sampled entry as /cluster/resources for Sys.Audit, the bare one otherwise
            JsonNode bare = viewer.get("/nodes").data();
            assertThat(bare.size()).isEqualTo(1);
            assertThat(bare.get(0).path("node").asString()).isEqualTo(NODE);
            assertThat(bare.get(0).path("status").asString()).isEqualTo("online");
            assertThat(bare.get(0).has("cpu") || bare.get(0).has("maxmem")).isFalse();
            JsonNode full = admin.get("/nodes").data().get(0);
            JsonNode listed = admin.get("/cluster/resources", Map.of("type", "node")).data().get(0);
            for (String key : List.of("node", "id", "type", "status", "ssl_fingerprint", "maxcpu", "maxmem", "maxdisk")) {
                assertThat(full.path(key)).as(key).isEqualTo(listed.path(key));
            }
            assertThat(full.has("cpu") && full.has("uptime")).isTrue();

            // an ACL granted, then taken away
            ok(admin.put("/access/acl", Map.of("path", "/vms/201", "roles", "PVEAuditor", "users", "viewer@pve")));
            assertThat(vmNames(viewer)).containsExactly("201:renamed19");
            ok(admin.put("/access/acl", Map.of("path", "/vms/201", "roles", "PVEAuditor", "users", "viewer@pve", "delete", "1")));
            assertThat(vmNames(viewer)).isEmpty();

            // the user joins the group that may see 202, then leaves it
            ok(admin.put("/access/users/viewer@pve", Map.of("groups", "watchers")));
            assertThat(vmNames(viewer)).containsExactly("202:second");
            ok(admin.put("/access/users/viewer@pve", Map.of("groups", "")));
            assertThat(vmNames(viewer)).isEmpty();

            // a guest deleted through the API is gone from the next answer, and its VMID is free again
            Tasks.awaitOk(daemon, admin.delete("/nodes/" + NODE + "/qemu/202"));
            assertThat(vmNames(admin)).containsExactly("201:renamed19");
            assertThat(admin.get("/cluster/nextid", Map.of("vmid", "202")).data().asString()).isEqualTo("202");
            assertThat(admin.get("/cluster/nextid", Map.of("vmid", "201")).status()).isEqualTo(400);
        }
    }

    @Test
    void answersAreGzippedForClientsThatAskForIt() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, dataDir, "127.0.0.1", 0, Optional.of(PASSWORD)))) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            for (int vmid = 300; vmid < 340; vmid++) {
                daemon.store().overwrite("nodes/" + NODE + "/qemu-server/" + vmid + ".conf", "name: gz" + vmid + "\nmemory: 128\n");
            }
            HttpResponse<byte[]> plain = admin.getBytes("/api2/json/cluster/resources?type=vm", Map.of());
            HttpResponse<byte[]> zipped = admin.getBytes("/api2/json/cluster/resources?type=vm", Map.of("Accept-Encoding", "gzip, deflate"));
            assertThat(plain.headers().firstValue("Content-Encoding")).isEmpty();
            assertThat(zipped.headers().firstValue("Content-Encoding")).contains("gzip");
            byte[] unzipped = new GZIPInputStream(new ByteArrayInputStream(zipped.body())).readAllBytes();
            assertThat(new String(unzipped, StandardCharsets.UTF_8)).isEqualTo(new String(plain.body(), StandardCharsets.UTF_8));
            assertThat(Json.read(plain.body()).path("data").size()).isEqualTo(40);
            assertThat(zipped.body().length).isLessThan(plain.body().length / 4);

            // an answer computed per call is gzipped too
            HttpResponse<byte[]> vms = admin.getBytes("/api2/json/nodes/" + NODE + "/qemu", Map.of("Accept-Encoding", "gzip"));
            assertThat(vms.headers().firstValue("Content-Encoding")).contains("gzip");
            assertThat(Json.read(new GZIPInputStream(new ByteArrayInputStream(vms.body())).readAllBytes()).path("data").size())
                    .isEqualTo(40);
            // a refused coding, an unknown one and a small answer go plain
            HttpResponse<byte[]> refused = admin.getBytes("/api2/json/cluster/resources?type=vm", Map.of("Accept-Encoding", "gzip;q=0, br"));
            assertThat(refused.headers().firstValue("Content-Encoding")).isEmpty();
            assertThat(Json.read(refused.body()).path("data").size()).isEqualTo(40);
            HttpResponse<byte[]> small = admin.getBytes("/api2/json/version", Map.of("Accept-Encoding", "gzip"));
            assertThat(small.headers().firstValue("Content-Encoding")).isEmpty();
            assertThat(Json.read(small.body()).path("data").path("version").asString()).isNotEmpty();
            // the extjs form of a kept answer is gzipped and complete as well
            HttpResponse<byte[]> extjs = admin.getBytes("/api2/extjs/cluster/resources?type=vm", Map.of("Accept-Encoding", "gzip"));
            assertThat(extjs.headers().firstValue("Content-Encoding")).contains("gzip");
            assertThat(new String(new GZIPInputStream(new ByteArrayInputStream(extjs.body())).readAllBytes(), StandardCharsets.UTF_8))
                    .isEqualTo("{\"success\":1," + new String(plain.body(), StandardCharsets.UTF_8).substring(1));
        }
    }
}
