package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks tickets against the public halves of the signing keys: the current one, and the one
 * before the last rotation for tickets issued before the current key was made. Holds no key that
 * can sign. Tickets that checked out are kept (at most {@code cacheSize}, bound to the keys they
 * were checked with) so that a repeated request costs a map lookup, not a signature check.
 */
public final class TicketVerifier {
    public static final int DEFAULT_CACHE_SIZE = 10_000;
    static final int MAX_LENGTH = 512;
    static final int MAX_TFA_LENGTH = 8192;
    private static final Pattern TFA_TICKET = Pattern.compile("PVE:!tfa!([^:\\s]+):([0-9A-F]{8})::([A-Za-z0-9+/=]+)");
    private static final Pattern TICKET = Pattern.compile("PVE:([^:\\s]+):([0-9A-F]{8})::([A-Za-z0-9+/=]+)");

    private final Supplier<Keys> keys;
    private final Clock clock;
    private final Duration lifetime;
    private final int cacheSize;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

    /** A ticket that checked out: whose it is and when it was issued (epoch seconds). */
    public record Verified(String userid, long issued) {
        public Verified {
            requireNonNull(userid, "userid is null");
        }
    }

    /** A public key that checks tickets, and when its key pair was made (epoch seconds). */
    public record Key(PublicKey key, long created) {
        public Key {
            requireNonNull(key, "key is null");
        }
    }

    /** The keys tickets are checked with: the current one and the one it replaced. */
    public record Keys(Optional<Key> current, Optional<Key> previous) {
        public static final Keys NONE = new Keys(Optional.empty(), Optional.empty());

        public Keys {
            requireNonNull(current, "current is null");
            requireNonNull(previous, "previous is null");
        }
    }

    private record Cached(Keys keys, Verified verified) {}

    /** {@code keys} is asked on every call; it should answer the same instances while the keys do not change. */
    public TicketVerifier(Supplier<Keys> keys, Clock clock, Duration lifetime, int cacheSize) {
        this.keys = requireNonNull(keys, "keys is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.lifetime = requireNonNull(lifetime, "lifetime is null");
        if (cacheSize < 0) {
            throw new IllegalArgumentException("cacheSize must not be negative");
        }
        this.cacheSize = cacheSize;
    }

    /** The ticket's user if the signature holds and the ticket is neither expired nor from the future. */
    public Optional<Verified> verify(String ticket) {
        if (ticket == null || ticket.length() > MAX_LENGTH) {
            return Optional.empty();
        }
        Keys current = keys.get();
        long now = clock.instant().getEpochSecond();
        Cached known = cache.get(ticket);
        if (known != null && known.keys().equals(current)) {
            if (Tickets.fresh(known.verified().issued(), now, lifetime)) {
                return Optional.of(known.verified());
            }
            cache.remove(ticket, known);
            return Optional.empty();
        }
        Optional<Verified> verified = check(ticket, current, now);
        verified.ifPresent(v -> remember(ticket, new Cached(current, v), now));
        return verified;
    }

    /**
     * The challenge of a half ticket ({@link TicketIssuer#issueTfa}) issued for {@code userid}, if
     * its signature holds and it is fresh; never cached.
     */
    public Optional<String> verifyTfa(String ticket, String userid) {
        if (ticket == null || ticket.length() > MAX_TFA_LENGTH) {
            return Optional.empty();
        }
        Matcher m = TFA_TICKET.matcher(ticket);
        if (!m.matches()) {
            return Optional.empty();
        }
        String plain = Tickets.plain(Tickets.TFA_PREFIX + m.group(1), m.group(2));
        boolean valid = signed(keys.get(), clock.instant().getEpochSecond(), m.group(2),
                Tickets.signed(plain, Optional.of(userid)), m.group(3));
        return valid ? Optional.of(Tickets.decodeChallenge(m.group(1))) : Optional.empty();
    }

    private Optional<Verified> check(String ticket, Keys keys, long now) {
        Matcher m = TICKET.matcher(ticket);
        if (!m.matches() || !Ids.isUser(m.group(1))) {
            return Optional.empty();
        }
        boolean valid = signed(keys, now, m.group(2), Tickets.plain(m.group(1), m.group(2)), m.group(3));
        return valid ? Optional.of(new Verified(m.group(1), Long.parseLong(m.group(2), 16))) : Optional.empty();
    }

    /** Whether a ticket issued at {@code hexTime} is fresh and {@code signature} (base64) signs {@code signed}. */
    private boolean signed(Keys keys, long now, String hexTime, String signed, String signature) {
        long issued = Long.parseLong(hexTime, 16);
        if (keys.current().isEmpty() || !Tickets.fresh(issued, now, lifetime)) {
            return false;
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(signature);
        } catch (IllegalArgumentException e) {
            return false;
        }
        byte[] plain = signed.getBytes(StandardCharsets.UTF_8);
        Key key = keys.current().get();
        // the previous key signed until the current one was made (give or take clock skew), not after
        return signedBy(key.key(), plain, bytes) || keys.previous().isPresent()
                && issued <= key.created() + Tickets.GRACE_SECONDS && signedBy(keys.previous().get().key(), plain, bytes);
    }

    private static boolean signedBy(PublicKey key, byte[] plain, byte[] signature) {
        try {
            Signature verifier = Signature.getInstance(TicketKeys.ALGORITHM);
            verifier.initVerify(key);
            verifier.update(plain);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private void remember(String ticket, Cached entry, long now) {
        if (cacheSize == 0) {
            return;
        }
        if (cache.size() >= cacheSize) {
            cache.values().removeIf(c -> !Tickets.fresh(c.verified().issued(), now, lifetime));
            // still full of live tickets: make room for a tenth, whichever they are
            Iterator<String> it = cache.keySet().iterator();
            while (cache.size() >= cacheSize - cacheSize / 10 && it.hasNext()) {
                it.next();
                it.remove();
            }
        }
        cache.put(ticket, entry);
    }

    /** How many verified tickets are kept now. */
    int cached() {
        return cache.size();
    }
}
