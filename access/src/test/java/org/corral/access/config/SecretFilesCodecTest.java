package org.corral.access.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.corral.core.error.ParameterError;
import org.junit.jupiter.api.Test;

class SecretFilesCodecTest {
    @Test
    void shadowFileReadsAndWritesBackByteForByte() {
        String golden = """
                admin:$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$3jL8Jp0rPjgqGNuWm3xt0r2vPbdqZl7zmG1m2Y6HLcw:
                legacy:$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5:
                """;

        assertThat(ShadowCodec.write(ShadowCodec.parse(golden))).isEqualTo(golden);
        assertThat(ShadowCodec.parse(golden)).containsOnlyKeys("admin", "legacy");
    }

    @Test
    void shadowLinesThatAreNotUserHashPairsAreSkipped() {
        assertThat(ShadowCodec.parse("nohash::\njust text\nok:$5$x$y:\n")).containsOnlyKeys("ok");
    }

    @Test
    void shadowWriterRefusesColonsAndLineBreaksThatWouldCorruptTheFile() {
        assertThatThrownBy(() -> ShadowCodec.write(Map.of("a:b", "hash")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("userid"));
        assertThatThrownBy(() -> ShadowCodec.write(Map.of("a", "hash\nroot:x")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("password"));
    }

    @Test
    void tokenFileReadsAndWritesBackByteForByte() {
        String golden = """
                alice@pve!ci 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
                root@pam!legacy 6d7ca1a6-8f2e-4e3e-9a1b-2c3d4e5f6a7b
                """;

        assertThat(TokenSecretsCodec.write(TokenSecretsCodec.parse(golden))).isEqualTo(golden);
    }

    @Test
    void tokenLinesWithoutAFullTokenIdAreSkipped() {
        assertThat(TokenSecretsCodec.parse("alice@pve abc\nalice@pve!tk abc\nbad line here\n")).containsOnlyKeys("alice@pve!tk");
    }
}
