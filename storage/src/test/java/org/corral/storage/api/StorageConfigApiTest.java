package org.corral.storage.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.HttpVerb;
import org.corral.core.config.ConfigFile;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.storage.StorageService;
import org.corral.storage.TestStorage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /storage} through the API dispatcher, against an in-memory config store. */
class StorageConfigApiTest {
    @TempDir
    Path dir;

    private TestStorage storage;

    @BeforeEach
    void start() {
        storage = new TestStorage(dir);
        storage.service().initialize();
    }

    @AfterEach
    void stop() {
        storage.close();
    }

    private String cfg() {
        return storage.store().read(StorageService.CONFIG).map(ConfigFile::text).orElse("");
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> list(Object answer) {
        return (List<Map<String, Object>>) answer;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> map(Object answer) {
        return (Map<String, Object>) answer;
    }

    @Test
    void freshNodeListsLocalWithItsDigest() throws Exception {
        List<Map<String, Object>> storages = list(storage.call(HttpVerb.GET, "/storage", Map.of()));

        assertThat(storages).singleElement().satisfies(s -> {
            assertThat(s).containsEntry("storage", "local").containsEntry("type", "dir")
                    .containsEntry("content", "iso,vztmpl,backup,images,rootdir,snippets,import")
                    .containsEntry("digest", org.corral.core.config.Digest.sha1Hex(cfg()));
            assertThat(s.get("path")).isEqualTo(storage.node().dataDir().resolve("storage/local").toString());
        });
        assertThat(cfg()).isEqualTo("dir: local\n\tpath " + storage.node().dataDir().resolve("storage/local")
                + "\n\tcontent iso,vztmpl,backup,images,rootdir,snippets,import\n\n");
    }

    @Test
    void createWritesTheSectionInProxmoxFormatAfterTheOthers() throws Exception {
        Object answer = storage.call(HttpVerb.POST, "/storage", Map.of("storage", "backup", "type", "dir",
                "path", "/srv/backup", "content", "backup;iso,backup", "shared", "1", "prune-backups", "keep-last=3", "disable", "0"));

        assertThat(map(answer)).containsEntry("storage", "backup").containsEntry("type", "dir");
        assertThat(cfg()).endsWith("\n\ndir: backup\n\tpath /srv/backup\n\tshared 1\n\tdisable 0\n\tcontent backup,iso\n\tprune-backups keep-last=3\n\n");
        Map<String, Object> read = map(storage.call(HttpVerb.GET, "/storage/backup", Map.of()));
        assertThat(read).containsEntry("shared", 1).containsEntry("disable", 0).containsEntry("prune-backups", "keep-last=3");
    }

    @Test
    void typeSpecificOptionsAreCheckedAndBadInputChangesNothing() {
        String before = cfg();

        assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/storage", Map.of("storage", "x1", "type", "dir", "path", "/x", "vgname", "pve")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors())
                        .containsEntry("vgname", "option 'vgname' is not allowed for storage type 'dir'"));
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/storage", Map.of("storage", "thin", "type", "lvmthin", "vgname", "pve")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors())
                        .containsEntry("thinpool", "property is missing and it is not optional"));
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/storage", Map.of("storage", "vg", "type", "lvm", "vgname", "pve", "content", "iso")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors().get("content")).contains("does not support content type(s) iso"));
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/storage", Map.of("storage", "d2", "type", "dir", "path", "/a/../etc")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("path"));
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/storage", Map.of("storage", "d3", "type", "dir", "path", "/x", "format", "subvol2")))
                .isInstanceOf(ParameterError.class);
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/storage", Map.of("storage", "Bad", "type", "dir", "path", "/x")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("storage"));
        assertThat(cfg()).isEqualTo(before);
    }

    @Test
    void duplicateStorageIdIsAConflict() {
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/storage", Map.of("storage", "local", "type", "dir", "path", "/x")))
                .isInstanceOf(Conflict.class).hasMessageContaining("storage ID 'local' already defined");
    }

