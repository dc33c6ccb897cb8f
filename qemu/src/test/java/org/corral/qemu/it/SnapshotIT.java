package org.corral.qemu.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.qemu.config.VmConfig;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Snapshots with RAM, rollback to a running guest, the snapshot tree, and suspend to disk. */
class SnapshotIT {
    static final Duration BOOT = Duration.ofSeconds(90);
    static final Pattern TICK = Pattern.compile("tick=(\\d+)");

    static int tick(String line) {
        Matcher m = TICK.matcher(line);
        if (!m.find()) {
            throw new AssertionError("no tick in '" + line + "'");
        }
        return Integer.parseInt(m.group(1));
    }

    @Test
    void snapshotWithRamRollsBackToTheRunningGuestAndTheTreeFollows() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            ApiClient api = new ApiClient(node.service());
            node.createVm(api, 100, node.guestVm());
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            node.serialLine(100, "CORRAL-GUEST-READY", BOOT);

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/snapshot", Map.of("snapname", "cold", "description", "first")),
                    Duration.ofSeconds(60));
            int atSnapshot = tick(node.serialLine(100, "CORRAL-GUEST-READY", BOOT));
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/snapshot", Map.of("snapname", "warm", "vmstate", "1")),
                    Duration.ofSeconds(120));
            VmConfig config = node.service().configs().load(100).config();
            assertThat(config.parent()).contains("warm");
            assertThat(config.snapshots().get("warm")).containsEntry("parent", "cold").containsKey("vmstate").containsKey("snaptime");
            assertThat(config.lock()).isEmpty();
            String state = config.snapshots().get("warm").get("vmstate");
            assertThat(node.storageFiles()).contains("local/images/100/vm-100-state-warm.raw");

            // the guest goes on counting; after the rollback it counts on from the snapshot, not from 1
            int later = atSnapshot;
            while (later < atSnapshot + 20) {
                later = tick(node.serialLine(100, "CORRAL-GUEST-READY", BOOT));
            }
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/snapshot/warm/rollback", Map.of()), Duration.ofSeconds(120));
            JsonNode status = (JsonNode) api.get("/nodes/pve1/qemu/100/status/current", Map.of());
            assertThat(status.path("status").asString()).isEqualTo("running");
            assertThat(status.path("qmpstatus").asString()).isEqualTo("running");
            int resumed = tick(node.serialLine(100, "CORRAL-GUEST-READY", BOOT));
            assertThat(resumed).isGreaterThan(atSnapshot - 2).isLessThan(later);

            JsonNode list = (JsonNode) api.get("/nodes/pve1/qemu/100/snapshot", Map.of());
            assertThat(list).hasSize(3);
            assertThat(list.get(0).path("name").asString()).isEqualTo("cold");
            assertThat(list.get(0).path("vmstate").asInt()).isZero();
            assertThat(list.get(0).path("description").asString()).isEqualTo("first");
            assertThat(list.get(1).path("name").asString()).isEqualTo("warm");
            assertThat(list.get(1).path("parent").asString()).isEqualTo("cold");
            assertThat(list.get(1).path("vmstate").asInt()).isEqualTo(1);
            assertThat(list.get(2).path("name").asString()).isEqualTo("current");
            assertThat(list.get(2).path("parent").asString()).isEqualTo("warm");
            assertThat(list.get(2).path("running").asInt()).isEqualTo(1);

            node.requireOk((String) api.delete("/nodes/pve1/qemu/100/snapshot/warm", Map.of()), Duration.ofSeconds(60));
            config = node.service().configs().load(100).config();
            assertThat(config.snapshots()).containsOnlyKeys("cold");
            assertThat(config.parent()).contains("cold");
            assertThat(node.storageFiles()).doesNotContain("local/images/100/vm-100-state-warm.raw");
            assertThat(state).isNotEmpty();

            // rollback without RAM leaves the VM stopped, with the disk as it was
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/snapshot/cold/rollback", Map.of()), Duration.ofSeconds(60));
            assertThat(node.service().driver().runtime().isRunning(100)).isFalse();
            node.requireOk((String) api.delete("/nodes/pve1/qemu/100/snapshot/cold", Map.of()), Duration.ofSeconds(60));
            assertThat(node.service().configs().load(100).config().parent()).isEmpty();
        }
    }

    @Test
    void suspendToDiskStopsQemuAndTheNextStartResumesTheGuest() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            ApiClient api = new ApiClient(node.service());
            node.createVm(api, 101, node.guestVm());
            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/start", Map.of()), BOOT);
            int before = 0;
            while (before < 10) {
                before = tick(node.serialLine(101, "CORRAL-GUEST-READY", BOOT));
            }
            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/suspend", Map.of("todisk", "1")), Duration.ofSeconds(120));
            assertThat(node.service().driver().runtime().isRunning(101)).isFalse();
            VmConfig config = node.service().configs().load(101).config();
            assertThat(config.lock()).contains("suspended");
            assertThat(config.get("vmstate").orElseThrow()).startsWith("local:101/vm-101-state-suspend-");

            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/start", Map.of()), BOOT);
            int after = tick(node.serialLine(101, "CORRAL-GUEST-READY", BOOT));
            assertThat(after).isGreaterThanOrEqualTo(before);
            config = node.service().configs().load(101).config();
            assertThat(config.lock()).isEmpty();
            assertThat(config.has("vmstate")).isFalse();
            assertThat(node.storageFiles()).noneMatch(f -> f.contains("state-suspend"));
        }
    }
}
