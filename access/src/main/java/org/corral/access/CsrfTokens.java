package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Proxmox's {@code CSRFPreventionToken} ({@code HEXTIME:SIGNATURE}): an HMAC-SHA256 of the time and
 * user under the cluster-wide secret {@code priv/pve-www.key}, which has nothing to do with the
 * ticket signing keys. Valid as long as a ticket issued at the same time.
 */
public final class CsrfTokens {
    private static final Pattern TOKEN = Pattern.compile("([0-9A-F]{8}):([A-Za-z0-9+/=]+)");

    private final Supplier<byte[]> secret;
    private final Clock clock;
    private final Duration lifetime;

    public CsrfTokens(Supplier<byte[]> secret, Clock clock, Duration lifetime) {
        this.secret = requireNonNull(secret, "secret is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.lifetime = requireNonNull(lifetime, "lifetime is null");
    }

    /** The token that goes with a ticket of {@code userid} issued now. */
    public String issue(String userid) {
        String time = Tickets.hexTime(clock.instant().getEpochSecond());
        return time + ":" + Base64.getEncoder().withoutPadding().encodeToString(hmac(secret.get(), time + ":" + userid));
    }

    public boolean verify(String token, String userid) {
        if (token == null || userid == null || token.length() > 128) {
            return false;
        }
        Matcher m = TOKEN.matcher(token);
        if (!m.matches()) {
            return false;
        }
        byte[] expected = Base64.getEncoder().withoutPadding()
                .encodeToString(hmac(secret.get(), m.group(1) + ":" + userid)).getBytes(StandardCharsets.US_ASCII);
        String given = m.group(2).replaceAll("=+$", "");
        return MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.US_ASCII))
                && Tickets.fresh(Long.parseLong(m.group(1), 16), clock.instant().getEpochSecond(), lifetime);
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
