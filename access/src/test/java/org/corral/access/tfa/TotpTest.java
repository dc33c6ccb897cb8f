package org.corral.access.tfa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class TotpTest {
    private static final String SHA1_SEED = "12345678901234567890";
    private static final String SHA256_SEED = "12345678901234567890123456789012";
    private static final String SHA512_SEED = "1234567890123456789012345678901234567890123456789012345678901234";

    /** RFC 6238 appendix B: 8 digits, 30 second steps. */
    @ParameterizedTest
    @CsvSource({
            "59, SHA1, 94287082", "59, SHA256, 46119246", "59, SHA512, 90693936",
            "1111111109, SHA1, 07081804", "1111111109, SHA256, 68084774", "1111111109, SHA512, 25091201",
            "1111111111, SHA1, 14050471", "1111111111, SHA256, 67062674", "1111111111, SHA512, 99943326",
            "1234567890, SHA1, 89005924", "1234567890, SHA256, 91819424", "1234567890, SHA512, 93441116",
            "2000000000, SHA1, 69279037", "2000000000, SHA256, 90698825", "2000000000, SHA512, 38618901",
            "20000000000, SHA1, 65353130", "20000000000, SHA256, 77737706", "20000000000, SHA512, 47863826"})
    void rfc6238TestVectors(long time, String algorithm, String expected) {
        String seed = switch (algorithm) {
            case "SHA1" -> SHA1_SEED;
            case "SHA256" -> SHA256_SEED;
            default -> SHA512_SEED;
        };
        String uri = "otpauth://totp/test?secret=" + Base32.encode(seed.getBytes(StandardCharsets.US_ASCII))
                + "&algorithm=" + algorithm + "&digits=8&period=30";
        Totp totp = Totp.parseUri(uri);

        assertThat(totp.code(totp.step(time))).isEqualTo(expected);
        assertThat(totp.verify(expected, time, OptionalLong.empty())).hasValue(totp.step(time));
    }

    @Test
    void aCodeIsGoodOnceAndOnlyNearItsTime() {
        Totp totp = Totp.parseUri("otpauth://totp/corral:bob?secret=" + Base32.encode(SHA1_SEED.getBytes(StandardCharsets.US_ASCII))
                + "&issuer=corral");
        long now = 1_800_000_000L;
        String code = totp.code(totp.step(now));

        OptionalLong used = totp.verify(code, now, OptionalLong.empty());
        assertThat(used).hasValue(totp.step(now));
        assertThat(totp.verify(code, now, used)).isEmpty();
        assertThat(totp.verify(code, now + 30, OptionalLong.empty())).isPresent();
        assertThat(totp.verify(code, now + 90, OptionalLong.empty())).isEmpty();
        assertThat(totp.verify("12345", now, OptionalLong.empty())).isEmpty();
        assertThat(totp.verify("abcdef", now, OptionalLong.empty())).isEmpty();
    }

    @Test
    void badUrisAreRefused() {
        assertThatThrownBy(() -> Totp.parseUri("otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")).hasMessageContaining("totp");
        assertThatThrownBy(() -> Totp.parseUri("otpauth://totp/x?issuer=a")).hasMessageContaining("no secret");
        assertThatThrownBy(() -> Totp.parseUri("otpauth://totp/x?secret=GEZDGNBV")).hasMessageContaining("80 bits");
        assertThatThrownBy(() -> Totp.parseUri("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=9"))
                .hasMessageContaining("digits");
        assertThatThrownBy(() -> Totp.parseUri("otpauth://totp/x?secret=1!")).hasMessageContaining("base32");
    }

    @Test
    void base32RoundTrips() {
        byte[] data = "any bytes \u00ff".getBytes(StandardCharsets.UTF_8);
        assertThat(Base32.decode(Base32.encode(data))).isEqualTo(data);
        assertThat(Base32.encode("foobar".getBytes(StandardCharsets.US_ASCII))).isEqualTo("MZXW6YTBOI");
    }
}
