package org.corral.qemu.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.qemu.config.NetDevice;
import org.corral.qemu.config.VmConfig;
import org.junit.jupiter.api.Test;

/** Full and linked clones, templates, and a clone into a taken VMID. */
class CloneIT {
    static final Duration BOOT = Duration.ofSeconds(90);

    @Test
    void fullCloneBootsWithTheOriginalsDiskAndLinkedClonesComeFromTemplates() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            ApiClient api = new ApiClient(node.service());
            Map<String, String> params = new java.util.LinkedHashMap<>(node.guestVm());
            params.put("net0", "virtio");
            params.put("name", "origin");
            node.createVm(api, 100, params);
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            node.serialLine(100, "CORRAL-GUEST-READY", BOOT);
            VmConfig original = node.service().configs().load(100).config();

            // a clone of a running VM mirrors its disk; the VM keeps running on its own
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/clone", Map.of("newid", "101", "name", "copy", "storage", "other")),
                    Duration.ofSeconds(120));
            assertThat(node.service().driver().runtime().isRunning(100)).isTrue();
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/stop", Map.of()), Duration.ofSeconds(30));
            String marker = node.firstSector(original.drives().get("scsi0").file());
            assertThat(marker).startsWith(GuestImage.DISK_MARKER);

            VmConfig full = node.service().configs().load(101).config();
            assertThat(full.get("name")).contains("copy");
            assertThat(full.drives().get("scsi0").file()).isEqualTo("other:101/vm-101-disk-0.qcow2");
            assertThat(full.drives().get("ide2").file()).isEqualTo(original.drives().get("ide2").file());
            assertThat(mac(full)).isNotEqualTo(mac(original)).startsWith("BC:24:11:");
            assertThat(full.get("smbios1")).isNotEqualTo(original.get("smbios1"));
            assertThat(full.get("vmgenid")).isNotEqualTo(original.get("vmgenid"));
            assertThat(full.lock()).isEmpty();
            assertThat(original.lock()).isEmpty();
            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/start", Map.of()), BOOT);
            assertThat(node.serialLine(101, "CORRAL-PREVIOUS", BOOT)).contains(marker);
            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/stop", Map.of()), Duration.ofSeconds(30));

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/template", Map.of()), Duration.ofSeconds(30));
            VmConfig template = node.service().configs().load(100).config();
            assertThat(template.isTemplate()).isTrue();
            assertThat(template.drives().get("scsi0").file()).isEqualTo("local:100/base-100-disk-0.qcow2");
            assertThatThrownBy(() -> api.post("/nodes/pve1/qemu/100/status/start", Map.of()))
                    .isInstanceOf(ApiException.class).hasMessageContaining("template");

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/clone", Map.of("newid", "102", "name", "linked")), Duration.ofSeconds(60));
            VmConfig linked = node.service().configs().load(102).config();
            assertThat(linked.drives().get("scsi0").file()).isEqualTo("local:100/base-100-disk-0.qcow2/102/vm-102-disk-0.qcow2");
            assertThat(mac(linked)).isNotEqualTo(mac(original)).isNotEqualTo(mac(full));
            assertThat(linked.isTemplate()).isFalse();
            node.requireOk((String) api.post("/nodes/pve1/qemu/102/status/start", Map.of()), BOOT);
            assertThat(node.serialLine(102, "CORRAL-PREVIOUS", BOOT)).contains(marker);
            node.requireOk((String) api.post("/nodes/pve1/qemu/102/status/stop", Map.of()), Duration.ofSeconds(30));

            // a full clone of a template copies the base image
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/clone", Map.of("newid", "103", "full", "1", "format", "raw")),
                    Duration.ofSeconds(60));
            assertThat(node.service().configs().load(103).config().drives().get("scsi0").file()).isEqualTo("local:103/vm-103-disk-0.raw");
            assertThat(node.firstSector("local:103/vm-103-disk-0.raw")).isEqualTo(marker);

            for (int vmid : List.of(101, 102, 103, 100)) {
                node.requireOk((String) api.delete("/nodes/pve1/qemu/" + vmid, Map.of("purge", "1")), Duration.ofSeconds(30));
            }
            assertThat(node.storageFiles()).isEmpty();
            assertThat(node.service().configs().list()).isEmpty();
        }
    }

    @Test
    void cloneIntoATakenVmidIsRefusedAndLeavesNothingBehind() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            ApiClient api = new ApiClient(node.service());
            node.createVm(api, 110, Map.of("memory", "128", "scsi0", "local:1"));
            node.createVm(api, 111, Map.of("memory", "128"));
            String taken = node.config(111).orElseThrow();
            List<String> files = node.storageFiles();
            assertThatThrownBy(() -> api.post("/nodes/pve1/qemu/110/clone", Map.of("newid", "111")))
                    .isInstanceOf(Conflict.class).hasMessageContaining("VM 111 already exists");
            assertThat(node.config(111)).contains(taken);
            assertThat(node.storageFiles()).isEqualTo(files);
            assertThat(node.service().configs().load(110).config().lock()).isEmpty();
            assertThatThrownBy(() -> api.post("/nodes/pve1/qemu/110/clone", Map.of("newid", "112", "full", "0")))
                    .hasMessageContaining("linked clones are only possible from templates");
            assertThat(node.config(112)).isEmpty();
        }
    }

    private static String mac(VmConfig config) {
        return config.nets().get(0).mac().orElseThrow();
    }

    static NetDevice net(VmConfig config) {
        return config.nets().get(0);
    }
}
