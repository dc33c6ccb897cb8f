package org.corral.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PasswordHasherTest {
    private final PasswordHasher hasher = new PasswordHasher();

    @Test
    void newHashesAreArgon2idPhcStringsThatVerify() {
        String hash = hasher.hash("correct horse");

        assertThat(hash).matches("\\$argon2id\\$v=19\\$m=19456,t=2,p=1\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}");
        assertThat(hasher.verify("correct horse", hash)).isTrue();
        assertThat(hasher.verify("correct horsE", hash)).isFalse();
    }

    @Test
    void samePasswordGetsADifferentSaltEachTime() {
        assertThat(hasher.hash("pw")).isNotEqualTo(hasher.hash("pw"));
    }

    @Test
    void argon2idWithTheDefaultCostTakesTensOfMilliseconds() {
        hasher.hash("warm up the JIT");
        long start = System.nanoTime();
        int rounds = 5;
        for (int i = 0; i < rounds; i++) {
            hasher.hash("password" + i);
        }
        long millis = (System.nanoTime() - start) / 1_000_000 / rounds;
        // loose bounds: a far cheaper hash would mean the parameters got lost
        assertThat(millis).isBetween(5L, 2_000L);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // made with the reference implementation (libargon2 through argon2-cffi)
        "password|$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        "password|$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        "pässwörd|$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$PvSgfyNF2PJwvvyQHhu1Fj1+Y7CWmbCbYhGgqHta9To"})
    void argon2HashesOfTheReferenceImplementationVerify(String password, String hash) {
        assertThat(hasher.verify(password, hash)).isTrue();
        assertThat(hasher.verify(password.toUpperCase(java.util.Locale.ROOT), hash)).isFalse();
    }

    @Test
    void pbkdf2Sha256InPasslibFormVerifies() {
        String hash = "$pbkdf2-sha256$29000$c2FsdHNhbHRzYWx0c2FsdA$7xwbY5rCP.qJhnvJ80W3FI7hSRg8wNnl3S9rczjVuCk";
        assertThat(hasher.verify("password", hash)).isTrue();
        assertThat(hasher.verify("passwort", hash)).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Hello world!|$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
        "Hello world!|$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
        "Hello world!|$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA",
        "This is just a test|$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0",
        "pässwörd|$5$abc$cgcp2e9c21faVh2fikKWNSIEdf8n1mYAJJcgUrG8di/"})
    void shaCryptHashesOfOpensslVerify(String password, String hash) {
        assertThat(ShaCrypt.crypt(password, hash)).contains(hash);
        assertThat(hasher.verify(password, hash)).isTrue();
        assertThat(hasher.verify(password + "x", hash)).isFalse();
    }

    @Test
    void shaCryptTruncatesLongSaltsLikeGlibc() {
        assertThat(ShaCrypt.crypt("This is just a test", "$6$rounds=5000$toolongsaltstring")).get().asString()
                .startsWith("$6$rounds=5000$toolongsaltstrin$");
    }

    @ParameterizedTest
    @CsvSource({"$1$abc$def, '$1$'", "$y$j9T$abc$def, '$y$'", "plaintext, plain/DES"})
    void unsupportedSchemesAreRefusedByName(String hash, String scheme) {
        assertThatThrownBy(() -> hasher.verify("x", hash)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unsupported password hash scheme '" + scheme + "'");
    }
}
