package org.corral.access;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.Locale;

/**
 * What tickets ({@code PVE:USER@REALM:HEXTIME::SIGNATURE}), signed by {@link TicketIssuer} and
 * checked by {@link TicketVerifier}, and CSRF tokens ({@link CsrfTokens}) share: their lifetime
 * (2 hours) and the time stamp in upper-case hex. Like Proxmox, up to 5 minutes of clock skew into
 * the future is tolerated.
 */
public final class Tickets {
    public static final Duration LIFETIME = Duration.ofHours(2);
    static final long GRACE_SECONDS = 300;

    private Tickets() {}

    /** The signed part of a ticket. */
    static String plain(String userid, String hexTime) {
        return "PVE:" + userid + ":" + hexTime;
    }

    /** What the user part of a half ticket starts with; never a valid user id. */
    static final String TFA_PREFIX = "!tfa!";

    /** The bytes a ticket's signature covers: the plain part, and the additional data (a user id) if any. */
    static String signed(String plain, Optional<String> aad) {
        return aad.map(a -> plain + ":" + a).orElse(plain);
    }

    /** URL-encoding as JavaScript's encodeURIComponent does it, which Proxmox's GUI reverses. */
    static String encodeChallenge(String json) {
        return URLEncoder.encode(json, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String decodeChallenge(String encoded) {
        return URLDecoder.decode(encoded.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    static String hexTime(long seconds) {
        return String.format(Locale.ROOT, "%08X", seconds);
    }

    /** Whether something issued at {@code issued} is neither expired nor from too far in the future. */
    static boolean fresh(long issued, long now, Duration lifetime) {
        long age = now - issued;
        return age >= -GRACE_SECONDS && age <= lifetime.toSeconds();
    }
}
