package org.corral.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CsrfTokensTest {
    private final MutableClock clock = new MutableClock(Instant.ofEpochSecond(1_700_000_000L));
    private final byte[] secret = "csrf-key".getBytes(StandardCharsets.UTF_8);
    private final CsrfTokens tokens = new CsrfTokens(() -> secret, clock, Tickets.LIFETIME);

    @Test
    void csrfTokenHasProxmoxShapeAndIsBoundToTheUser() {
        String token = tokens.issue("alice@pve");

        assertThat(token).matches("6553F100:[A-Za-z0-9+/]{43}");
        assertThat(tokens.verify(token, "alice@pve")).isTrue();
        assertThat(tokens.verify(token, "bob@pve")).isFalse();
        assertThat(tokens.verify(token.replace("6553F100", "6553F101"), "alice@pve")).isFalse();
        assertThat(tokens.verify("", "alice@pve")).isFalse();
        assertThat(new CsrfTokens(() -> "other".getBytes(StandardCharsets.UTF_8), clock, Tickets.LIFETIME)
                .verify(token, "alice@pve")).isFalse();
    }

    @Test
    void csrfTokenExpiresWithTheTicketLifetime() {
        String token = tokens.issue("alice@pve");

        clock.advance(Duration.ofHours(2));
        assertThat(tokens.verify(token, "alice@pve")).isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(tokens.verify(token, "alice@pve")).isFalse();
    }
}
