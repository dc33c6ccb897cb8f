package org.corral.qemu.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.corral.core.process.ProcessRunner;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.VmConfig;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Disks and NICs plugged into and out of a running TCG guest, as Proxmox's hotplug does, and kept pending with hotplug: 0. */
class HotplugIT {
    static final Duration BOOT = Duration.ofSeconds(90);
    static final Duration TASK = Duration.ofSeconds(60);

    /** qdev id to "parent:slot" of every PCI device, behind bridges too (the parent is pci.0 or the bridge's id). */
    static Map<String, String> pciSlots(TestNode node, int vmid) {
        Map<String, String> out = new LinkedHashMap<>();
        for (JsonNode bus : node.service().driver().runtime().command(vmid, "query-pci")) {
            collect("pci.0", bus.path("devices"), out);
        }
        return out;
    }

    static Map<String, String> awaitPci(TestNode node, int vmid, String... ids) throws InterruptedException {
        Map<String, String> slots = pciSlots(node, vmid);
        for (long end = System.nanoTime() + Duration.ofSeconds(30).toNanos(); System.nanoTime() < end
                && !slots.keySet().containsAll(List.of(ids)); slots = pciSlots(node, vmid)) {
            Thread.sleep(200);
        }
        return slots;
    }

    private static void collect(String parent, JsonNode devices, Map<String, String> out) {
        for (JsonNode d : devices) {
            String id = d.path("qdev_id").asString();
            if (!id.isEmpty()) {
                out.put(id, parent + ":" + d.path("slot").asInt());
            }
            collect(id, d.path("pci_bridge").path("devices"), out);
        }
    }

    /** The query-block entry of drive KEY (by backend name or by device), or null. */
    static JsonNode block(TestNode node, int vmid, String key) {
        for (JsonNode b : node.service().driver().runtime().command(vmid, "query-block")) {
            if (b.path("device").asString().equals("drive-" + key) || b.path("qdev").asString().equals(key)
                    || b.path("qdev").asString().equals("/machine/peripheral/" + key + "/virtio-backend")) {
                return b;
            }
        }
        return null;
    }

    /** The virtio status bits the guest's driver set on a device (DRIVER_OK once it took it). */
    static String virtioStatus(TestNode node, int vmid, String id) throws InterruptedException {
        String status = "";
        for (long end = System.nanoTime() + Duration.ofSeconds(30).toNanos(); System.nanoTime() < end && !status.contains("DRIVER_OK"); ) {
            status = node.service().driver().runtime().command(vmid, "x-query-virtio-status",
                    Map.of("path", "/machine/peripheral/" + id + "/virtio-backend")).path("status").toString();
            Thread.sleep(200);
        }
        return status;
    }

    static String config(ApiClient api, String upid, TestNode node, Map<String, String> params) throws Exception {
        String task = (String) api.post("/nodes/pve1/qemu/100/config", params);
        node.await(task, TASK);
        return node.log(task);
    }

    static String masterOf(String bridge) {
        return ProcessRunner.of("ip", "-o", "link", "show", "master", bridge).output();
    }

