package org.corral.core.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ConsoleProxiesTest {
    private static final String GUEST = "/nodes/n1/qemu/100";

    /** A clock the test moves. */
    private static final class TestClock extends Clock {
        Instant now = Instant.ofEpochSecond(1_800_000_000L);

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final TestClock clock = new TestClock();
    private final ConsoleProxies proxies = new ConsoleProxies(clock);

    private static ConsoleConnection connection() {
        return new ConsoleConnection() {
            @Override
            public InputStream output() {
                return new ByteArrayInputStream(new byte[0]);
            }

            @Override
            public OutputStream input() {
                return new ByteArrayOutputStream();
            }

            @Override
            public void close() {}
        };
    }

    @Test
    void aGuestConsoleIsCheckedOnTheGuestsAclPath() {
        assertThat(ConsoleProxies.aclPath("/nodes/n1/qemu/100")).isEqualTo("/vms/100");
        assertThat(ConsoleProxies.aclPath("/nodes/n1/lxc/101")).isEqualTo("/vms/101");
        assertThat(ConsoleProxies.aclPath("/nodes/n1")).isEqualTo("/nodes/n1");
    }

    @Test
    void ticketVerifiesForItsUserPathAndPortOnlyAndStaysVerifiableAfterTheWebsocketTookTheConsole() {
        ConsoleProxies.Pending console = proxies.register("alice@pve", GUEST, ConsoleKind.TERMINAL, ConsoleProxiesTest::connection);
        String ticket = console.ticket();

        assertThat(proxies.verify(ticket, "alice@pve", "/vms/100", OptionalInt.empty())).isTrue();
        assertThat(proxies.verify(ticket, "alice@pve", "/vms/100", OptionalInt.of(console.port()))).isTrue();
        assertThat(proxies.verify(ticket, "alice@pve", "/vms/100", OptionalInt.of(console.port() + 1))).isFalse();
        assertThat(proxies.verify(ticket, "alice@pve", "/vms/101", OptionalInt.empty())).isFalse();
        assertThat(proxies.verify(ticket, "alice@pve", GUEST, OptionalInt.empty())).isFalse();
        assertThat(proxies.verify(ticket, "bob@pve", "/vms/100", OptionalInt.empty())).isFalse();
        assertThat(proxies.verify(ticket.substring(0, ticket.length() - 1) + (ticket.endsWith("A") ? "B" : "A"), "alice@pve",
                "/vms/100", OptionalInt.empty())).isFalse();

        assertThat(proxies.claim(console.port(), ticket, "alice@pve", GUEST)).contains(console);
        assertThat(proxies.claim(console.port(), ticket, "alice@pve", GUEST)).as("a console is taken once").isEmpty();
        assertThat(proxies.verify(ticket, "alice@pve", "/vms/100", OptionalInt.of(console.port()))).isTrue();
    }

    @Test
    void anExpiredTicketNeitherVerifiesNorOpensItsConsole() {
        ConsoleProxies.Pending console = proxies.register("alice@pve", GUEST, ConsoleKind.RFB, ConsoleProxiesTest::connection);
        clock.now = clock.now.plus(Duration.ofSeconds(60));
        assertThat(proxies.verify(console.ticket(), "alice@pve", "/vms/100", OptionalInt.empty())).isTrue();

        clock.now = clock.now.plusSeconds(1);
        assertThat(proxies.verify(console.ticket(), "alice@pve", "/vms/100", OptionalInt.empty())).isFalse();
        assertThat(proxies.claim(console.port(), console.ticket(), "alice@pve", GUEST)).isEmpty();
    }

    @Test
    void theWebsocketMustNameTheTicketsGuestAndUser() {
        ConsoleProxies.Pending console = proxies.register("alice@pve", GUEST, ConsoleKind.TERMINAL, ConsoleProxiesTest::connection);
        assertThat(proxies.claim(console.port(), console.ticket(), "alice@pve", "/nodes/n1/lxc/100")).isEmpty();
        assertThat(proxies.claim(console.port(), console.ticket(), "bob@pve", GUEST)).isEmpty();
        assertThat(proxies.claim(console.port() + 1, console.ticket(), "alice@pve", GUEST)).isEmpty();
        assertThat(proxies.claim(console.port(), console.ticket(), "alice@pve", GUEST)).contains(console);
    }
}
