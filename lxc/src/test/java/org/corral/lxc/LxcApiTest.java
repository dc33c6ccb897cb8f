package org.corral.lxc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;
import org.corral.core.config.ConfigStore;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.io.FileTrees;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The API's checks and answers that need no running container: every refusal leaves nothing behind. */
class LxcApiTest {
    private static final AuthContext ALICE = AuthContext.user("alice@pve", "127.0.0.1");

    private Path work;
    private TestLxc lxc;

    @BeforeEach
    void setUp() throws Exception {
        work = Fixtures.workDir("corral-lxc-api");
        lxc = new TestLxc(work).addStorage("local", "dir", work.resolve("local"));
        Path templates = Files.createDirectories(lxc.storage().templateDirectory("local"));
        Files.copy(Fixtures.busyboxTemplate(), templates.resolve("busybox.tar.gz"));
        Files.writeString(templates.resolve("notes.tar.gz"), "not an archive\n".repeat(100));
    }

    @AfterEach
    void tearDown() throws Exception {
        lxc.close();
        FileTrees.deleteTree(work);
    }

    private void writeConfig(int vmid, String text) {
        lxc.store().write(lxc.configPath(vmid), text, ConfigStore.NEW);
    }

    private void assertNothingLeft(int vmid) throws Exception {
        assertThat(lxc.store().read(lxc.configPath(vmid))).isEmpty();
        assertThat(lxc.allVolumes()).isEmpty();
    }

    private static Map<String, String> create(int vmid, String... extra) {
        Map<String, String> p = new java.util.LinkedHashMap<>();
        p.put("vmid", Integer.toString(vmid));
        p.put("ostemplate", "local:vztmpl/busybox.tar.gz");
        p.put("rootfs", "local:1");
        for (int i = 0; i < extra.length; i += 2) {
            p.put(extra[i], extra[i + 1]);
        }
        return p;
    }

    @Test
    void declarationsPassTheRegistryChecksAndExecIsAnExtension() {
        ApiRegistry registry = new ApiRegistry(lxc.service().apiModules());
        List<String> paths = registry.methods().stream().map(ApiMethod::toString).toList();
        assertThat(paths).contains("GET /nodes/{node}/lxc", "POST /nodes/{node}/lxc", "PUT /nodes/{node}/lxc/{vmid}/config",
                "POST /nodes/{node}/lxc/{vmid}/status/shutdown", "POST /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback",
                "GET /nodes/{node}/lxc/{vmid}/vncwebsocket", "GET /nodes/{node}/aplinfo");
        assertThat(registry.methods()).filteredOn(ApiMethod::isExtension).extracting(ApiMethod::toString)
                .containsExactly("POST /nodes/{node}/lxc/{vmid}/exec");
        assertThat(registry.methods()).allSatisfy(m -> m.parameters().values()
                .forEach(s -> assertThat(s.description()).as(m + " parameter").isPresent()));
    }

    @Test
    void missingContainerSaysItsConfigFileDoesNotExist() {
        assertThatThrownBy(() -> lxc.call(HttpVerb.GET, lxc.ct(999) + "/config", Map.of()))
                .isInstanceOf(NotFound.class).hasMessage("Configuration file 'nodes/pve1/lxc/999.conf' does not exist");
    }

    @Test
    void anotherNodeIsRefused() {
        assertThatThrownBy(() -> lxc.call(HttpVerb.GET, "/nodes/pve2/lxc", Map.of()))
                .isInstanceOfSatisfying(org.corral.core.error.ApiException.class, e -> assertThat(e.status()).isEqualTo(595))
                .hasMessage("no such cluster node 'pve2'");
    }

    @Test
    void lockedContainerRefusesChangesWithItsLockReason() throws Exception {
        writeConfig(120, "lock: backup\nmemory: 512\nostype: debian\nrootfs: local:120/subvol-120-disk-0.subvol,size=1G\n");
        assertThatThrownBy(() -> lxc.call(HttpVerb.PUT, lxc.ct(120) + "/config", Map.of("memory", "1024")))
                .isInstanceOf(Conflict.class).hasMessage("CT is locked (backup)");
        assertThatThrownBy(() -> lxc.call(HttpVerb.POST, lxc.ct(120) + "/status/start", Map.of()))
                .hasMessage("CT is locked (backup)");
        // root may remove a stale lock, as `pct unlock` does
        assertThat(lxc.call(HttpVerb.PUT, lxc.ct(120) + "/config", Map.of("delete", "lock"))).isNull();
        assertThat(lxc.store().read(lxc.configPath(120)).orElseThrow().text()).doesNotContain("lock");
    }

