package org.corral.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.corral.core.config.ConfigFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TicketKeyRotationTest {
    private final AccessFixture fx = new AccessFixture();

    @AfterEach
    void close() {
        fx.close();
    }

    private String issue() {
        return fx.access.issueTicket("admin@pve");
    }

    private boolean valid(AccessControl access, String ticket) {
        return access.authenticateTicket(ticket, AccessFixture.ADDRESS).isPresent();
    }

    private int version(String path) {
        return fx.store.read(path).map(ConfigFile::version).orElse(-1);
    }

    @Test
    void firstTicketMakesTheKeyPairWithThePublicHalfApart() {
        assertThat(fx.store.read("priv/authkey.key")).isEmpty();

        String ticket = issue();

        assertThat(fx.store.text("authkey.pub")).startsWith("created: 1800000000\n-----BEGIN PUBLIC KEY-----\n")
                .doesNotContain("PRIVATE");
        assertThat(fx.store.text("priv/authkey.key")).contains("-----BEGIN PRIVATE KEY-----\n")
                .startsWith(fx.store.text("authkey.pub"));
        assertThat(fx.store.read("authkey.pub.old")).isEmpty();
        assertThat(valid(fx.access, ticket)).isTrue();
    }

    @Test
    void keyRotatesAfter24HoursAndTicketsFromBeforeStayValidForTheirLifetime() {
        issue();
        String firstKey = fx.store.text("authkey.pub");
        fx.clock.advance(Duration.ofHours(24).minusMinutes(1));
        String before = issue();
        assertThat(fx.store.text("authkey.pub")).isEqualTo(firstKey);

        fx.clock.advance(Duration.ofMinutes(1));
        String after = issue();

        assertThat(fx.store.text("authkey.pub")).isNotEqualTo(firstKey).startsWith("created: 1800086400\n");
        assertThat(fx.store.text("authkey.pub.old")).isEqualTo(firstKey);
        assertThat(valid(fx.access, before)).isTrue();
        assertThat(valid(fx.access, after)).isTrue();
        fx.clock.advance(Duration.ofHours(2).minusMinutes(1));
        assertThat(valid(fx.access, before)).isTrue();
        fx.clock.advance(Duration.ofSeconds(1));
        assertThat(valid(fx.access, before)).isFalse();
        assertThat(valid(fx.access, after)).isTrue();
    }

    @Test
    void secondRotationDropsTheOldestKey() {
        issue();
        String firstKey = fx.store.text("authkey.pub");
        fx.clock.advance(Duration.ofHours(24));
        issue();
        String secondKey = fx.store.text("authkey.pub");
        fx.clock.advance(Duration.ofHours(24));
        issue();

        assertThat(fx.store.text("authkey.pub.old")).isEqualTo(secondKey);
        assertThat(fx.store.text("authkey.pub")).isNotIn(firstKey, secondKey);
    }

    @Test
    void hmacKeyOfAnOlderVersionIsReplacedByAKeyPair() {
        fx.store.overwrite("priv/authkey.key", AccessFiles.randomKey());

        String ticket = issue();

        assertThat(fx.store.text("priv/authkey.key")).contains("-----BEGIN PRIVATE KEY-----");
        assertThat(fx.store.read("authkey.pub.old")).isEmpty();
        assertThat(valid(fx.access, ticket)).isTrue();
    }

    @Test
    void rotationThatStoppedHalfWayIsMendedAndKeepsTheKeyThatSignedTrusted() {
        String before = issue();
        String signedWith = fx.store.text("authkey.pub");
        // as if a node died after publishing a new public key and before writing its private half
        fx.store.overwrite("authkey.pub", TicketKeys.publicText(TicketKeys.generate(1_800_000_000L).publicKey()));
        assertThat(valid(fx.access, before)).isFalse();

        String after = issue();

        assertThat(fx.store.text("authkey.pub.old")).isEqualTo(signedWith);
        assertThat(valid(fx.access, before)).isTrue();
        assertThat(valid(fx.access, after)).isTrue();
    }

    @Test
    void threadsAndNodesThatFindTheKeyDueAtOnceRotateItOnce() throws Exception {
        issue();
        int publicVersion = version("authkey.pub");
        fx.clock.advance(Duration.ofHours(25));
        // a second node on the same store, with its own caches and the same time
        AccessSettings settings = AccessSettings.defaults().withArgon2(new PasswordHasher.Argon2(64, 1, 1));
        try (AccessControl other = new AccessControl(fx.store, fx.clock, settings)) {
            List<AccessControl> nodes = List.of(fx.access, other);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<String>> issued = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                for (int i = 0; i < 16; i++) {
                    AccessControl node = nodes.get(i % 2);
                    issued.add(pool.submit(() -> {
                        start.await();
                        return node.issueTicket("admin@pve");
                    }));
                }
                start.countDown();
                for (Future<String> ticket : issued) {
                    String value = ticket.get();
                    assertThat(valid(fx.access, value)).isTrue();
                    assertThat(valid(other, value)).isTrue();
                }
            }
        }
        assertThat(version("authkey.pub")).isEqualTo(publicVersion + 1);
        assertThat(version("priv/authkey.key")).isEqualTo(1);
    }

    @Test
    void verifierOnAnotherNodeSeesTheRotation() {
        issue();
        for (boolean watch : List.of(true, false)) {
            AccessSettings settings = AccessSettings.defaults().withArgon2(new PasswordHasher.Argon2(64, 1, 1)).withWatchStore(watch);
            try (AccessControl other = new AccessControl(fx.store, fx.clock, settings)) {
                fx.clock.advance(Duration.ofHours(23));
                String before = issue();
                assertThat(valid(other, before)).isTrue();
                String key = fx.store.text("authkey.pub");
                fx.clock.advance(Duration.ofHours(1));

                String after = issue();

                assertThat(fx.store.text("authkey.pub")).isNotEqualTo(key);
                assertThat(valid(other, after)).as("watch %s", watch).isTrue();
                assertThat(valid(other, before)).as("watch %s", watch).isTrue();
            }
        }
    }
}
