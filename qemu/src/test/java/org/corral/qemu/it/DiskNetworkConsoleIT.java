package org.corral.qemu.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.corral.core.console.ConsoleConnection;
import org.corral.core.console.ConsoleKind;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.error.ApiException;
import org.corral.core.error.PermissionDenied;
import org.corral.core.process.ProcessRunner;
import org.corral.qemu.config.VmConfig;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Online disk changes (resize, limits, cdrom, move), NICs on a test bridge, and the VNC and serial consoles. */
class DiskNetworkConsoleIT {
    static final Duration BOOT = Duration.ofSeconds(90);

    static JsonNode block(ApiClient api, TestNode node, int vmid, String device) {
        for (JsonNode b : node.service().driver().runtime().command(vmid, "query-block")) {
            if (b.path("device").asString().equals("drive-" + device)) {
                return b;
            }
        }
        throw new AssertionError("no block device drive-" + device);
    }

    @Test
    void disksChangeWhileTheGuestRuns() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            ApiClient api = new ApiClient(node.service());
            Map<String, String> params = new java.util.LinkedHashMap<>(node.guestVm());
            params.remove("scsi0");
            params.remove("scsihw");
            params.put("virtio0", "local:1,iothread=1,format=qcow2");
            params.put("boot", "order=ide2;virtio0");
            node.createVm(api, 100, params);
            assertThat(node.service().driver().commandLine(100, node.service().configs().load(100).config(), java.util.Optional.empty()))
                    .contains("iothread,id=iothread-virtio0");
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            assertThat(node.serialLine(100, "CORRAL-GUEST-READY", BOOT)).contains("disk=/dev/vda");

            node.requireOk((String) api.put("/nodes/pve1/qemu/100/resize", Map.of("disk", "virtio0", "size", "+512M")), Duration.ofSeconds(30));
            assertThat(block(api, node, 100, "virtio0").path("inserted").path("image").path("virtual-size").asLong()).isEqualTo(1536L << 20);
            assertThat(node.service().configs().load(100).config().get("virtio0").orElseThrow()).contains("size=1536M");
            assertThatThrownBy(() -> api.put("/nodes/pve1/qemu/100/resize", Map.of("disk", "virtio0", "size", "1G")))
                    .isInstanceOf(ApiException.class).hasMessage("shrinking disks is not supported");

            String disk = node.service().configs().load(100).config().get("virtio0").orElseThrow();
            api.put("/nodes/pve1/qemu/100/config", Map.of("virtio0", disk + ",mbps_rd=10,iops_wr=100"));
            VmConfig config = node.service().configs().load(100).config();
            assertThat(config.pending()).isEmpty();
            assertThat(config.get("virtio0").orElseThrow()).contains("mbps_rd=10");
            JsonNode inserted = block(api, node, 100, "virtio0").path("inserted");
            assertThat(inserted.path("bps_rd").asLong()).isEqualTo(10L << 20);
            assertThat(inserted.path("iops_wr").asLong()).isEqualTo(100);

