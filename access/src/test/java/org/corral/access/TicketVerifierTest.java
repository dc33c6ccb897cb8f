package org.corral.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class TicketVerifierTest {
    private static final long NOW = 1_700_000_000L;
    private final MutableClock clock = new MutableClock(Instant.ofEpochSecond(NOW));
    private final TicketKeys.SigningKey key = TicketKeys.generate(NOW);
    private final AtomicReference<TicketVerifier.Keys> keys = new AtomicReference<>(only(key));
    private final TicketIssuer issuer = new TicketIssuer(key::key, clock);
    private final TicketVerifier verifier = verifier(TicketVerifier.DEFAULT_CACHE_SIZE);

    private TicketVerifier verifier(int cacheSize) {
        return new TicketVerifier(keys::get, clock, Tickets.LIFETIME, cacheSize);
    }

    private static TicketVerifier.Keys only(TicketKeys.SigningKey key) {
        return new TicketVerifier.Keys(Optional.of(key.publicKey()), Optional.empty());
    }

    @Test
    void ticketHasProxmoxShapeAndVerifies() {
        String ticket = issuer.issue("alice@pve");

        assertThat(ticket).matches("PVE:alice@pve:6553F100::[A-Za-z0-9+/]{86}==").hasSizeLessThan(TicketVerifier.MAX_LENGTH);
        assertThat(verifier.verify(ticket)).contains(new TicketVerifier.Verified("alice@pve", NOW));
    }

    @Test
    void ticketIsValidForTwoHoursOnly() {
        String ticket = issuer.issue("alice@pve");

        clock.advance(Duration.ofHours(2));
        assertThat(verifier.verify(ticket)).isPresent();
        clock.advance(Duration.ofSeconds(1));
        assertThat(verifier.verify(ticket)).isEmpty();
    }

    @Test
    void ticketFromTheNearFutureIsAcceptedButNotFromFurther() {
        String ticket = issuer.issue("alice@pve");

        clock.advance(Duration.ofMinutes(-5));
        assertThat(verifier.verify(ticket)).isPresent();
        clock.advance(Duration.ofSeconds(-1));
        assertThat(verifier.verify(ticket)).isEmpty();
    }

    @Test
    void tamperedTicketsAreRefused() {
        String ticket = issuer.issue("alice@pve");
        String signature = ticket.substring(ticket.indexOf("::") + 2);

        assertThat(verifier.verify(ticket.replace("alice@pve", "root@pam"))).isEmpty();
        assertThat(verifier.verify(ticket.replace("alice@pve", "alice@pam"))).isEmpty();
        assertThat(verifier.verify(ticket.replace(":6553F100:", ":6553F101:"))).isEmpty();
        assertThat(verifier.verify("PVE:alice@pve:6553F100::" + new StringBuilder(signature).reverse())).isEmpty();
        assertThat(verifier.verify("PVE:alice@pve:6553F100::")).isEmpty();
        assertThat(verifier.verify("PVE:alice@pve:6553F100::AAAA")).isEmpty();
        assertThat(verifier.verify("garbage")).isEmpty();
        assertThat(verifier.verify(null)).isEmpty();
    }

    @Test
    void ticketSignedWithAnyOtherKeyIsRefused() {
        TicketKeys.SigningKey other = TicketKeys.generate(NOW);
        String forged = new TicketIssuer(other::key, clock).issue("root@pam");

        assertThat(verifier.verify(forged)).isEmpty();
        // nor does the other key accept ours
        keys.set(only(other));
        assertThat(verifier.verify(issuer.issue("alice@pve"))).isEmpty();
        assertThat(verifier.verify(forged)).isPresent();
    }

    @Test
    void noKeyNoTicket() {
        String ticket = issuer.issue("alice@pve");
        keys.set(TicketVerifier.Keys.NONE);

        assertThat(verifier.verify(ticket)).isEmpty();
    }

    @Test
    void previousKeyChecksTicketsIssuedBeforeTheCurrentKeyOnly() {
        String before = issuer.issue("alice@pve");
        clock.advance(Duration.ofHours(1));
        TicketKeys.SigningKey next = TicketKeys.generate(NOW + 3600);
        keys.set(new TicketVerifier.Keys(Optional.of(next.publicKey()), Optional.of(key.publicKey())));
        // a few minutes of clock skew between nodes are allowed for, no more
        clock.advance(Duration.ofMinutes(5));
        String lateButSkewed = issuer.issue("alice@pve");
        clock.advance(Duration.ofSeconds(1));
        String afterRotation = issuer.issue("alice@pve");

        assertThat(verifier.verify(before)).contains(new TicketVerifier.Verified("alice@pve", NOW));
        assertThat(verifier.verify(lateButSkewed)).isPresent();
        assertThat(verifier.verify(afterRotation)).isEmpty();
        assertThat(verifier.verify(new TicketIssuer(next::key, clock).issue("alice@pve"))).isPresent();
    }

    @Test
    void verifierTakesAndHoldsPublicKeysOnly() {
        Constructor<?>[] constructors = TicketVerifier.class.getConstructors();
        assertThat(constructors).hasSize(1);
        Type[] parameters = constructors[0].getGenericParameterTypes();
        assertThat(parameters[0]).isInstanceOf(ParameterizedType.class);
        assertThat(((ParameterizedType) parameters[0]).getRawType()).isEqualTo(Supplier.class);
        assertThat(((ParameterizedType) parameters[0]).getActualTypeArguments()).containsExactly(TicketVerifier.Keys.class);
        assertThat(Arrays.stream(parameters).skip(1)).containsExactly(Clock.class, Duration.class, int.class);
        assertThat(Arrays.stream(TicketVerifier.Key.class.getRecordComponents()).map(RecordComponent::getType))
                .containsExactly(PublicKey.class, long.class);
        for (Field field : TicketVerifier.class.getDeclaredFields()) {
            assertThat(java.security.Key.class.isAssignableFrom(field.getType())).as(field.getName()).isFalse();
        }
    }

    @Test
    void cacheAnswersLikeAFullCheckAndNeverAcceptsAnExpiredTicket() {
        TicketVerifier uncached = verifier(0);
        String valid = issuer.issue("alice@pve");
        clock.advance(Duration.ofMinutes(30));
        String younger = issuer.issue("bob@pve");
        List<String> tickets = List.of(valid, younger, valid.replace("alice@pve", "root@pam"),
                new TicketIssuer(TicketKeys.generate(NOW)::key, clock).issue("carol@pve"));

        List<Optional<TicketVerifier.Verified>> first = new ArrayList<>();
        for (long minutes = 0; minutes <= 180; minutes += 5) {
            for (String ticket : tickets) {
                Optional<TicketVerifier.Verified> cachedAnswer = verifier.verify(ticket);
                assertThat(cachedAnswer).as("%s after %d minutes", ticket, minutes).isEqualTo(uncached.verify(ticket));
                first.add(cachedAnswer);
            }
            clock.advance(Duration.ofMinutes(5));
        }
        assertThat(first).contains(Optional.of(new TicketVerifier.Verified("alice@pve", NOW)));
        assertThat(verifier.verify(valid)).isEmpty();
        assertThat(verifier.verify(younger)).isEmpty();
        assertThat(verifier.cached()).isZero();
    }

    @Test
    void cachedTicketIsCheckedAgainWhenTheKeysChange() {
        String ticket = issuer.issue("alice@pve");
        assertThat(verifier.verify(ticket)).isPresent();
        assertThat(verifier.cached()).isOne();

        keys.set(only(TicketKeys.generate(NOW)));

        assertThat(verifier.verify(ticket)).isEmpty();
    }

    @Test
    void cacheIsBounded() {
        TicketVerifier small = verifier(10);
        List<String> tickets = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            tickets.add(issuer.issue("user" + i + "@pve"));
        }

        for (String ticket : tickets) {
            assertThat(small.verify(ticket)).isPresent();
            assertThat(small.cached()).isLessThanOrEqualTo(10);
        }
        // evicted tickets still verify, the long way
        assertThat(tickets).allSatisfy(ticket -> assertThat(small.verify(ticket)).isPresent());
    }
}
