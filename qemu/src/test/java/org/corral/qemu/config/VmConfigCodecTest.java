package org.corral.qemu.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class VmConfigCodecTest {
    static String resource(String name) throws IOException {
        try (InputStream in = VmConfigCodecTest.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"full.conf", "minimal.conf", "template.conf"})
    void proxmoxWrittenConfigsRoundTripByteForByte(String name) throws IOException {
        String text = resource("/configs/" + name);
        assertThat(VmConfigCodec.write(VmConfigCodec.parse(text))).isEqualTo(text);
    }

    @Test
    void descriptionCommentsAreDecodedAndSectionsSeparated() throws IOException {
        VmConfig config = VmConfigCodec.parse(resource("/configs/full.conf"));
        assertThat(config.description()).contains("Web server: production\nSecond line with ümlaut");
        assertThat(config.pending()).containsEntry("memory", "4096").containsEntry("delete", "balloon,!unused0");
        assertThat(config.pendingDeletes()).containsExactly(new VmConfig.PendingDelete("balloon", false),
                new VmConfig.PendingDelete("unused0", true));
        assertThat(config.snapshots()).containsOnlyKeys("before-upgrade", "clean");
        assertThat(config.snapshots().get("before-upgrade")).containsEntry("description", "Before the upgrade")
                .containsEntry("vmstate", "local:100/vm-100-state-before-upgrade.raw");
        assertThat(config.parent()).contains("before-upgrade");
        assertThat(config.memoryMiB()).isEqualTo(2048);
    }

    @Test
    void writerSortsKeysAndEscapesColonsAndNonAscii() {
        VmConfig config = VmConfig.empty().with("name", "b").with("cores", "2").with("description", "a: b\né");
        assertThat(VmConfigCodec.write(config)).isEqualTo("#a%3A b\n#%C3%A9\ncores: 2\nname: b\n");
    }

    @Test
    void emptyPendingDescriptionIsWrittenAsBareHash() {
        VmConfig config = VmConfig.empty().with("memory", "512").withPending(Map.of("description", ""));
        assertThat(VmConfigCodec.write(config)).isEqualTo("memory: 512\n\n[PENDING]\n#\n");
    }

    @Test
    void oldCdromKeyIsReadAsIde2() {
        assertThat(VmConfigCodec.parse("cdrom: none,media=cdrom\n").get("ide2")).contains("none,media=cdrom");
    }

    @Test
    void garbageLineIsRefusedWithItsNumber() {
        assertThatThrownBy(() -> VmConfigCodec.parse("memory: 512\nthis is not a config line\n"))
                .hasMessageContaining("line 2");
    }

    @Test
    void referencedVolumesCoverSnapshotsPendingAndUnused() throws IOException {
        VmConfig config = VmConfigCodec.parse(resource("/configs/full.conf")).with("unused0", "local:100/vm-100-disk-9.qcow2");
        assertThat(config.referencedVolumes(false)).containsExactlyInAnyOrder("local:100/vm-100-disk-0.qcow2",
                "local:100/vm-100-disk-1.raw", "local:100/vm-100-disk-9.qcow2", "local:100/vm-100-state-before-upgrade.raw");
    }
}
