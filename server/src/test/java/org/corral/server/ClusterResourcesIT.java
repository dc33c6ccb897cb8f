package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** {@code /cluster/resources} lists a running VM with what it measurably uses, a stopped one with zeros. */
class ClusterResourcesIT {
    private static final String NODE = "resnode";
    private static final String PASSWORD = "admin-pass-1";

    @TempDir
    Path dataDir;

    private static JsonNode entry(TestClient admin, String id) {
        return admin.get("/cluster/resources", Map.of("type", "vm")).data().valueStream()
                .filter(r -> r.path("id").asString().equals(id)).findFirst().orElseThrow(() -> new AssertionError("no " + id));
    }

    private static void requireOk(TestClient admin, String upid) {
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() ->
                admin.get("/nodes/" + NODE + "/tasks/" + upid + "/status").data().path("status").asString().equals("stopped"));
        assertThat(admin.get("/nodes/" + NODE + "/tasks/" + upid + "/status").data().path("exitstatus").asString()).isEqualTo("OK");
    }

    @Test
    void runningVmIsListedWithMeasuredCpuMemoryAndUptime() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, dataDir, "127.0.0.1", 0, Optional.of(PASSWORD)))) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            // no boot device: SeaBIOS keeps the emulated CPU busy looking for one
            daemon.store().overwrite("nodes/" + NODE + "/qemu-server/901.conf", "memory: 64\nkvm: 0\n");
            daemon.store().overwrite("nodes/" + NODE + "/qemu-server/902.conf", "memory: 64\nkvm: 0\n");
            // the guest index follows the store a moment later
            Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(entry(admin, "qemu/902").path("status").asString()).isEqualTo("stopped"));
            assertThat(entry(admin, "qemu/902").path("cpu").isNumber()).isTrue();

            requireOk(admin, admin.post("/nodes/" + NODE + "/qemu/901/status/start", Map.of()).data().asString());
            try {
                Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                    JsonNode vm = entry(admin, "qemu/901");
                    assertThat(vm.path("status").asString()).isEqualTo("running");
                    assertThat(vm.path("uptime").asLong()).isPositive();
                    assertThat(vm.path("cpu").asDouble()).isPositive();
                    assertThat(vm.path("mem").asLong()).isGreaterThan(1L << 20);
                });
                JsonNode vm = entry(admin, "qemu/901");
                assertThat(vm.has("netin")).isTrue();
                assertThat(vm.has("disk")).as("nobody measures a VM's disk use").isFalse();
                assertThat(entry(admin, "qemu/902").path("status").asString()).isEqualTo("stopped");
            } finally {
                requireOk(admin, admin.post("/nodes/" + NODE + "/qemu/901/status/stop", Map.of()).data().asString());
            }
            // figures are sampled at most once a second
            Awaitility.await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                    assertThat(entry(admin, "qemu/901").path("status").asString()).isEqualTo("stopped"));
        }
    }
}
