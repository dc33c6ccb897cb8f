package org.corral.lxc.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.corral.core.config.ConfigWriter;
import org.corral.core.error.ParameterError;
import org.junit.jupiter.api.Test;

class CtConfigCodecTest {
    static String golden(String name) throws IOException {
        try (InputStream in = CtConfigCodecTest.class.getResourceAsStream("/golden/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void proxmoxWrittenConfigRoundTripsByteForByte() throws IOException {
        String text = golden("config/proxmox-written.conf");
        assertThat(CtConfigCodec.write(CtConfigCodec.parse(text))).isEqualTo(text);
    }

    @Test
    void parseReadsDescriptionOptionsRawKeysPendingAndSnapshots() throws IOException {
        CtConfig config = CtConfigCodec.parse(golden("config/proxmox-written.conf"));
        assertThat(config.main().description()).isEqualTo("Web server: front end\n100% managed by ops, café edition\n");
        assertThat(config.main().get("memory")).contains("256");
        assertThat(config.main().lxc()).containsExactly(
                new CtSection.RawKey("lxc.apparmor.profile", "unconfined"),
                new CtSection.RawKey("lxc.cgroup2.devices.allow", "c 10:200 rwm"),
                new CtSection.RawKey("lxc.cgroup2.devices.allow", "c 10:229 rwm"));
        assertThat(config.pending().options()).containsExactly(Map.entry("cores", "2"), Map.entry("delete", "tags,onboot"));
        assertThat(config.snapshots()).containsOnlyKeys("before");
        assertThat(config.snapshots().get("before").description()).isEqualTo("snapshot before upgrade\n");
        assertThat(config.snapshots().get("before").get("snaptime")).contains("1700000000");
    }

    @Test
    void writeSortsKeysAndPutsRawKeysLast() {
        CtSection main = CtSection.of(Map.of("memory", "512", "arch", "amd64", "hostname", "a"))
                .withLxc(List.of(new CtSection.RawKey("lxc.init.cmd", "/sbin/my-init")))
                .withDescription("two\nlines\n");
        assertThat(CtConfigCodec.write(CtConfig.of(main))).isEqualTo(
                "#two\n#lines\narch: amd64\nhostname: a\nmemory: 512\nlxc.init.cmd: /sbin/my-init\n");
    }

    @Test
    void pendingWrittenInQemuSpellingIsReadAndWrittenAsPveContainerDoes() {
        CtConfig config = CtConfigCodec.parse("memory: 512\n\n[PENDING]\nmemory: 1024\n");
        assertThat(config.pending().get("memory")).contains("1024");
        assertThat(CtConfigCodec.write(config)).isEqualTo("memory: 512\n\n[pve:pending]\nmemory: 1024\n");
    }

    @Test
    void rawKeysWithEqualsSignAreKeptAndWrittenWithColon() {
        CtConfig config = CtConfigCodec.parse("lxc.mount.entry = /srv srv none bind 0 0\n");
        assertThat(config.main().lxc()).containsExactly(new CtSection.RawKey("lxc.mount.entry", "/srv srv none bind 0 0"));
        assertThat(CtConfigCodec.write(config)).isEqualTo("lxc.mount.entry: /srv srv none bind 0 0\n");
    }

    @Test
    void deleteOutsidePendingAndSnapstateOnMainAreDropped() {
        CtConfig config = CtConfigCodec.parse("delete: memory\nsnapstate: prepare\nmemory: 512\n");
        assertThat(config.main().options()).containsExactly(Map.entry("memory", "512"));
    }

    @Test
    void descriptionTextIsEncodedAsProxmoxEncodesIt() {
        assertThat(CtConfigCodec.encodeText("a:b%c\td é")).isEqualTo("a%3Ab%25c%09d %C3%A9");
        assertThat(CtConfigCodec.decodeText("a%3Ab%25c%09d %C3%A9")).isEqualTo("a:b%c\td é");
    }

    @Test
    void newlineInsideAValueIsRefusedNamingTheOption() {
        CtConfig config = CtConfig.of(CtSection.of(Map.of("hostname", "a\nlxc.apparmor.profile: unconfined")));
        assertThatThrownBy(() -> CtConfigCodec.write(config)).isInstanceOf(ParameterError.class)
                .satisfies(e -> assertThat(((ParameterError) e).errors()).containsEntry("hostname", ConfigWriter.CONTROL_CHARACTERS));
    }
}
