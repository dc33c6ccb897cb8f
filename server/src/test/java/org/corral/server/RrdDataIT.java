package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.corral.server.rrd.RrdLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The graphs' data: a node with a 1 s RRD step samples itself, a VM and a storage, and answers over HTTPS. */
class RrdDataIT {
    private static final String NODE = "rrdnode";
    private static final String PASSWORD = "admin-pass-1";

    @TempDir
    Path dataDir;

    private static List<JsonNode> withField(TestClient client, String path, String cf, String field) {
        TestClient.Answer answer = client.get(path, Map.of("timeframe", "hour", "cf", cf));
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        assertThat(answer.data().size()).isEqualTo(70);
        return answer.data().valueStream().filter(p -> p.has(field)).toList();
    }

    private static void requireOk(TestClient admin, String upid) {
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() ->
                admin.get("/nodes/" + NODE + "/tasks/" + upid + "/status").data().path("status").asString().equals("stopped"));
        assertThat(admin.get("/nodes/" + NODE + "/tasks/" + upid + "/status").data().path("exitstatus").asString()).isEqualTo("OK");
    }

    @Test
    void realSamplesArriveForTheNodeAVmAndAStorage() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, dataDir, "127.0.0.1", 0, Optional.of(PASSWORD),
                false, Optional.empty(), new RrdLayout(Duration.ofSeconds(1))))) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            daemon.store().overwrite("nodes/" + NODE + "/qemu-server/901.conf", "memory: 64\nkvm: 0\n");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() ->
                    admin.get("/nodes/" + NODE + "/qemu/901/status/current").status() == 200);
            requireOk(admin, admin.post("/nodes/" + NODE + "/qemu/901/status/start", Map.of()).data().asString());
            try {
                String nodePath = "/nodes/" + NODE + "/rrddata";
                Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                        assertThat(withField(admin, nodePath, "AVERAGE", "memused")).hasSizeGreaterThanOrEqualTo(3));
                JsonNode point = withField(admin, nodePath, "AVERAGE", "memused").getLast();
                assertThat(point.path("maxcpu").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
                assertThat(point.path("memtotal").asDouble()).isGreaterThan(point.path("memused").asDouble()).isPositive();
                assertThat(point.path("roottotal").asDouble()).isGreaterThanOrEqualTo(point.path("rootused").asDouble()).isPositive();
                assertThat(point.path("cpu").asDouble()).isBetween(0.0, 1.0);
                assertThat(point.has("loadavg")).isTrue();
                List<JsonNode> max = withField(admin, nodePath, "MAX", "memused");
                assertThat(max).isNotEmpty();
                // one point a second, labelled by its start, none from the future
                TestClient.Answer hour = admin.get(nodePath, Map.of("timeframe", "hour"));
                long first = hour.data().get(0).path("time").asLong();
                assertThat(hour.data().get(69).path("time").asLong()).isEqualTo(first + 69);
                assertThat(hour.data().get(69).path("time").asLong()).isLessThan(System.currentTimeMillis() / 1000);
                assertThat(daemon.node().localDir().resolve("rrd/node/" + NODE + ".rrd")).isRegularFile();

                String vmPath = "/nodes/" + NODE + "/qemu/901/rrddata";
                Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                        assertThat(withField(admin, vmPath, "AVERAGE", "mem")).hasSizeGreaterThanOrEqualTo(2));
                JsonNode vm = withField(admin, vmPath, "AVERAGE", "mem").getLast();
                assertThat(vm.path("maxmem").asDouble()).isEqualTo(64.0 * 1024 * 1024);
                assertThat(vm.path("mem").asDouble()).isGreaterThan(1 << 20);
                assertThat(vm.has("cpu")).isTrue();
                assertThat(vm.has("disk")).as("nobody measures a VM's disk use").isFalse();

                String storagePath = "/nodes/" + NODE + "/storage/local/rrddata";
                Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
                        assertThat(withField(admin, storagePath, "AVERAGE", "total")).isNotEmpty());
                JsonNode storage = withField(admin, storagePath, "AVERAGE", "total").getLast();
                assertThat(storage.path("total").asDouble()).isPositive().isGreaterThanOrEqualTo(storage.path("used").asDouble());
                Path rrd = daemon.node().localDir().resolve("rrd");
                System.out.println("RRD file sizes: node " + java.nio.file.Files.size(rrd.resolve("node/" + NODE + ".rrd"))
                        + " B, VM " + java.nio.file.Files.size(rrd.resolve("qemu/901.rrd"))
                        + " B, storage " + java.nio.file.Files.size(rrd.resolve("storage/local.rrd")) + " B");
            } finally {
                requireOk(admin, admin.post("/nodes/" + NODE + "/qemu/901/status/stop", Map.of()).data().asString());
            }
        }
    }

    @Test
    void refusesBadParametersAndCallersWithoutThePrivilege() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, dataDir, "127.0.0.1", 0, Optional.of(PASSWORD)))) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            String nodePath = "/nodes/" + NODE + "/rrddata";
            TestClient.Answer minute = admin.get(nodePath, Map.of("timeframe", "minute"));
            assertThat(minute.status()).isEqualTo(400);
            assertThat(minute.errors()).containsKey("timeframe");
            TestClient.Answer none = admin.get(nodePath, Map.of());
            assertThat(none.status()).isEqualTo(400);
            assertThat(none.errors()).containsKey("timeframe");
            TestClient.Answer min = admin.get(nodePath, Map.of("timeframe", "day", "cf", "MIN"));
            assertThat(min.status()).isEqualTo(400);
            assertThat(min.errors()).containsOnlyKeys("cf");
            assertThat(admin.get(nodePath, Map.of("timeframe", "decade")).status()).isEqualTo(200);
            // decade is the node's only
            TestClient.Answer decade = admin.get("/nodes/" + NODE + "/storage/local/rrddata", Map.of("timeframe", "decade"));
            assertThat(decade.status()).isEqualTo(400);
            assertThat(decade.errors()).containsKey("timeframe");
            TestClient.Answer missing = admin.get("/nodes/" + NODE + "/lxc/999/rrddata", Map.of("timeframe", "hour"));
            assertThat(missing.status()).isEqualTo(500);
            assertThat(missing.body().toString()).contains("999.conf' does not exist");

            daemon.store().overwrite("nodes/" + NODE + "/lxc/902.conf", "hostname: ct902\nmemory: 64\n");
            assertThat(admin.post("/access/users", Map.of("userid", "carol@pve", "password", "carol-pass-1")).status()).isEqualTo(200);
            TestClient carol = new TestClient(daemon.port()).login("carol@pve", "carol-pass-1");
            for (String path : List.of(nodePath, "/nodes/" + NODE + "/lxc/902/rrddata", "/nodes/" + NODE + "/storage/local/rrddata")) {
                assertThat(carol.get(path, Map.of("timeframe", "hour")).status()).as(path).isEqualTo(403);
            }
            assertThat(admin.put("/access/acl", Map.of("path", "/vms/902", "roles", "PVEAuditor", "users", "carol@pve")).status())
                    .isEqualTo(200);
            assertThat(admin.put("/access/acl", Map.of("path", "/storage/local", "roles", "PVEDatastoreUser", "users", "carol@pve"))
                    .status()).isEqualTo(200);
            Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                TestClient.Answer ct = carol.get("/nodes/" + NODE + "/lxc/902/rrddata", Map.of("timeframe", "week", "cf", "MAX"));
                assertThat(ct.status()).as(ct.body().toString()).isEqualTo(200);
                // a container that never ran: points with their times only
                assertThat(ct.data().size()).isEqualTo(70);
                assertThat(ct.data().valueStream().allMatch(p -> p.size() == 1 && p.has("time"))).isTrue();
                assertThat(carol.get("/nodes/" + NODE + "/storage/local/rrddata", Map.of("timeframe", "hour")).status()).isEqualTo(200);
            });
            assertThat(carol.get(nodePath, Map.of("timeframe", "hour")).status()).isEqualTo(403);
        }
    }
}
