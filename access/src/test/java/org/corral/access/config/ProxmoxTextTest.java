package org.corral.access.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ProxmoxTextTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "plain text|plain text",
        "a:b|a%3Ab",
        "ä|%C3%A4",
        "50%|50%",
        "tab\there|tab%09here",
        "~!@#$^&*()|~!@#$^&*()"})
    void encodeEscapesControlColonAndNonAsciiBytesOnly(String text, String encoded) {
        assertThat(ProxmoxText.encode(text)).isEqualTo(encoded);
        assertThat(ProxmoxText.decode(encoded)).isEqualTo(text);
    }

    @Test
    void decodeKeepsBrokenEscapes() {
        assertThat(ProxmoxText.decode("100%zz")).isEqualTo("100%zz");
        assertThat(ProxmoxText.decode("%FF")).isEqualTo("%FF");
    }

    @Test
    void splitListSplitsOnCommasSemicolonsAndBlanks() {
        assertThat(ProxmoxText.splitList("a, b;c  d,,")).containsExactly("a", "b", "c", "d");
        assertThat(ProxmoxText.splitList("")).isEmpty();
    }

    @Test
    void splitFieldsDropsTrailingEmptyFieldsLikePerlSplit() {
        assertThat(ProxmoxText.splitFields("user:root@pam:1:0::::::")).containsExactly("user", "root@pam", "1", "0");
        assertThat(ProxmoxText.splitFields(":a: b :")).containsExactly("", "a", "b");
    }
}
