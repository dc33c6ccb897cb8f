package org.corral.qemu.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.corral.core.access.Privilege;
import org.corral.core.api.HttpVerb;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.process.ProcessRunner;
import org.corral.qemu.config.VmConfigCodec;
import org.corral.qemu.it.ApiClient;
import org.corral.qemu.it.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Create, config and destroy through the API, without booting guests. */
class VmConfigApiTest {
    static TestNode node;
    static ApiClient api;

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode("pve1");
        api = new ApiClient(node.service());
    }

    @AfterAll
    static void stop() throws Exception {
        node.close();
    }

    static String create(int vmid, Map<String, String> params) throws Exception {
        Map<String, String> all = new java.util.LinkedHashMap<>(params);
        all.put("vmid", Integer.toString(vmid));
        String upid = (String) api.post("/nodes/pve1/qemu", all);
        String status = node.await(upid, Duration.ofSeconds(30));
        assertThat(status).as(node.log(upid)).isEqualTo("OK");
        return upid;
    }

    static String destroy(int vmid) throws Exception {
        String upid = (String) api.delete("/nodes/pve1/qemu/" + vmid, Map.of("purge", "1", "destroy-unreferenced-disks", "1"));
        assertThat(node.await(upid, Duration.ofSeconds(30))).as(node.log(upid)).isEqualTo("OK");
        return upid;
    }

    @Test
    void createAllocatesDisksAndWritesProxmoxConfig() throws Exception {
        create(200, Map.of("name", "web01", "memory", "256", "cores", "2", "scsi0", "local:1,iothread=1", "scsihw", "virtio-scsi-single",
                "net0", "virtio,firewall=1", "serial0", "socket", "kvm", "0", "ostype", "l26", "description", "Line: one\nLine two"));
        String text = node.config(200).orElseThrow();
        var config = VmConfigCodec.parse(text);
        assertThat(config.get("scsi0")).contains("local:200/vm-200-disk-0.raw,iothread=1,size=1G");
        assertThat(config.get("net0").orElseThrow()).matches("virtio=BC:24:11:[0-9A-F:]{8},firewall=1");
        assertThat(config.get("boot")).contains("order=scsi0;net0");
        assertThat(config.get("smbios1").orElseThrow()).startsWith("uuid=");
        assertThat(config.get("vmgenid")).isPresent();
        assertThat(config.get("meta").orElseThrow()).startsWith("creation-qemu=");
        assertThat(config.lock()).isEmpty();
        assertThat(text).startsWith("#Line%3A one\n#Line two\n");
        assertThat(node.storageFiles()).contains("local/images/200/vm-200-disk-0.raw");

        JsonNode got = (JsonNode) api.get("/nodes/pve1/qemu/200/config", Map.of());
        assertThat(got.path("cores").isNumber()).isTrue();
        assertThat(got.path("kvm").asInt()).isZero();
        assertThat(got.path("description").asString()).isEqualTo("Line: one\nLine two");
        assertThat(got.path("digest").asString()).hasSize(40);
        destroy(200);
        assertThat(node.config(200)).isEmpty();
        assertThat(node.storageFiles()).noneMatch(f -> f.contains("/200/"));
    }

    @Test
    void invalidPropertyStringNamesTheOptionAndKeyAndCreatesNothing() throws Exception {
        assertThatThrownBy(() -> api.post("/nodes/pve1/qemu", Map.of("vmid", "201", "scsi0", "local:1", "net0", "virtio,bogus=1")))
                .isInstanceOf(ParameterError.class)
                .satisfies(e -> assertThat(((ParameterError) e).errors()).containsKey("net0"))
                .hasMessageContaining("bogus");
        assertThat(node.config(201)).isEmpty();
        assertThat(node.storageFiles()).noneMatch(f -> f.contains("/201/"));
    }

    @Test
    void diskOnMissingStorageIsRefusedAndCreatesNothing() throws Exception {
        assertThatThrownBy(() -> api.post("/nodes/pve1/qemu", Map.of("vmid", "202", "scsi0", "local:1", "scsi1", "nowhere:4")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("scsi1").hasMessageContaining("storage 'nowhere' does not exist");
        assertThat(node.config(202)).isEmpty();
        assertThat(node.storageFiles()).noneMatch(f -> f.contains("/202/"));
    }

    @Test
    void takenVmidIsRefusedAndTheExistingVmIsUntouched() throws Exception {
        create(203, Map.of("memory", "128", "scsi0", "local:1"));
        String before = node.config(203).orElseThrow();
        List<String> files = node.storageFiles();
        assertThatThrownBy(() -> api.post("/nodes/pve1/qemu", Map.of("vmid", "203", "scsi0", "local:2")))
                .isInstanceOf(Conflict.class).hasMessageContaining("VM 203 already exists");
        assertThat(node.config(203)).contains(before);
        assertThat(node.storageFiles()).isEqualTo(files);
        destroy(203);
    }

    @Test
    void missingBridgeIsRefusedNamingTheNic() {
        assertThatThrownBy(() -> api.post("/nodes/pve1/qemu", Map.of("vmid", "204", "net0", "virtio,bridge=vmbr9")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("net0").hasMessageContaining("bridge 'vmbr9' does not exist");
    }

    @Test
    void missingVmAnswersProxmoxsWords() {
        assertThatThrownBy(() -> api.get("/nodes/pve1/qemu/999/config", Map.of()))
                .hasMessage("Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist");
    }

    @Test
    void otherNodeIsRefused() {
        assertThatThrownBy(() -> api.get("/nodes/pve9/qemu", Map.of())).hasMessageContaining("no such cluster node 'pve9'");
    }

    @Test
    void staleDigestChangesNothing() throws Exception {
        create(205, Map.of("memory", "128"));
        String before = node.config(205).orElseThrow();
        assertThatThrownBy(() -> api.put("/nodes/pve1/qemu/205/config", Map.of("memory", "256", "digest", "0".repeat(40))))
                .isInstanceOf(Conflict.class).hasMessageContaining("file changed by other user");
        assertThat(node.config(205)).contains(before);
        String digest = ((JsonNode) api.get("/nodes/pve1/qemu/205/config", Map.of())).path("digest").asString();
        api.put("/nodes/pve1/qemu/205/config", Map.of("memory", "256", "digest", digest));
        assertThat(node.config(205).orElseThrow()).contains("memory: 256");
        destroy(205);
    }

    @Test
    void detachedDiskBecomesUnusedAndDeletingUnusedFreesIt() throws Exception {
        create(206, Map.of("memory", "128", "scsi0", "local:1", "scsi1", "local:1"));
        api.put("/nodes/pve1/qemu/206/config", Map.of("delete", "scsi1"));
        assertThat(node.config(206).orElseThrow()).contains("unused0: local:206/vm-206-disk-1.raw").doesNotContain("scsi1:");
        assertThat(node.storageFiles()).contains("local/images/206/vm-206-disk-1.raw");
        api.put("/nodes/pve1/qemu/206/config", Map.of("delete", "unused0"));
        assertThat(node.config(206).orElseThrow()).doesNotContain("unused0");
        assertThat(node.storageFiles()).doesNotContain("local/images/206/vm-206-disk-1.raw");
        api.put("/nodes/pve1/qemu/206/config", Map.of("scsi1", "local:1"));
        String upid = (String) api.post("/nodes/pve1/qemu/206/config", Map.of("delete", "scsi1", "force", "1"));
        assertThat(node.await(upid, Duration.ofSeconds(10))).isEqualTo("OK");
        assertThat(node.config(206).orElseThrow()).doesNotContain("unused").doesNotContain("scsi1");
        assertThat(node.storageFiles()).containsExactly("local/images/206/vm-206-disk-0.raw");
        destroy(206);
    }

    @Test
    void passwordsAreHashedAndMaskedAndSshKeysStayUrlEncoded() throws Exception {
        create(207, Map.of("memory", "128", "ciuser", "admin", "cipassword", "secret",
                "sshkeys", "ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIB%2Bkey%20me%40host"));
        String text = node.config(207).orElseThrow();
        assertThat(text).containsPattern("cipassword: \\$6\\$[^$]+\\$").doesNotContain("secret");
        assertThat(text).contains("sshkeys: ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIB%2Bkey%20me%40host");
        assertThat(((JsonNode) api.get("/nodes/pve1/qemu/207/config", Map.of())).path("cipassword").asString()).isEqualTo("**********");
        String user = node.service().cloudInitDump(207, "user");
        assertThat(user).contains("user: admin").contains("  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB+key me@host").contains("password: $6$");
        assertThatThrownBy(() -> api.put("/nodes/pve1/qemu/207/config", Map.of("sshkeys", "not-a-key")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("sshkeys");
        destroy(207);
    }

    @Test
    void lockedVmRefusesChangesWithTheReason() throws Exception {
        create(208, Map.of("memory", "128"));
        node.store().update("nodes/pve1/qemu-server/208.conf", t -> t + "lock: backup\n");
        assertThatThrownBy(() -> api.put("/nodes/pve1/qemu/208/config", Map.of("memory", "256")))
                .isInstanceOf(Conflict.class).hasMessage("VM is locked (backup)");
        assertThatThrownBy(() -> api.post("/nodes/pve1/qemu/208/status/start", Map.of()))
                .isInstanceOf(Conflict.class).hasMessage("VM is locked (backup)");
        assertThatThrownBy(() -> api.delete("/nodes/pve1/qemu/208", Map.of())).hasMessage("VM is locked (backup)");
        node.store().update("nodes/pve1/qemu-server/208.conf", t -> t.replace("lock: backup\n", ""));
        destroy(208);
    }

    @Test
    void protectedVmIsNotDestroyed() throws Exception {
        create(209, Map.of("memory", "128", "protection", "1", "scsi0", "local:1"));
        assertThatThrownBy(() -> api.delete("/nodes/pve1/qemu/209", Map.of()))
                .isInstanceOf(ApiException.class).hasMessage("can't remove VM 209 - protection mode enabled");
        assertThat(node.storageFiles()).contains("local/images/209/vm-209-disk-0.raw");
        api.put("/nodes/pve1/qemu/209/config", Map.of("delete", "protection"));
        destroy(209);
    }

    @Test
    void destroyUnreferencedDisksRemovesStrayVolumesOfTheVmid() throws Exception {
        create(210, Map.of("memory", "128", "scsi0", "local:1"));
        node.volumes().alloc("other", 210, java.util.Optional.of("raw"), java.util.Optional.empty(), 1 << 20);
        assertThat(node.storageFiles()).contains("other/images/210/vm-210-disk-0.raw");
        destroy(210);
        assertThat(node.storageFiles()).noneMatch(f -> f.contains("/210/"));
    }

    @Test
    void privilegesFollowProxmoxOptionClasses() throws Exception {
        create(211, Map.of("memory", "128", "cores", "1"));
        api.grant("ops@pve", "/vms/211", Privilege.VM_CONFIG_MEMORY, Privilege.VM_AUDIT);
        var ops = ApiClient.user("ops@pve");
        api.call(ops, HttpVerb.PUT, "/nodes/pve1/qemu/211/config", Map.of("memory", "192"));
        assertThat(node.config(211).orElseThrow()).contains("memory: 192");
        assertThatThrownBy(() -> api.call(ops, HttpVerb.PUT, "/nodes/pve1/qemu/211/config", Map.of("cores", "2")))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("VM.Config.CPU");
        api.grant("ops@pve", "/vms/211", Privilege.VM_CONFIG_OPTIONS, Privilege.VM_CONFIG_HWTYPE);
        assertThatThrownBy(() -> api.call(ops, HttpVerb.PUT, "/nodes/pve1/qemu/211/config", Map.of("args", "-no-reboot")))
                .isInstanceOf(PermissionDenied.class).hasMessage("only root can set 'args' config");
        assertThatThrownBy(() -> api.call(ops, HttpVerb.PUT, "/nodes/pve1/qemu/211/config", Map.of("scsi0", "local:1")))
                .isInstanceOf(PermissionDenied.class);
        assertThat(node.storageFiles()).noneMatch(f -> f.contains("/211/"));
        assertThatThrownBy(() -> api.call(ops, HttpVerb.POST, "/nodes/pve1/qemu", Map.of("vmid", "212")))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("VM.Allocate");
        destroy(211);
    }

    @Test
    void pendingListsCurrentAndNewValues() throws Exception {
        create(213, Map.of("memory", "128", "cores", "1"));
        node.store().update("nodes/pve1/qemu-server/213.conf", t -> t + "\n[PENDING]\ncores: 2\ndelete: memory\n");
        JsonNode pending = (JsonNode) api.get("/nodes/pve1/qemu/213/pending", Map.of());
        JsonNode cores = find(pending, "cores");
        assertThat(cores.path("value").asInt()).isEqualTo(1);
        assertThat(cores.path("pending").asInt()).isEqualTo(2);
        assertThat(find(pending, "memory").path("delete").asInt()).isEqualTo(1);
        JsonNode merged = (JsonNode) api.get("/nodes/pve1/qemu/213/config", Map.of());
        assertThat(merged.path("cores").asInt()).isEqualTo(2);
        assertThat(merged.has("memory")).isFalse();
        api.put("/nodes/pve1/qemu/213/config", Map.of("revert", "cores,memory"));
        assertThat(node.config(213).orElseThrow()).doesNotContain("[PENDING]");
        destroy(213);
    }

    @Test
    void cloudInitDriveIsANoCloudIsoOfTheConfig() throws Exception {
        create(220, Map.of("memory", "128", "ide0", "local:cloudinit", "net0", "virtio", "ciuser", "admin", "cipassword", "pw",
                "ipconfig0", "ip=10.0.0.5/24,gw=10.0.0.1", "nameserver", "1.1.1.1", "searchdomain", "example.com", "name", "ci1"));
        String drive = node.service().configs().load(220).config().get("ide0").orElseThrow();
        assertThat(drive).isEqualTo("local:220/vm-220-cloudinit.raw,media=cdrom");
        api.put("/nodes/pve1/qemu/220/cloudinit", Map.of());
        java.nio.file.Path iso = node.service().volumes().path("local:220/vm-220-cloudinit.raw");
        java.nio.file.Path out = node.dir().resolve("user-data");
        ProcessRunner.of("xorriso", "-osirrox", "on", "-indev", iso.toString(),
                "-extract", "/user-data", out.toString()).output();
        assertThat(java.nio.file.Files.readString(out)).startsWith("#cloud-config\n").contains("hostname: ci1")
                .contains("fqdn: ci1.example.com").contains("user: admin").contains("password: $6$");
        String network = (String) api.get("/nodes/pve1/qemu/220/cloudinit/dump", Map.of("type", "network"));
        assertThat(network).contains("name: eth0").contains("address: '10.0.0.5'").contains("netmask: '255.255.255.0'")
                .contains("gateway: '10.0.0.1'").contains("- '1.1.1.1'").contains("- 'example.com'");
        assertThat((String) api.get("/nodes/pve1/qemu/220/cloudinit/dump", Map.of("type", "meta"))).startsWith("instance-id: ");
        destroy(220);
        assertThat(node.storageFiles()).noneMatch(f -> f.contains("/220/"));
    }

    @Test
    void importFromCopiesTheSourceImageIntoANewDisk() throws Exception {
        java.nio.file.Path source = node.dir().resolve("source.qcow2");
        ProcessRunner.of("qemu-img", "create", "-q", "-f", "qcow2", source.toString(), "48M").output();
        ProcessRunner.of("qemu-io", "-c", "write -P 0x5a 0 1M", source.toString()).output();
        create(221, Map.of("memory", "128", "scsi0", "local:0,import-from=" + source));
        String drive = node.service().configs().load(221).config().get("scsi0").orElseThrow();
        assertThat(drive).isEqualTo("local:221/vm-221-disk-0.raw,size=48M");
        ProcessRunner.of("qemu-img", "compare", "-f", "qcow2", "-F", "raw", source.toString(),
                node.service().volumes().path("local:221/vm-221-disk-0.raw").toString()).output();
        var ops = ApiClient.user("ops@pve");
        api.grant("ops@pve", "/vms/222", Privilege.VM_ALLOCATE, Privilege.VM_CONFIG_DISK);
        api.grant("ops@pve", "/storage/local", Privilege.DATASTORE_ALLOCATE_SPACE);
        assertThatThrownBy(() -> api.call(ops, HttpVerb.POST, "/nodes/pve1/qemu", Map.of("vmid", "222",
                "scsi0", "local:0,import-from=" + source))).isInstanceOf(PermissionDenied.class).hasMessageContaining("only root");
        destroy(221);
    }

    @Test
    void failingPreStartHookscriptAbortsTheStart() throws Exception {
        java.nio.file.Path snippets = node.node().dataDir().resolve("storage/local/snippets");
        java.nio.file.Files.createDirectories(snippets);
        java.nio.file.Path hook = snippets.resolve("refuse.sh");
        java.nio.file.Files.writeString(hook, "#!/bin/sh\n[ \"$2\" = pre-start ] && { echo no way >&2; exit 1; }\nexit 0\n");
        hook.toFile().setExecutable(true);
        create(223, Map.of("memory", "128", "kvm", "0", "hookscript", "local:snippets/refuse.sh"));
        String upid = (String) api.post("/nodes/pve1/qemu/223/status/start", Map.of());
        assertThat(node.await(upid, Duration.ofSeconds(30))).contains("hookscript error for 223 on pre-start").contains("no way");
        assertThat(node.service().driver().runtime().isRunning(223)).isFalse();
        destroy(223);
    }

    @Test
    void listShowsOnlyTheVmsTheCallerMayAudit() throws Exception {
        create(224, Map.of("memory", "128", "name", "seen"));
        create(225, Map.of("memory", "128", "name", "hidden"));
        api.grant("viewer@pve", "/vms/224", Privilege.VM_AUDIT);
        JsonNode list = (JsonNode) api.call(ApiClient.user("viewer@pve"), HttpVerb.GET, "/nodes/pve1/qemu", Map.of());
        assertThat(list).hasSize(1);
        assertThat(list.get(0).path("vmid").asInt()).isEqualTo(224);
        assertThat(list.get(0).path("status").asString()).isEqualTo("stopped");
        assertThat(list.get(0).path("maxmem").asLong()).isEqualTo(128L << 20);
        destroy(224);
        destroy(225);
    }

    @Test
    void newNicsTakeTheDatacenterMacPrefix() throws Exception {
        node.store().overwrite("datacenter.cfg", "keyboard: en-us\nmac_prefix: 02:AB\n");
        try {
            create(226, Map.of("memory", "128", "net0", "e1000", "net1", "virtio=BC:24:11:01:02:03"));
            var config = node.service().configs().load(226).config();
            assertThat(config.nets().get(0).print()).matches("e1000=02:AB:[0-9A-F:]{11}");
            assertThat(config.nets().get(1).mac()).contains("BC:24:11:01:02:03");
            // changing other properties keeps the MAC address
            api.put("/nodes/pve1/qemu/226/config", Map.of("net0", "e1000,link_down=1"));
            assertThat(node.service().configs().load(226).config().nets().get(0).mac()).isEqualTo(config.nets().get(0).mac());
            destroy(226);
        } finally {
            node.store().overwrite("datacenter.cfg", "");
        }
    }

    @Test
    void createFailingInItsTaskFreesWhatItAllocatedAndLeavesNoConfig() throws Exception {
        // a qcow2 whose header reads fine but whose first data cluster is unreadable, so only the conversion fails
        java.nio.file.Path corrupt = node.dir().resolve("corrupt.qcow2");
        ProcessRunner.of("qemu-img", "create", "-q", "-f", "qcow2", corrupt.toString(), "4M").output();
        ProcessRunner.of("qemu-io", "-c", "write -P 0x11 0 64k", corrupt.toString()).output();
        try (var file = new java.io.RandomAccessFile(corrupt.toFile(), "rw")) {
            file.seek(40);
            file.seek(file.readLong());
            file.seek(file.readLong() & 0x00fffffffffffe00L);
            file.writeLong(0x8000000000000000L | 0x10200L);
        }
        String upid = (String) api.post("/nodes/pve1/qemu", Map.of("vmid", "227", "scsi0", "local:1", "scsi1", "local:0,import-from=" + corrupt));
        assertThat(node.await(upid, Duration.ofSeconds(30))).isNotEqualTo("OK");
        assertThat(node.log(upid)).contains("scsi0: created disk local:227/vm-227-disk-0.raw").contains("cleaning up");
        assertThat(node.config(227)).isEmpty();
        assertThat(node.storageFiles()).noneMatch(f -> f.contains("/227/"));
        assertThatThrownBy(() -> api.post("/nodes/pve1/qemu", Map.of("vmid", "227", "scsi0", "local:1,format=qed")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("scsi0").hasMessageContaining("qed");
    }

    @Test
    void showcmdPrintsTheQemuCommandLineForRootOnly() throws Exception {
        create(228, Map.of("memory", "128", "kvm", "0", "serial0", "socket"));
        String cmd = (String) api.get("/nodes/pve1/qemu/228/showcmd", Map.of());
        assertThat(cmd).startsWith("qemu-system-x86_64 -name vm228,debug-threads=on ").contains("-accel tcg").contains("228.serial0");
        assertThat((String) api.get("/nodes/pve1/qemu/228/showcmd", Map.of("pretty", "1"))).contains(" \\\n  -m 128");
        api.grant("ops@pve", "/vms/228", Privilege.VM_AUDIT);
        assertThatThrownBy(() -> api.call(ApiClient.user("ops@pve"), HttpVerb.GET, "/nodes/pve1/qemu/228/showcmd", Map.of()))
                .isInstanceOf(PermissionDenied.class);
        destroy(228);
    }

    private static JsonNode find(JsonNode list, String key) {
        for (JsonNode item : list) {
            if (item.path("key").asString().equals(key)) {
                return item;
            }
        }
        throw new AssertionError("no pending entry for " + key + " in " + list);
    }
}
