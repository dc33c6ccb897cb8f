package org.corral.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.core.config.ConfigWriter.field;

import java.util.LinkedHashMap;
import java.util.Map;
import org.corral.core.error.ParameterError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigWriterTest {
    @Test
    void writesEveryLineShapeOfProxmoxConfigFiles() {
        String text = new ConfigWriter()
                .description("first: line\nsecond é")
                .keyValue("name", "web\tone")
                .blank().section("snapname", "before")
                .sectionHeader("dir", "storage", "local").option("path", "/var/lib/vz")
                .fields(':', true, field("type", "user"), field("userid", "root@pam"), field("enable", "1"))
                .fields(' ', false, field("tokenid", "a@pve!t"), field("value", "abc"))
                .line("password", "secret")
                .text();
        assertThat(text).isEqualTo("#first%3A line\n#second %C3%A9\nname: web\tone\n\n[before]\ndir: local\n\tpath /var/lib/vz\n"
                + "user:root@pam:1:\na@pve!t abc\nsecret\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"admin\nargs: -name injected", "x\r\n[injected]", "x\r", "a\u0000b", "a\u001bb", "a\u007fb", "a\u0085b", "a\u2028b"})
    void valueThatCouldEndItsLineIsRefusedNamingTheKey(String value) {
        assertRefused(() -> new ConfigWriter().keyValue("ciuser", value), "ciuser");
        assertRefused(() -> new ConfigWriter().option("nodes", value), "nodes");
        assertRefused(() -> new ConfigWriter().fields(':', true, field("type", "user"), field("email", value)), "email");
        assertRefused(() -> new ConfigWriter().line("password", value), "password");
        assertRefused(() -> new ConfigWriter().section("snapname", value), "snapname");
        assertRefused(() -> new ConfigWriter().sectionHeader("dir", "storage", value), "storage");
    }

    @Test
    void fieldHoldingTheSeparatorIsRefused() {
        assertThatThrownBy(() -> new ConfigWriter().fields(':', true, field("type", "user"), field("email", "a:1:2")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("email"));
    }

    @Test
    void keyWithSeparatorOrBlankIsRefused() {
        assertRefused(() -> new ConfigWriter().keyValue("a: b", "x"), "a: b");
        assertRefused(() -> new ConfigWriter().option("a b", "x"), "a b");
    }

    @Test
    void multiLineDescriptionRoundTripsThroughKeyValueConfig() {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("keyboard", "de");
        values.put("description", "<b>notes</b>\nargs: -name injected\r\nlast");
        String text = KeyValueConfig.write(values);
        assertThat(text.lines()).noneMatch(l -> l.startsWith("args")).allMatch(l -> l.startsWith("#") || l.startsWith("keyboard:"));
        assertThat(KeyValueConfig.parse(text)).isEqualTo(values);
    }

    @Test
    void keyValueConfigRefusesAnInjectedValue() {
        assertRefused(() -> KeyValueConfig.write(Map.of("keyboard", "de\nallow-private-download: 1")), "keyboard");
    }

    private static void assertRefused(Runnable write, String parameter) {
        assertThatThrownBy(write::run).isInstanceOfSatisfying(ParameterError.class, e ->
                assertThat(e.errors()).hasSize(1).containsKey(parameter));
    }
}
