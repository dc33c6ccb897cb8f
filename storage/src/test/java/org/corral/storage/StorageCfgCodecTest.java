package org.corral.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.corral.core.config.ConfigWriter;
import org.corral.core.error.ParameterError;
import org.junit.jupiter.api.Test;

class StorageCfgCodecTest {
    private static String resource(String name) throws IOException {
        try (InputStream in = StorageCfgCodecTest.class.getResourceAsStream("/codec/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void goldenFileRoundTripsByteForByte() throws IOException {
        String golden = resource("golden.cfg");

        StorageCfg cfg = StorageCfgCodec.parse(golden, 3);

        assertThat(StorageCfgCodec.write(cfg.list())).isEqualTo(golden);
        assertThat(cfg.version()).isEqualTo(3);
        assertThat(cfg.digest()).isEqualTo(org.corral.core.config.Digest.sha1Hex(golden));
    }

    @Test
    void sectionsAndOptionsKeepFileOrder() throws IOException {
        StorageCfg cfg = StorageCfgCodec.parse(resource("golden.cfg"), 0);

        assertThat(cfg.storages().keySet()).containsExactly("local", "local-lvm", "nas", "backup", "fast");
        assertThat(cfg.get("nas").orElseThrow().options().keySet())
                .containsExactly("export", "path", "server", "content", "prune-backups", "options");
        StorageConfig backup = cfg.get("backup").orElseThrow();
        assertThat(backup.type()).isEqualTo("dir");
        assertThat(backup.disabled()).isTrue();
        assertThat(backup.nodes()).containsExactly("pve1", "pve2");
        assertThat(backup.availableOn("pve3")).isFalse();
        assertThat(backup.option("max-protected-backups")).contains("3");
    }

    @Test
    void handWrittenFileWithSpacesCommentsAndBareFlagsIsRead() throws IOException {
        StorageCfg cfg = StorageCfgCodec.parse(resource("handwritten.cfg"), 0);

        assertThat(cfg.storages().keySet()).containsExactly("local", "tank", "ceph");
        StorageConfig local = cfg.get("local").orElseThrow();
        assertThat(local.option("content")).contains("iso,vztmpl,backup");
        assertThat(local.option("disable")).contains("1");
        assertThat(cfg.get("tank").orElseThrow().option("pool")).contains("rpool/data");
        // a header right after options, without a blank line, still starts a new section
        assertThat(cfg.get("ceph").orElseThrow().option("krbd")).contains("0");
    }

    @Test
    void rewritingAHandWrittenFileNormalisesItOnceAndThenRoundTrips() throws IOException {
        String normalised = StorageCfgCodec.write(StorageCfgCodec.parse(resource("handwritten.cfg"), 0).list());

        assertThat(normalised).startsWith("dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\tdisable 1\n\nzfspool: tank\n");
        assertThat(StorageCfgCodec.write(StorageCfgCodec.parse(normalised, 0).list())).isEqualTo(normalised);
    }

    @Test
    void invalidStorageIdsAndDuplicatesAreSkipped() {
        StorageCfg cfg = StorageCfgCodec.parse("dir: Bad_ID\n\tpath /x\n\ndir: ok\n\tpath /a\n\ndir: ok\n\tpath /b\n", 0);

        assertThat(cfg.storages().keySet()).containsExactly("ok");
        assertThat(cfg.get("ok").orElseThrow().option("path")).contains("/a");
    }

    @Test
    void writingRefusesValuesThatWouldBreakTheFormat() {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("path", "/x\ninjected 1");

        assertThatThrownBy(() -> StorageCfgCodec.write(List.of(new StorageConfig("dir", "x1", options))))
                .isInstanceOf(ParameterError.class)
                .satisfies(e -> assertThat(((ParameterError) e).errors()).containsEntry("path", ConfigWriter.CONTROL_CHARACTERS));
        assertThatThrownBy(() -> StorageCfgCodec.write(List.of(new StorageConfig("dir", "a b", Map.of()))))
                .isInstanceOf(ParameterError.class)
                .satisfies(e -> assertThat(((ParameterError) e).errors()).containsKey("storage"));
    }

    @Test
    void emptyFileHasNoStorages() {
        assertThat(StorageCfgCodec.parse("", 0).storages()).isEmpty();
        assertThat(StorageCfgCodec.write(List.of())).isEmpty();
    }
}
