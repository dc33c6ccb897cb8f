package org.corral.storage.api;

import org.corral.core.config.InMemoryConfigStore;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.corral.core.api.HttpVerb;
import org.corral.core.error.ApiException;
import org.corral.storage.FakeHost;
import org.corral.storage.PluginRegistry;
import org.corral.storage.StorageException;
import org.corral.storage.TestStorage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /nodes/{node}/storage}: state, space and filters, on a host without LVM (a fake one, so the answer is the same everywhere). */
class NodeStorageApiTest {
    @TempDir
    Path dir;

    private TestStorage storage;

    @BeforeEach
    void start() throws Exception {
        // this fake host has what dir needs (nothing) and lacks device-mapper and LVM
        FakeHost host = new FakeHost(java.util.Set.of("btrfs"), java.util.Set.of());
        storage = new TestStorage(dir, new InMemoryConfigStore(), PluginRegistry.standard(host));
        storage.service().initialize();
        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "thin", "type", "lvmthin", "vgname", "pve", "thinpool", "data"));
        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "off", "type", "dir", "path", dir.resolve("off").toString(), "disable", "1"));
        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "elsewhere", "type", "dir", "path", "/srv/x", "nodes", "pve2"));
    }

    @AfterEach
    void stop() {
        storage.close();
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> index(Map<String, String> params) throws Exception {
        return (List<Map<String, Object>>) storage.call(HttpVerb.GET, "/nodes/pve1/storage", params);
    }

    private Map<String, Object> row(String id) throws Exception {
        return index(Map.of()).stream().filter(r -> r.get("storage").equals(id)).findFirst().orElseThrow();
    }

    @Test
    void activeDirStorageReportsItsSpace() throws Exception {
        Map<String, Object> local = row("local");

        assertThat(local).containsEntry("type", "dir").containsEntry("active", 1).containsEntry("enabled", 1).containsEntry("shared", 0)
                .containsEntry("content", "images,rootdir,vztmpl,iso,backup,snippets,import").doesNotContainKey("reason");
        assertThat((Long) local.get("total")).isPositive();
        assertThat((Long) local.get("avail")).isPositive().isLessThanOrEqualTo((Long) local.get("total"));
        assertThat((Double) local.get("used_fraction")).isBetween(0.0, 1.0);
    }

    @Test
    void lvmThinWithoutDeviceMapperIsInactiveWithTheReason() throws Exception {
        assertThat(row("thin")).containsEntry("active", 0).containsEntry("enabled", 1).containsEntry("total", 0L)
                .containsEntry("reason", "device-mapper is not available on this host (no /dev/mapper/control)");
        assertThatThrownBy(() -> storage.call(HttpVerb.GET, "/nodes/pve1/storage/thin/content", Map.of()))
                .isInstanceOf(StorageException.class)
                .hasMessage("storage 'thin' is not available: device-mapper is not available on this host (no /dev/mapper/control)");
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/nodes/pve1/storage/thin/content",
                Map.of("vmid", "100", "filename", "vm-100-disk-0", "size", "1G")))
                .hasMessageContaining("device-mapper is not available");
    }

    @Test
    void disabledStorageIsListedAsNotEnabledAndStoragesOfOtherNodesNotAtAll() throws Exception {
        assertThat(row("off")).containsEntry("enabled", 0).containsEntry("active", 0).containsEntry("reason", "storage is disabled");
        assertThat(index(Map.of())).extracting(r -> r.get("storage")).doesNotContain("elsewhere");
        assertThat(index(Map.of("enabled", "1"))).extracting(r -> r.get("storage")).containsExactly("local", "thin");
    }

    @Test
    void filtersByContentStorageAndFormats() throws Exception {
        assertThat(index(Map.of("content", "iso"))).extracting(r -> r.get("storage")).containsExactly("local");
        assertThat(index(Map.of("content", "rootdir,images"))).extracting(r -> r.get("storage")).containsExactly("local", "thin", "off");
        assertThat(index(Map.of("storage", "thin"))).extracting(r -> r.get("storage")).containsExactly("thin");
        assertThat(index(Map.of("storage", "local", "format", "1")).get(0).get("format"))
                .isEqualTo(List.of(new java.util.TreeMap<>(Map.of("qcow2", 1, "raw", 1, "subvol", 1, "vmdk", 1)), "raw"));
        assertThat(index(Map.of("target", "pve2"))).isEmpty();
    }

    @Test
    void statusOfOneStorage() throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> status = (Map<String, Object>) storage.call(HttpVerb.GET, "/nodes/pve1/storage/local/status", Map.of());

        assertThat(status).containsEntry("type", "dir").containsEntry("active", 1).doesNotContainKey("storage");
        // the index lists what is declared below it, nothing else
        assertThat(storage.call(HttpVerb.GET, "/nodes/pve1/storage/local", Map.of())).asList()
                .containsExactly(Map.of("subdir", "content"), Map.of("subdir", "download-url"), Map.of("subdir", "export"),
                        Map.of("subdir", "import"), Map.of("subdir", "status"), Map.of("subdir", "upload"));
    }

    @Test
    void anotherNodeNameIsAnUnknownClusterNode() {
        assertThatThrownBy(() -> storage.call(HttpVerb.GET, "/nodes/pve9/storage", Map.of()))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(595))
                .hasMessage("no such cluster node 'pve9'");
    }
}
