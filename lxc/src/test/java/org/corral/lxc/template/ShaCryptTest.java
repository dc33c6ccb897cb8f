package org.corral.lxc.template;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ShaCryptTest {
    // expected values from `openssl passwd -5 -salt SALT PASSWORD`
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Hello world! | saltstring | $5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
        "a much longer password than thirty two bytes of text | abc | $5$abc$PitcDErjmmwSa/qP5lB/NTyVxgzgqA6ozwyU5DFqwh1",
    })
    void hashesMatchOpensslSha256Crypt(String password, String salt, String expected) {
        assertThat(ShaCrypt.hash(password, salt)).isEqualTo(expected);
    }

    @Test
    void randomSaltsAreSixteenCryptCharacters() {
        String hash = ShaCrypt.hash("secret", new SecureRandom());
        assertThat(hash).matches("\\$5\\$[./0-9A-Za-z]{16}\\$[./0-9A-Za-z]{43}");
    }
}