    @Test
    void networkStoragesGetTheirMountPointAndAreShared() throws Exception {
        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "nas", "type", "nfs", "server", "192.0.2.10", "export", "/export/pve",
                "content", "images,iso", "options", "vers=4.2"));

        assertThat(cfg()).contains("nfs: nas\n\tpath /mnt/pve/nas\n\tserver 192.0.2.10\n\texport /export/pve\n\toptions vers=4.2\n\tcontent images,iso\n\n");
        assertThat(map(storage.call(HttpVerb.GET, "/storage/nas", Map.of()))).containsEntry("shared", 1);
    }

    @Test
    void passwordsAreKeptOutOfStorageCfg() throws Exception {
        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "smb", "type", "cifs", "server", "files.example.com", "share", "vms",
                "username", "pve", "password", "s3cret", "domain", "EXAMPLE"));

        assertThat(cfg()).contains("cifs: smb\n").doesNotContain("s3cret").doesNotContain("password");
        assertThat(storage.store().read("priv/storage/smb.pw").orElseThrow().text()).isEqualTo("s3cret\n");
        assertThat(map(storage.call(HttpVerb.GET, "/storage/smb", Map.of()))).doesNotContainKey("password");

        storage.call(HttpVerb.DELETE, "/storage/smb", Map.of());
        assertThat(storage.store().read("priv/storage/smb.pw")).isEmpty();
    }

    @Test
    void updateKeepsOptionOrderAndAppendsNewOptions() throws Exception {
        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "data", "type", "dir", "path", "/srv/data", "content", "images"));

        storage.call(HttpVerb.PUT, "/storage/data", Map.of("content", "images,rootdir", "nodes", "pve1", "preallocation", "off"));

        assertThat(cfg()).endsWith("dir: data\n\tpath /srv/data\n\tcontent images,rootdir\n\tnodes pve1\n\tpreallocation off\n\n");
        storage.call(HttpVerb.PUT, "/storage/data", Map.of("delete", "nodes,preallocation"));
        assertThat(cfg()).endsWith("dir: data\n\tpath /srv/data\n\tcontent images,rootdir\n\n");
    }

    @Test
    void updateWithAStaleDigestIsRefused() throws Exception {
        String digest = (String) map(storage.call(HttpVerb.GET, "/storage/local", Map.of())).get("digest");
        storage.call(HttpVerb.PUT, "/storage/local", Map.of("content", "iso", "digest", digest));
        String after = cfg();

        assertThatThrownBy(() -> storage.call(HttpVerb.PUT, "/storage/local", Map.of("content", "images", "digest", digest)))
                .isInstanceOf(Conflict.class).hasMessageContaining("file changed by other user");
        assertThat(cfg()).isEqualTo(after);
    }

    @Test
    void fixedAndRequiredOptionsCannotChangeOrGo() {
        assertThatThrownBy(() -> storage.call(HttpVerb.PUT, "/storage/local", Map.of("path", "/elsewhere")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors())
                        .containsEntry("path", "can't change value of fixed parameter 'path'"));
        assertThatThrownBy(() -> storage.call(HttpVerb.PUT, "/storage/local", Map.of("delete", "path")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("delete"));
        assertThatThrownBy(() -> storage.call(HttpVerb.PUT, "/storage/local", Map.of("content", "iso", "delete", "content")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors().get("content")).contains("at the same time"));
    }

    @Test
    void deleteRemovesTheSectionButNotTheData() throws Exception {
        Path data = dir.resolve("keep");
        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "keep", "type", "dir", "path", data.toString()));
        storage.service().state("keep");

        storage.call(HttpVerb.DELETE, "/storage/keep", Map.of());

        assertThat(cfg()).doesNotContain("keep");
        assertThat(data.resolve("images")).isDirectory();
        assertThatThrownBy(() -> storage.call(HttpVerb.GET, "/storage/keep", Map.of())).isInstanceOf(NotFound.class);
        assertThatThrownBy(() -> storage.call(HttpVerb.DELETE, "/storage/keep", Map.of())).isInstanceOf(NotFound.class);
    }

    @Test
    void usersSeeOnlyStoragesTheyMayAudit() throws Exception {
        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "other", "type", "dir", "path", "/srv/other"));
        AuthContext user = AuthContext.user("auditor@pve", "127.0.0.1");
        storage.grant("auditor@pve", "/storage/other", Privilege.DATASTORE_AUDIT);

        assertThat(list(storage.call(user, HttpVerb.GET, "/storage", Map.of()))).extracting(s -> s.get("storage")).containsExactly("other");
        assertThatThrownBy(() -> storage.call(user, HttpVerb.POST, "/storage", Map.of("storage", "x1", "type", "dir", "path", "/x")))
                .isInstanceOf(PermissionDenied.class).hasMessageContaining("/storage, Datastore.Allocate");
        assertThatThrownBy(() -> storage.call(user, HttpVerb.GET, "/storage/other", Map.of())).isInstanceOf(PermissionDenied.class);
    }

    @Test
    void typeFilterListsOnlyThatType() throws Exception {
        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "thin", "type", "lvmthin", "vgname", "pve", "thinpool", "data"));

        assertThat(list(storage.call(HttpVerb.GET, "/storage", Map.of("type", "lvmthin")))).extracting(s -> s.get("storage"))
                .containsExactly("thin");
        assertThatThrownBy(() -> storage.call(HttpVerb.GET, "/storage", Map.of("type", "nosuchtype"))).isInstanceOf(ApiException.class);
    }
}
