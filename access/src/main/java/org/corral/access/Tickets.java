package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Authentication tickets ({@code PVE:USER@REALM:HEXTIME::SIGNATURE}) and CSRF prevention tokens
 * ({@code HEXTIME:SIGNATURE}), both signed with HMAC-SHA256 under cluster-wide secrets. Tickets
 * stay valid for the lifetime (2 hours); like Proxmox, up to 5 minutes of clock skew into the
 * future is tolerated.
 */
public final class Tickets {
    public static final Duration LIFETIME = Duration.ofHours(2);
    static final long GRACE_SECONDS = 300;
    private static final Pattern TICKET = Pattern.compile("PVE:([^:\\s]+):([0-9A-F]{8})::([A-Za-z0-9+/=]+)");
    private static final Pattern CSRF = Pattern.compile("([0-9A-F]{8}):([A-Za-z0-9+/=]+)");

    private final Supplier<byte[]> ticketKey;
    private final Supplier<byte[]> csrfKey;
    private final Clock clock;
    private final Duration lifetime;

    /** A ticket that checked out: whose it is and when it was issued (epoch seconds). */
    public record Verified(String userid, long issued) {}

    public Tickets(Supplier<byte[]> ticketKey, Supplier<byte[]> csrfKey, Clock clock, Duration lifetime) {
        this.ticketKey = requireNonNull(ticketKey, "ticketKey is null");
        this.csrfKey = requireNonNull(csrfKey, "csrfKey is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.lifetime = requireNonNull(lifetime, "lifetime is null");
    }

    public String issue(String userid) {
        if (!Ids.isUser(userid)) {
            throw new IllegalArgumentException("invalid user id '" + userid + "'");
        }
        String plain = "PVE:" + userid + ":" + hexTime(now());
        return plain + "::" + Base64.getEncoder().encodeToString(hmac(ticketKey.get(), plain));
    }

    /** The ticket's user if the signature holds and the ticket is neither expired nor from the future. */
    public Optional<Verified> verify(String ticket) {
        if (ticket == null || ticket.length() > 512) {
            return Optional.empty();
        }
        Matcher m = TICKET.matcher(ticket);
        if (!m.matches() || !Ids.isUser(m.group(1))) {
            return Optional.empty();
        }
        String plain = "PVE:" + m.group(1) + ":" + m.group(2);
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(m.group(3));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (!MessageDigest.isEqual(signature, hmac(ticketKey.get(), plain))) {
            return Optional.empty();
        }
        long issued = Long.parseLong(m.group(2), 16);
        return fresh(issued) ? Optional.of(new Verified(m.group(1), issued)) : Optional.empty();
    }

    /** Proxmox's CSRFPreventionToken for {@code userid}: valid as long as a ticket issued now. */
    public String csrfToken(String userid) {
        String time = hexTime(now());
        return time + ":" + Base64.getEncoder().withoutPadding().encodeToString(hmac(csrfKey.get(), time + ":" + userid));
    }

    public boolean verifyCsrf(String token, String userid) {
        if (token == null || userid == null || token.length() > 128) {
            return false;
        }
        Matcher m = CSRF.matcher(token);
        if (!m.matches()) {
            return false;
        }
        byte[] expected = Base64.getEncoder().withoutPadding()
                .encodeToString(hmac(csrfKey.get(), m.group(1) + ":" + userid)).getBytes(StandardCharsets.US_ASCII);
        String given = m.group(2).replaceAll("=+$", "");
        return MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.US_ASCII)) && fresh(Long.parseLong(m.group(1), 16));
    }

    private boolean fresh(long issued) {
        long age = now() - issued;
        return age >= -GRACE_SECONDS && age <= lifetime.toSeconds();
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    private static String hexTime(long seconds) {
        return String.format(Locale.ROOT, "%08X", seconds);
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HMAC-SHA256 unavailable", e);
        }
    }
}