    @Test
    void disksAndNicsArePluggedIntoTheRunningGuestAndOutAgain() throws Exception {
        String suffix = Long.toString(ProcessHandle.current().pid() % 100000);
        String brA = "cqha" + suffix;
        String brB = "cqhb" + suffix;
        try (TestNode node = new TestNode("pve1")) {
            for (String br : List.of(brA, brB)) {
                ProcessRunner.of("ip", "link", "add", br, "type", "bridge").output();
                ProcessRunner.of("ip", "link", "set", br, "up").output();
            }
            ApiClient api = new ApiClient(node.service());
            node.createVm(api, 100, node.guestVm());
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            node.serialLine(100, "CORRAL-GUEST-READY", BOOT);
            List<JsonNode> deleted = new CopyOnWriteArrayList<>();
            node.service().driver().runtime().qmp(100).onEvent(e -> {
                if (e.name().equals("DEVICE_DELETED")) {
                    deleted.add(e.data());
                }
            });

            // a new virtio disk and a scsi disk on the running virtio-scsi controller, both live at once
            String log = config(api, null, node, Map.of("virtio1", "local:1,format=qcow2", "scsi1", "local:1,format=qcow2,iops_rd=300"));
            assertThat(log).contains("virtio1: hot-plugged", "scsi1: hot-plugged").doesNotContain("pending");
            VmConfig config = node.service().configs().load(100).config();
            assertThat(config.pending()).isEmpty();
            assertThat(config.drives()).containsKeys("virtio1", "scsi1");
            Map<String, String> slots = pciSlots(node, 100);
            assertThat(slots).containsEntry("virtio1", "pci.0:11");
            assertThat(block(node, 100, "virtio1")).isNotNull();
            assertThat(block(node, 100, "scsi1").path("qdev").asString()).isEqualTo("scsi1");
            assertThat(block(node, 100, "scsi1").path("inserted").path("iops_rd").asLong()).isEqualTo(300);
            // the guest's virtio driver took the new disk
            assertThat(virtioStatus(node, 100, "virtio1")).contains("DRIVER_OK");

            // a plugged qcow2 disk takes a live snapshot
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/snapshot", Map.of("snapname", "s1")), TASK);
            assertThat(block(node, 100, "scsi1").path("inserted").path("image").path("snapshots").toString()).contains("\"s1\"");
            assertThat(block(node, 100, "virtio1").path("inserted").path("image").path("snapshots").toString()).contains("\"s1\"");
            node.requireOk((String) api.delete("/nodes/pve1/qemu/100/snapshot/s1", Map.of()), TASK);

            // a plugged disk grows and takes new limits while running
            node.requireOk((String) api.put("/nodes/pve1/qemu/100/resize", Map.of("disk", "virtio1", "size", "+512M")), TASK);
            assertThat(block(node, 100, "virtio1").path("inserted").path("image").path("virtual-size").asLong()).isEqualTo(1536L << 20);
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/move_disk", Map.of("disk", "virtio1", "storage", "other",
                    "delete", "1")), TASK);
            assertThat(block(node, 100, "virtio1").path("inserted").path("file").asString()).contains("/storage/other/");
            String virtio1 = node.service().configs().load(100).config().get("virtio1").orElseThrow();
            assertThat(virtio1).startsWith("other:100/");
            api.put("/nodes/pve1/qemu/100/config", Map.of("virtio1", virtio1 + ",mbps_rd=10"));
            assertThat(node.service().configs().load(100).config().pending()).isEmpty();
            assertThat(block(node, 100, "virtio1").path("inserted").path("bps_rd").asLong()).isEqualTo(10L << 20);
            String scsi1 = node.service().configs().load(100).config().get("scsi1").orElseThrow();
            api.put("/nodes/pve1/qemu/100/config", Map.of("scsi1", scsi1.replace("iops_rd=300", "iops_rd=500")));
            assertThat(node.service().configs().load(100).config().pending()).isEmpty();
            assertThat(block(node, 100, "scsi1").path("inserted").path("iops_rd").asLong()).isEqualTo(500);

            // removal: device_del, DEVICE_DELETED, the volume kept as unused0
            String scsi1Volume = Drive.parse("scsi1", scsi1).file();
            log = config(api, null, node, Map.of("delete", "scsi1"));
            assertThat(log).contains("scsi1: unplugged");
            assertThat(deleted).anyMatch(d -> d.path("device").asString().equals("scsi1"));
            config = node.service().configs().load(100).config();
            assertThat(config.pending()).isEmpty();
            assertThat(config.has("scsi1")).isFalse();
            assertThat(config.get("unused0")).contains(scsi1Volume);
            assertThat(block(node, 100, "scsi1")).isNull();

            // a NIC on bridge A, then moved to bridge B, then its link pulled
            log = config(api, null, node, Map.of("net1", "virtio,bridge=" + brA));
            assertThat(log).contains("net1: hot-plugged");
            assertThat(pciSlots(node, 100)).containsEntry("net1", "pci.0:19");
            assertThat(masterOf(brA)).contains("tap100i1");
            assertThat(virtioStatus(node, 100, "net1")).contains("DRIVER_OK");
            String net1 = node.service().configs().load(100).config().get("net1").orElseThrow();
            api.put("/nodes/pve1/qemu/100/config", Map.of("net1", net1.replace(brA, brB)));
            assertThat(node.service().configs().load(100).config().pending()).isEmpty();
            assertThat(masterOf(brB)).contains("tap100i1");
            assertThat(masterOf(brA)).doesNotContain("tap100i1");
            api.put("/nodes/pve1/qemu/100/config", Map.of("net1", net1.replace(brA, brB) + ",link_down=1"));
            assertThat(node.service().configs().load(100).config().pending()).isEmpty();
            // a model change waits for the next start, with the reason in the task log
            log = config(api, null, node, Map.of("net1", net1.replace(brA, brB).replace("virtio=", "e1000=")));
            assertThat(log).contains("net1: pending until the next start - changing model of a running NIC needs a restart");
            api.put("/nodes/pve1/qemu/100/config", Map.of("revert", "net1"));

            // a VM started again gets the layout the hot-plugged devices had
            Map<String, String> before = pciSlots(node, 100);
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/stop", Map.of()), TASK);
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            Map<String, String> after = pciSlots(node, 100);
            assertThat(after).containsEntry("virtio1", before.get("virtio1")).containsEntry("net1", before.get("net1"));
            node.serialLine(100, "CORRAL-GUEST-READY", BOOT);
            deleted.clear();
            node.service().driver().runtime().qmp(100).onEvent(e -> {
                if (e.name().equals("DEVICE_DELETED")) {
                    deleted.add(e.data());
                }
            });

            // a disk and NIC from the cold command line come out as well; the NIC's tap goes with it
            log = config(api, null, node, Map.of("delete", "virtio1,net1"));
            assertThat(log).contains("virtio1: unplugged", "net1: unplugged");
            assertThat(deleted).anyMatch(d -> d.path("device").asString().equals("virtio1"))
                    .anyMatch(d -> d.path("device").asString().equals("net1"));
            assertThat(pciSlots(node, 100)).doesNotContainKeys("virtio1", "net1");
            assertThat(block(node, 100, "virtio1")).isNull();
            assertThat(masterOf(brB)).doesNotContain("tap100i1");
            assertThat(node.service().configs().load(100).config().options()).containsKey("unused1");

            // hotplug: 0 keeps every disk and NIC change pending
            api.put("/nodes/pve1/qemu/100/config", Map.of("hotplug", "0"));
            log = config(api, null, node, Map.of("virtio2", "local:1", "net2", "virtio,bridge=" + brA));
            assertThat(log).contains("virtio2: pending until the next start - disk hotplug is not enabled (hotplug: 0)",
                    "net2: pending until the next start - network hotplug is not enabled (hotplug: 0)");
            log = config(api, null, node, Map.of("delete", "scsi0"));
            assertThat(log).contains("scsi0: pending until the next start");
            config = node.service().configs().load(100).config();
            assertThat(config.pending()).containsKeys("virtio2", "net2").containsEntry("delete", "scsi0");
            assertThat(config.options()).containsKey("scsi0").doesNotContainKeys("virtio2", "net2");
            assertThat(pciSlots(node, 100)).doesNotContainKeys("virtio2", "net2");
            assertThat(block(node, 100, "scsi0")).isNotNull();

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/stop", Map.of()), TASK);
        } finally {
            for (String br : List.of(brA, brB)) {
                ProcessRunner.of("ip", "link", "del", br).run();
            }
        }
    }

    @Test
    void controllersAndBridgesComeWithTheDevicesThatNeedThemAndStayAfterARestart() throws Exception {
        String bridge = "cqhc" + ProcessHandle.current().pid() % 100000;
        try (TestNode node = new TestNode("pve1")) {
            ProcessRunner.of("ip", "link", "add", bridge, "type", "bridge").output();
            ProcessRunner.of("ip", "link", "set", bridge, "up").output();
            ApiClient api = new ApiClient(node.service());
            Map<String, String> params = new LinkedHashMap<>(node.guestVm());
            params.put("scsihw", "virtio-scsi-single");
            node.createVm(api, 100, params);
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            node.serialLine(100, "CORRAL-GUEST-READY", BOOT);

            // scsi2 gets its own controller and iothread; virtio7 and net7 need the bridges pci.2 and pci.1 first
            String log = config(api, null, node, Map.of("scsi2", "local:1,iothread=1", "virtio7", "local:1,iothread=1",
                    "net7", "e1000,bridge=" + bridge));
            assertThat(log).contains("scsi2: hot-plugged", "virtio7: hot-plugged", "net7: hot-plugged");
            // devices behind a bridge plugged just now show once the guest numbered the bridge's bus
            Map<String, String> hot = awaitPci(node, 100, "virtioscsi2", "virtio7", "net7");
            assertThat(hot).containsEntry("virtioscsi2", "pci.3:3").containsEntry("virtio7", "pci.2:2").containsEntry("net7", "pci.1:2");
            assertThat(node.service().driver().runtime().command(100, "query-iothreads").toString())
                    .contains("iothread-virtioscsi2", "iothread-virtio7");
            assertThat(block(node, 100, "scsi2").path("qdev").asString()).isEqualTo("scsi2");
            assertThat(virtioStatus(node, 100, "virtioscsi2")).contains("DRIVER_OK");
            assertThat(masterOf(bridge)).contains("tap100i7");

            // a VM started again gets the same controllers, bridges and slots from its command line
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/stop", Map.of()), TASK);
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            Map<String, String> cold = awaitPci(node, 100, "virtioscsi0", "virtioscsi2", "virtio7", "net7");
            for (String id : List.of("virtioscsi0", "virtioscsi2", "virtio7", "net7", "pci.1", "pci.2", "pci.3")) {
                assertThat(cold.get(id)).as(id).isEqualTo(hot.get(id)).isNotNull();
            }
            node.serialLine(100, "CORRAL-GUEST-READY", BOOT);

            // out again: the disk, then its controller and iothread
            log = config(api, null, node, Map.of("delete", "scsi2"));
            assertThat(log).contains("scsi2: unplugged");
            assertThat(pciSlots(node, 100)).doesNotContainKey("virtioscsi2").containsKey("virtioscsi0");
            assertThat(node.service().driver().runtime().command(100, "query-iothreads").toString()).doesNotContain("iothread-virtioscsi2");
            assertThat(node.service().configs().load(100).config().get("unused0")).isPresent();
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/stop", Map.of()), TASK);
        } finally {
            ProcessRunner.of("ip", "link", "del", bridge).run();
        }
    }
}