    @Test
    void invalidNet0IsRefusedAndNothingIsCreated() throws Exception {
        assertThatThrownBy(() -> lxc.call(HttpVerb.POST, "/nodes/pve1/lxc", create(130, "net0", "name=eth0,bridge=vmbr0,ip=10.0.0.300/24")))
                .isInstanceOf(ParameterError.class)
                .satisfies(e -> assertThat(((ParameterError) e).errors()).containsKey("net0"));
        assertThatThrownBy(() -> lxc.call(HttpVerb.POST, "/nodes/pve1/lxc", create(130, "net0", "name=eth0,ip6=fe80::zz/64")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("ip6");
        assertNothingLeft(130);
    }

    @Test
    void vmidTakenAnywhereInTheClusterIsRefused() throws Exception {
        lxc.store().write("nodes/pve2/qemu-server/131.conf", "memory: 512\n", ConfigStore.NEW);
        writeConfig(132, "memory: 512\nrootfs: local:132/subvol-132-disk-0.subvol,size=1G\n");
        assertThatThrownBy(() -> lxc.call(HttpVerb.POST, "/nodes/pve1/lxc", create(131)))
                .isInstanceOf(Conflict.class).hasMessage("VM 131 already exists on node 'pve2'");
        assertThatThrownBy(() -> lxc.call(HttpVerb.POST, "/nodes/pve1/lxc", create(132)))
                .isInstanceOf(Conflict.class).hasMessage("CT 132 already exists on node 'pve1'");
        assertThat(lxc.store().read(lxc.configPath(131))).isEmpty();
        assertThat(lxc.store().read(lxc.configPath(132)).orElseThrow().text()).isEqualTo("memory: 512\nrootfs: local:132/subvol-132-disk-0.subvol,size=1G\n");
        assertThat(lxc.allVolumes()).isEmpty();
    }

    @Test
    void templateThatIsNotAnArchiveIsRefusedAndNothingIsCreated() throws Exception {
        assertThatThrownBy(() -> lxc.call(HttpVerb.POST, "/nodes/pve1/lxc", create(133, "ostemplate", "local:vztmpl/notes.tar.gz")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("'notes.tar.gz' is not a template archive");
        assertThatThrownBy(() -> lxc.call(HttpVerb.POST, "/nodes/pve1/lxc", create(133, "ostemplate", "local:vztmpl/missing.tar.zst")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("does not exist");
        assertNothingLeft(133);
    }

    @Test
    void bindMountByNonRootIsRefusedAndNothingIsCreated() throws Exception {
        lxc.grant("alice@pve", "/vms/134", Privilege.VM_ALLOCATE, Privilege.VM_CONFIG_DISK, Privilege.VM_CONFIG_OPTIONS);
        lxc.grant("alice@pve", "/storage/local", Privilege.DATASTORE_ALLOCATE_SPACE, Privilege.DATASTORE_AUDIT);
        assertThatThrownBy(() -> lxc.call(ALICE, HttpVerb.POST, "/nodes/pve1/lxc", create(134, "mp0", "/srv,mp=/srv")))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("mount point type bind is only allowed for root@pam");
        assertNothingLeft(134);
        writeConfig(135, "memory: 512\nostype: debian\nrootfs: local:135/subvol-135-disk-0.subvol,size=1G\nunprivileged: 1\n");
        lxc.grant("alice@pve", "/vms/135", Privilege.VM_CONFIG_DISK);
        assertThatThrownBy(() -> lxc.call(ALICE, HttpVerb.PUT, lxc.ct(135) + "/config", Map.of("mp0", "/etc,mp=/host-etc")))
                .isInstanceOf(PermissionDenied.class);
        assertThat(lxc.store().read(lxc.configPath(135)).orElseThrow().text()).doesNotContain("mp0");
    }

    @Test
    void privilegedContainerNeedsSysModifyAndFeaturesBeyondNestingNeedRoot() throws Exception {
        lxc.grant("alice@pve", "/vms/136", Privilege.VM_ALLOCATE, Privilege.VM_CONFIG_DISK, Privilege.VM_CONFIG_OPTIONS);
        lxc.grant("alice@pve", "/storage/local", Privilege.DATASTORE_ALLOCATE_SPACE, Privilege.DATASTORE_AUDIT);
        assertThatThrownBy(() -> lxc.call(ALICE, HttpVerb.POST, "/nodes/pve1/lxc", create(136, "unprivileged", "0")))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("Sys.Modify");
        assertThatThrownBy(() -> lxc.call(ALICE, HttpVerb.POST, "/nodes/pve1/lxc", create(136, "features", "keyctl=1")))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("except nesting");
        assertThatThrownBy(() -> lxc.call(ALICE, HttpVerb.POST, "/nodes/pve1/lxc", create(136, "lxc", "lxc.apparmor.profile: unconfined")))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("root@pam");
        assertNothingLeft(136);
    }

    @Test
    void snapshotOnDirStorageIsRefusedAsProxmoxDoes() throws Exception {
        String text = "memory: 512\nostype: debian\nrootfs: local:137/subvol-137-disk-0.subvol,size=1G\n";
        writeConfig(137, text);
        assertThatThrownBy(() -> lxc.call(HttpVerb.POST, lxc.ct(137) + "/snapshot", Map.of("snapname", "first")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("snapshot feature is not available");
        assertThat(lxc.store().read(lxc.configPath(137)).orElseThrow().text()).isEqualTo(text);
        @SuppressWarnings("unchecked")
        Map<String, Object> feature = (Map<String, Object>) lxc.call(HttpVerb.GET, lxc.ct(137) + "/feature", Map.of("feature", "snapshot"));
        assertThat(feature).containsEntry("hasFeature", 0);
    }

    @Test
    @SuppressWarnings("unchecked")
    void stoppedContainerTakesConfigChangesAtOnceWithDigestCheck() throws Exception {
        writeConfig(138, "#my ct\narch: amd64\nmemory: 512\nonboot: 1\nostype: debian\n"
                + "rootfs: local:138/subvol-138-disk-0.subvol,size=1G\nswap: 512\nunprivileged: 1\nlxc.init.cmd: /sbin/init\n");
        Map<String, Object> config = (Map<String, Object>) lxc.call(HttpVerb.GET, lxc.ct(138) + "/config", Map.of());
        assertThat(config).containsEntry("memory", 512L).containsEntry("onboot", 1).containsEntry("description", "my ct\n")
                .containsEntry("lxc", List.of(List.of("lxc.init.cmd", "/sbin/init"))).containsKey("digest");
        String digest = (String) config.get("digest");
        lxc.call(HttpVerb.PUT, lxc.ct(138) + "/config", Map.of("memory", "1024", "delete", "onboot", "digest", digest,
                "net0", "name=eth0,bridge=vmbr0,ip=dhcp"));
        String text = lxc.store().read(lxc.configPath(138)).orElseThrow().text();
        assertThat(text).contains("memory: 1024\n").doesNotContain("onboot")
                .containsPattern("net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F:]{8},ip=dhcp,type=veth\n");
        assertThatThrownBy(() -> lxc.call(HttpVerb.PUT, lxc.ct(138) + "/config", Map.of("memory", "256", "digest", digest)))
                .isInstanceOf(Conflict.class).hasMessageContaining("file changed by other user");
        assertThatThrownBy(() -> lxc.call(HttpVerb.PUT, lxc.ct(138) + "/config", Map.of("delete", "memory")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("unable to delete required option 'memory'");
        assertThatThrownBy(() -> lxc.call(HttpVerb.PUT, lxc.ct(138) + "/config", Map.of("unprivileged", "0")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("read-only option");
        assertThat((List<Object>) lxc.call(HttpVerb.GET, lxc.ct(138) + "/pending", Map.of()))
                .noneMatch(e -> ((Map<String, Object>) e).containsKey("pending"));
    }

    @Test
    void existingVolumeOnAMountPointGetsItsSizeFromTheStorage() throws Exception {
        String volid = lxc.storage().allocate("local", 139, 2L << 30);
        writeConfig(139, "arch: amd64\nmemory: 512\nostype: debian\nrootfs: local:139/subvol-139-disk-9.subvol,size=1G\n");
        lxc.call(HttpVerb.PUT, lxc.ct(139) + "/config", Map.of("mp0", volid + ",mp=/data,size=5G"));
        String text = lxc.store().read(lxc.configPath(139)).orElseThrow().text();
        // a directory storage's subvolume has no quota: the storage reports 0, never the size the caller claimed
        assertThat(text).contains("mp0: " + volid + ",mp=/data,size=0T\n");
        lxc.storage().free(volid);
    }

    @Test
    void protectedContainerCannotBeDestroyed() {
        writeConfig(139, "memory: 512\nprotection: 1\nrootfs: local:139/subvol-139-disk-0.subvol,size=1G\n");
        assertThatThrownBy(() -> lxc.call(HttpVerb.DELETE, lxc.ct(139), Map.of("purge", "1")))
                .isInstanceOf(Conflict.class).hasMessage("can't remove CT 139 - protection mode enabled");
        assertThat(lxc.store().read(lxc.configPath(139))).isPresent();
    }

    @Test
    void nonRootUserSeesOnlyContainersItMayAudit() throws Exception {
        writeConfig(140, "hostname: a\nmemory: 512\nrootfs: local:140/subvol-140-disk-0.subvol,size=1G\n");
        writeConfig(141, "hostname: b\nmemory: 512\nrootfs: local:141/subvol-141-disk-0.subvol,size=1G\n");
        lxc.grant("alice@pve", "/vms/141", Privilege.VM_AUDIT);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> list = (List<Map<String, Object>>) lxc.call(ALICE, HttpVerb.GET, "/nodes/pve1/lxc", Map.of());
        assertThat(list).extracting(m -> m.get("vmid")).containsExactly(141);
        assertThat(list.getFirst()).containsEntry("status", "stopped").containsEntry("name", "b").containsEntry("maxmem", 512L << 20)
                .containsEntry("type", "lxc");
    }
}
