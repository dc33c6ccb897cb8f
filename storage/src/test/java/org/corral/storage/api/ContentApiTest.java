package org.corral.storage.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.HttpVerb;
import org.corral.core.error.Conflict;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.task.TaskStatus;
import org.corral.storage.TestStorage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /nodes/{node}/storage/{storage}/content} on the local dir storage. */
class ContentApiTest {
    private static final String CONTENT = "/nodes/pve1/storage/local/content";

    @TempDir
    Path dir;

    private TestStorage storage;
    private Path local;

    @BeforeEach
    void start() {
        storage = new TestStorage(dir);
        storage.service().initialize();
        storage.service().state("local");
        local = storage.node().dataDir().resolve("storage/local");
    }

    @AfterEach
    void stop() {
        storage.close();
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> content(Map<String, String> params) throws Exception {
        return (List<Map<String, Object>>) storage.call(HttpVerb.GET, CONTENT, params);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> volume(String volid) throws Exception {
        return (Map<String, Object>) storage.callVolume(TestStorage.ROOT, HttpVerb.GET, "local", volid, Map.of());
    }

    @Test
    void allocatesListsAndDescribesADisk() throws Exception {
        Object volid = storage.call(HttpVerb.POST, CONTENT, Map.of("vmid", "100", "filename", "vm-100-disk-0.qcow2", "size", "1G"));
        storage.call(HttpVerb.POST, CONTENT, Map.of("vmid", "101", "filename", "vm-101-disk-0", "size", "4096", "format", "raw"));
        Files.writeString(local.resolve("template/iso/tiny.iso"), "iso");

        assertThat(volid).isEqualTo("local:100/vm-100-disk-0.qcow2");
        assertThat(content(Map.of())).extracting(v -> v.get("volid"))
                .containsExactly("local:100/vm-100-disk-0.qcow2", "local:101/vm-101-disk-0.raw", "local:iso/tiny.iso");
        assertThat(content(Map.of("vmid", "100"))).singleElement().satisfies(v -> assertThat(v)
                .containsEntry("content", "images").containsEntry("format", "qcow2").containsEntry("size", 1L << 30).containsEntry("vmid", 100));
        assertThat(content(Map.of("content", "iso"))).singleElement().satisfies(v -> assertThat(v)
                .containsEntry("volid", "local:iso/tiny.iso").containsEntry("format", "iso").containsEntry("size", 3L));
        assertThat(volume("local:100/vm-100-disk-0.qcow2")).containsEntry("format", "qcow2").containsEntry("size", 1L << 30)
                .containsEntry("path", local.resolve("images/100/vm-100-disk-0.qcow2").toString()).containsEntry("protected", 0);
        assertThat(volume("101/vm-101-disk-0.raw")).containsEntry("size", 4L << 20);
    }

    @Test
    void formatInTheNameMustMatchTheFormatParameter() {
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, CONTENT, Map.of("vmid", "100", "filename", "vm-100-disk-0.qcow2", "size", "1G",
                "format", "raw"))).isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("format"));
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, CONTENT, Map.of("vmid", "100", "filename", "vm-100-disk-0", "size", "1.5G")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("size"));
    }

    @Test
    void notesAndProtectionAreStoredAndProtectedVolumesAreNotDeleted() throws Exception {
        Path backup = local.resolve("dump/vzdump-qemu-100-2026_01_01-00_00_00.vma.zst");
        Files.writeString(backup, "backup");
        String volid = "local:backup/vzdump-qemu-100-2026_01_01-00_00_00.vma.zst";

        storage.callVolume(TestStorage.ROOT, HttpVerb.PUT, "local", volid, Map.of("notes", "before upgrade", "protected", "1"));

        assertThat(content(Map.of("content", "backup"))).singleElement().satisfies(v -> assertThat(v)
                .containsEntry("notes", "before upgrade").containsEntry("protected", 1).containsEntry("vmid", 100).containsEntry("format", "vma.zst"));
        assertThatThrownBy(() -> storage.callVolume(TestStorage.ROOT, HttpVerb.DELETE, "local", volid, Map.of()))
                .isInstanceOf(Conflict.class).hasMessageContaining("is protected");
        assertThat(backup).exists();

        storage.callVolume(TestStorage.ROOT, HttpVerb.PUT, "local", volid, Map.of("protected", "0"));
        Object result = storage.callVolume(TestStorage.ROOT, HttpVerb.DELETE, "local", volid, Map.of("delay", "10"));
        assertThat(result).isNull();
        assertThat(backup).doesNotExist();
        assertThat(backup.resolveSibling(backup.getFileName() + ".notes")).doesNotExist();
    }

    @Test
    void deleteAnswersTheUpidOfTheRemovalTask() throws Exception {
        storage.call(HttpVerb.POST, CONTENT, Map.of("vmid", "100", "filename", "vm-100-disk-0.raw", "size", "1M"));

        Object upid = storage.callVolume(TestStorage.ROOT, HttpVerb.DELETE, "local", "100/vm-100-disk-0.raw", Map.of());

        assertThat(upid).asString().startsWith("UPID:pve1:").contains(":imgdel::root@pam:");
        TaskStatus status = storage.await((String) upid);
        assertThat(status.exitstatus()).contains("OK");
        assertThat(local.resolve("images/100/vm-100-disk-0.raw")).doesNotExist();
    }

    @Test
    void volumeOfAnotherStorageIsRefused() {
        assertThatThrownBy(() -> storage.callVolume(TestStorage.ROOT, HttpVerb.GET, "local", "other:iso/x.iso", Map.of()))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors().get("volume")).contains("storage ID mismatch"));
    }

    @Test
    void allocationNeedsAllocateSpaceAndListingHidesOtherGuestsVolumes() throws Exception {
        storage.call(HttpVerb.POST, CONTENT, Map.of("vmid", "100", "filename", "vm-100-disk-0.raw", "size", "1M"));
        storage.call(HttpVerb.POST, CONTENT, Map.of("vmid", "200", "filename", "vm-200-disk-0.raw", "size", "1M"));
        AuthContext user = AuthContext.user("ops@pve", "127.0.0.1");
        storage.grant("ops@pve", "/storage/local", Privilege.DATASTORE_AUDIT);
        storage.grant("ops@pve", "/vms/100", Privilege.VM_AUDIT);

        assertThat(content(user)).extracting(v -> v.get("volid")).containsExactly("local:100/vm-100-disk-0.raw");
        assertThatThrownBy(() -> storage.call(user, HttpVerb.POST, CONTENT, Map.of("vmid", "100", "filename", "vm-100-disk-1", "size", "1M")))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("/storage/local, Datastore.AllocateSpace");
        assertThatThrownBy(() -> storage.callVolume(user, HttpVerb.GET, "local", "200/vm-200-disk-0.raw", Map.of()))
                .isInstanceOf(PermissionDenied.class);
        assertThatThrownBy(() -> storage.callVolume(user, HttpVerb.DELETE, "local", "100/vm-100-disk-0.raw", Map.of()))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("Datastore.Allocate");
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> content(AuthContext user) throws Exception {
        return (List<Map<String, Object>>) storage.call(user, HttpVerb.GET, CONTENT, Map.of());
    }

    @Test
    void containerVolumeAndVmDiskCreatedThroughTheApiLandOnTheStorage() throws Exception {
        Object ct = storage.call(HttpVerb.POST, CONTENT, Map.of("vmid", "300", "filename", "subvol-300-disk-0.subvol", "size", "0"));
        Object vm = storage.call(HttpVerb.POST, CONTENT, Map.of("vmid", "301", "filename", "vm-301-disk-0", "size", "8M", "format", "qcow2"));

        assertThat(ct).isEqualTo("local:300/subvol-300-disk-0.subvol");
        assertThat(local.resolve("images/300/subvol-300-disk-0.subvol")).isDirectory();
        assertThat(vm).isEqualTo("local:301/vm-301-disk-0.qcow2");
        assertThat(content(Map.of("content", "rootdir"))).extracting(v -> v.get("volid")).containsExactly(ct);
    }
}
