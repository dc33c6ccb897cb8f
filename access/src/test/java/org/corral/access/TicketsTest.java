package org.corral.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TicketsTest {
    private final MutableClock clock = new MutableClock(Instant.ofEpochSecond(1_700_000_000L));
    private final byte[] key = "ticket-key".getBytes(StandardCharsets.UTF_8);
    private final byte[] csrfKey = "csrf-key".getBytes(StandardCharsets.UTF_8);
    private final Tickets tickets = new Tickets(() -> key, () -> csrfKey, clock, Tickets.LIFETIME);

    @Test
    void ticketHasProxmoxShapeAndVerifies() {
        String ticket = tickets.issue("alice@pve");

        assertThat(ticket).matches("PVE:alice@pve:6553F100::[A-Za-z0-9+/]{43}=");
        assertThat(tickets.verify(ticket)).contains(new Tickets.Verified("alice@pve", 1_700_000_000L));
    }

    @Test
    void ticketIsValidForTwoHoursOnly() {
        String ticket = tickets.issue("alice@pve");

        clock.advance(Duration.ofHours(2));
        assertThat(tickets.verify(ticket)).isPresent();
        clock.advance(Duration.ofSeconds(1));
        assertThat(tickets.verify(ticket)).isEmpty();
    }

    @Test
    void ticketFromTheNearFutureIsAcceptedButNotFromFurther() {
        String ticket = tickets.issue("alice@pve");

        clock.advance(Duration.ofMinutes(-5));
        assertThat(tickets.verify(ticket)).isPresent();
        clock.advance(Duration.ofSeconds(-1));
        assertThat(tickets.verify(ticket)).isEmpty();
    }

    @Test
    void tamperedTicketsAreRefused() {
        String ticket = tickets.issue("alice@pve");
        String signature = ticket.substring(ticket.indexOf("::") + 2);

        assertThat(tickets.verify(ticket.replace("alice@pve", "root@pam"))).isEmpty();
        assertThat(tickets.verify(ticket.replace(":6553F100:", ":6553F200:"))).isEmpty();
        assertThat(tickets.verify("PVE:alice@pve:6553F100::" + new StringBuilder(signature).reverse())).isEmpty();
        assertThat(tickets.verify("PVE:alice@pve:6553F100::")).isEmpty();
        assertThat(tickets.verify("garbage")).isEmpty();
        assertThat(new Tickets(() -> "other".getBytes(StandardCharsets.UTF_8), () -> csrfKey, clock, Tickets.LIFETIME)
                .verify(ticket)).isEmpty();
    }

    @Test
    void csrfTokenHasProxmoxShapeAndIsBoundToTheUser() {
        String token = tickets.csrfToken("alice@pve");

        assertThat(token).matches("6553F100:[A-Za-z0-9+/]{43}");
        assertThat(tickets.verifyCsrf(token, "alice@pve")).isTrue();
        assertThat(tickets.verifyCsrf(token, "bob@pve")).isFalse();
        assertThat(tickets.verifyCsrf(token.replace("6553F100", "6553F101"), "alice@pve")).isFalse();
        assertThat(tickets.verifyCsrf("", "alice@pve")).isFalse();
    }

    @Test
    void csrfTokenExpiresWithTheTicketLifetime() {
        String token = tickets.csrfToken("alice@pve");

        clock.advance(Duration.ofHours(2));
        assertThat(tickets.verifyCsrf(token, "alice@pve")).isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(tickets.verifyCsrf(token, "alice@pve")).isFalse();
    }
}
