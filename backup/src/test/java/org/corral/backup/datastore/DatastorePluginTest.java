package org.corral.backup.datastore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.storage.ContentType;
import org.corral.storage.StorageConfig;
import org.corral.storage.StoragePlugin;
import org.corral.storage.Volume;
import org.corral.storage.VolumeId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DatastorePluginTest {
    private final DatastorePlugin plugin = new DatastorePlugin();

    @TempDir
    Path dir;

    private StorageConfig config(Path path) {
        return new StorageConfig("datastore", "ds", Map.of("path", path.toString()));
    }

    @Test
    void volumeNamesAreSnapshotsWithTheirOwner() {
        Volume volume = plugin.parseVolume("backup/ct/100/2026-11-01T10:00:00Z");
        assertThat(volume.content()).isEqualTo(ContentType.BACKUP);
        assertThat(volume.vmid()).contains(100);
        assertThat(DatastorePlugin.snapshot(volume.volname())).isEqualTo(new SnapshotId("ct", "100", Instant.parse("2026-11-01T10:00:00Z")));
        assertThat(plugin.parseVolume("backup/host/web/2026-11-01T10:00:00Z").vmid()).isEmpty();
        assertThat(VolumeId.parse("ds:backup/vm/101/2026-11-01T10:00:00Z").volname()).isEqualTo("backup/vm/101/2026-11-01T10:00:00Z");
    }

    @ParameterizedTest
    @ValueSource(strings = {"backup/ct/100", "backup/xx/100/2026-11-01T10:00:00Z", "ct/100/2026-11-01T10:00:00Z",
            "backup/ct/100/2026-11-01T10:00:00.5Z", "backup/ct/100/2026-11-01T10:00Z", "backup/ct/../2026-11-01T10:00:00Z",
            "backup/ct/1:0/2026-11-01T10:00:00Z", "backup/ct/100/2026-11-01T10:00:00+01:00"})
    void otherNamesAreRefused(String volname) {
        assertThatThrownBy(() -> plugin.parseVolume(volname)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void colonsStayRefusedOutsideASnapshotTime() {
        assertThatThrownBy(() -> VolumeId.parse("local:iso/a:b.iso")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> VolumeId.parse("local:nbd:127.0.0.1:10809")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void activationCreatesTheDatastoreOnlyInAnEmptyDirectory() throws Exception {
        Path fresh = dir.resolve("fresh");
        assertThat(plugin.availability(config(fresh)).active()).isTrue();
        plugin.activate(config(fresh));
        assertThat(fresh.resolve(".corral-datastore")).exists();
        assertThat(plugin.list(config(fresh), Optional.empty(), Set.of(ContentType.BACKUP))).isEmpty();

        Path used = Files.createDirectories(dir.resolve("used"));
        Files.writeString(used.resolve("somefile"), "x");
        assertThat(plugin.availability(config(used)).reason()).hasValueSatisfying(r -> assertThat(r).contains("neither a datastore nor empty"));
    }

    @Test
    void encryptionKeyIsKeptPrivateAndShownByFingerprint() {
        StoragePlugin.PrivateOption generated = plugin.keepPrivate("encryption-key", "autogen");
        CryptKey key = CryptKey.parse(generated.privateText());
        assertThat(generated.shown()).isEqualTo(key.fingerprint()).doesNotContain(generated.privateText());
        assertThat(generated.privateText()).doesNotContain("\n");

        CryptKey given = CryptKey.generate();
        assertThat(plugin.keepPrivate("encryption-key", given.toJson()).shown()).isEqualTo(given.fingerprint());
        assertThatThrownBy(() -> plugin.keepPrivate("encryption-key", "not json")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> plugin.keepPrivate("encryption-key", "{\"kdf\":\"scrypt\",\"key\":\"\"}"))
                .hasMessageContaining("kdf 'scrypt'");
    }
}