            api.put("/nodes/pve1/qemu/100/config", Map.of("ide2", "none,media=cdrom", "memory", "384"));
            config = node.service().configs().load(100).config();
            assertThat(config.get("ide2")).contains("none,media=cdrom");
            assertThat(config.pending()).containsEntry("memory", "384");
            assertThat(block(api, node, 100, "ide2").has("inserted")).isFalse();

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/move_disk", Map.of("disk", "virtio0", "storage", "other")),
                    Duration.ofSeconds(120));
            config = node.service().configs().load(100).config();
            assertThat(config.get("virtio0").orElseThrow()).startsWith("other:100/vm-100-disk-0.qcow2,");
            assertThat(config.get("unused0")).contains("local:100/vm-100-disk-0.qcow2");
            assertThat(block(api, node, 100, "virtio0").path("inserted").path("file").asString()).contains("/storage/other/");
            node.serialLine(100, "CORRAL-GUEST-READY", BOOT);

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/stop", Map.of()), Duration.ofSeconds(30));
            api.put("/nodes/pve1/qemu/100/unlink", Map.of("idlist", "unused0"));
            assertThat(node.storageFiles()).doesNotContain("local/images/100/vm-100-disk-0.qcow2");
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/move_disk", Map.of("disk", "virtio0", "storage", "local",
                    "format", "raw", "delete", "1")), Duration.ofSeconds(60));
            config = node.service().configs().load(100).config();
            assertThat(config.get("virtio0").orElseThrow()).startsWith("local:100/vm-100-disk-0.raw,");
            assertThat(config.has("unused0")).isFalse();
            assertThat(node.storageFiles()).containsExactly("local/images/100/vm-100-disk-0.raw");
            assertThat(node.firstSector("local:100/vm-100-disk-0.raw")).startsWith(GuestImage.DISK_MARKER);
            // the pending memory change applies with the next start
            api.put("/nodes/pve1/qemu/100/config", Map.of("ide2", node.guestIso() + ",media=cdrom"));
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            assertThat(node.service().configs().load(100).config().memoryMiB()).isEqualTo(384);
            assertThat(node.serialLine(100, "CORRAL-PREVIOUS", BOOT)).contains(GuestImage.DISK_MARKER);
        }
    }

    @Test
    void nicsJoinTheirBridgeAndConsolesReachVncAndTheSerialPort() throws Exception {
        String bridge = "cqbr" + ProcessHandle.current().pid() % 100000;
        ProcessRunner.of("ip", "link", "add", bridge, "type", "bridge").output();
        try (TestNode node = new TestNode("pve1")) {
            ProcessRunner.of("ip", "link", "set", bridge, "up").output();
            ApiClient api = new ApiClient(node.service());
            Map<String, String> params = new java.util.LinkedHashMap<>(node.guestVm());
            params.put("net0", "virtio,bridge=" + bridge + ",rate=5");
            params.put("vga", "std");
            node.createVm(api, 100, params);
            String start = (String) api.post("/nodes/pve1/qemu/100/status/start", Map.of());
            String exit = node.await(start, BOOT);
            // a kernel without the police action can't limit what the guest sends: the start warns and goes on
            assertThat(exit).as(node.log(start)).isIn("OK", "WARNINGS: 1");
            Path tap = Path.of("/sys/class/net/tap100i0");
            assertThat(Files.readSymbolicLink(tap.resolve("master")).getFileName().toString()).isEqualTo(bridge);
            assertThat(Long.decode(Files.readString(tap.resolve("flags")).strip()) & 1).as("IFF_UP").isEqualTo(1);
            assertThat(ProcessRunner.of("tc", "qdisc", "show", "dev", "tap100i0").output()).contains("htb");
            JsonNode status = (JsonNode) api.get("/nodes/pve1/qemu/100/status/current", Map.of());
            assertThat(status.path("nics").has("tap100i0")).isTrue();

            node.serialLine(100, "CORRAL-GUEST-READY", l -> l.endsWith("carrier=1"), BOOT);
            String net0 = node.service().configs().load(100).config().get("net0").orElseThrow();
            api.put("/nodes/pve1/qemu/100/config", Map.of("net0", net0 + ",link_down=1"));
            assertThat(node.service().configs().load(100).config().pending()).isEmpty();
            // the guest sees its cable pulled
            assertThat(node.serialLine(100, "CORRAL-GUEST-READY", l -> l.endsWith("carrier=0"), BOOT)).isNotEmpty();
            assertThat((String) api.post("/nodes/pve1/qemu/100/monitor", Map.of("command", "info network"))).contains("tap100i0");

            JsonNode vnc = (JsonNode) api.post("/nodes/pve1/qemu/100/vncproxy", Map.of("websocket", "1"));
            assertThat(vnc.path("ticket").asString()).hasSize(8);
            assertThat(vnc.path("user").asString()).isEqualTo("root@pam");
            assertThat(vnc.path("upid").asString()).contains(":vncproxy:100:");
            assertThatThrownBy(() -> api.get("/nodes/pve1/qemu/100/vncwebsocket", Map.of("port", vnc.path("port").asString(),
                    "vncticket", "wrongone"))).isInstanceOf(PermissionDenied.class);
            ConsoleProxies.Pending pending = (ConsoleProxies.Pending) api.get("/nodes/pve1/qemu/100/vncwebsocket",
                    Map.of("port", vnc.path("port").asString(), "vncticket", vnc.path("ticket").asString()));
            assertThat(pending.kind()).isEqualTo(ConsoleKind.RFB);
            try (ConsoleConnection connection = pending.backend().connect()) {
                assertThat(new String(connection.output().readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("RFB 003.008\n");
            }
            node.requireOk(vnc.path("upid").asString(), Duration.ofSeconds(10));

            JsonNode term = (JsonNode) api.post("/nodes/pve1/qemu/100/termproxy", Map.of());
            ConsoleProxies.Pending serial = (ConsoleProxies.Pending) api.get("/nodes/pve1/qemu/100/vncwebsocket",
                    Map.of("port", term.path("port").asString(), "vncticket", term.path("ticket").asString()));
            assertThat(serial.kind()).isEqualTo(ConsoleKind.TERMINAL);
            try (ConsoleConnection connection = serial.backend().connect()) {
                assertThat(readUntil(connection.output(), "CORRAL-GUEST-READY")).isTrue();
            }
            assertThatThrownBy(() -> api.post("/nodes/pve1/qemu/100/spiceproxy", Map.of()))
                    .isInstanceOf(ApiException.class).hasMessageContaining("SPICE");

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/stop", Map.of()), Duration.ofSeconds(30));
            assertThat(Files.exists(tap)).isFalse();
        } finally {
            ProcessRunner.of("ip", "link", "del", bridge).output();
        }
    }

    private static boolean readUntil(InputStream in, String marker) throws Exception {
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + BOOT.toNanos();
        byte[] buffer = new byte[1024];
        while (System.nanoTime() < deadline) {
            int n = in.read(buffer);
            if (n < 0) {
                return false;
            }
            seen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            if (seen.indexOf(marker) >= 0) {
                return true;
            }
        }
        return false;
    }
}
