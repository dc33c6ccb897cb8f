package org.corral.access.tfa;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A TOTP key (RFC 6238 over RFC 4226's HOTP) as an {@code otpauth://totp/...} URI stores it:
 * the secret, the HMAC algorithm (SHA1, SHA256, SHA512), the number of digits and the period.
 */
public record Totp(byte[] secret, String algorithm, int digits, int period) {
    /** How many periods before and after the current one a code is still accepted, for clock skew. */
    public static final int WINDOW = 1;

    public Totp {
        requireNonNull(secret, "secret is null");
        requireNonNull(algorithm, "algorithm is null");
        if (secret.length < 10) {
            throw new IllegalArgumentException("secret must be at least 80 bits");
        }
        if (!algorithm.equals("SHA1") && !algorithm.equals("SHA256") && !algorithm.equals("SHA512")) {
            throw new IllegalArgumentException("unsupported algorithm '" + algorithm + "'");
        }
        if (digits < 6 || digits > 8) {
            throw new IllegalArgumentException("digits must be between 6 and 8");
        }
        if (period < 10 || period > 120) {
            throw new IllegalArgumentException("period must be between 10 and 120 seconds");
        }
    }

    /** Parses an {@code otpauth://totp/LABEL?secret=BASE32[&algorithm=..][&digits=..][&period=..]} URI. */
    public static Totp parseUri(String uri) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URI");
        }
        if (!"otpauth".equals(parsed.getScheme()) || !"totp".equalsIgnoreCase(parsed.getHost())) {
            throw new IllegalArgumentException("not an otpauth://totp/ URI");
        }
        Map<String, String> query = new LinkedHashMap<>();
        String raw = parsed.getRawQuery();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    query.put(pair.substring(0, eq).toLowerCase(Locale.ROOT),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        String secret = query.get("secret");
        if (secret == null || secret.isEmpty()) {
            throw new IllegalArgumentException("the URI has no secret");
        }
        return new Totp(Base32.decode(secret), query.getOrDefault("algorithm", "SHA1").toUpperCase(Locale.ROOT),
                integer(query, "digits", 6), integer(query, "period", 30));
    }

    private static int integer(Map<String, String> query, String key, int otherwise) {
        String value = query.get(key);
        if (value == null) {
            return otherwise;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + key + "' is not a number");
        }
    }

    /** The time step an instant (epoch seconds) falls in. */
    public long step(long epochSeconds) {
        return Math.floorDiv(epochSeconds, period);
    }

    /** The code of one time step, zero-padded to {@code digits}. */
    public String code(long step) {
        byte[] counter = new byte[8];
        for (int i = 7, v = 0; i >= 0; i--, v++) {
            counter[i] = (byte) (step >>> (8 * v));
        }
        byte[] hash;
        try {
            Mac mac = Mac.getInstance("Hmac" + algorithm);
            mac.init(new SecretKeySpec(secret, "RAW"));
            hash = mac.doFinal(counter);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-" + algorithm + " is not available", e);
        }
        int offset = hash[hash.length - 1] & 0x0f;
        int binary = (hash[offset] & 0x7f) << 24 | (hash[offset + 1] & 0xff) << 16
                | (hash[offset + 2] & 0xff) << 8 | hash[offset + 3] & 0xff;
        int modulus = (int) Math.pow(10, digits);
        return String.format(Locale.ROOT, "%0" + digits + "d", binary % modulus);
    }

    /**
     * The step whose code {@code code} is, within {@link #WINDOW} steps of {@code epochSeconds} and
     * after {@code lastUsed} (a code is good once); empty when none matches.
     */
    public OptionalLong verify(String code, long epochSeconds, OptionalLong lastUsed) {
        if (code.length() != digits || !code.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return OptionalLong.empty();
        }
        long now = step(epochSeconds);
        for (long step = now - WINDOW; step <= now + WINDOW; step++) {
            if (lastUsed.isPresent() && step <= lastUsed.getAsLong()) {
                continue;
            }
            if (MessageDigest.isEqual(code(step).getBytes(StandardCharsets.US_ASCII),
                    code.getBytes(StandardCharsets.US_ASCII))) {
                return OptionalLong.of(step);
            }
        }
        return OptionalLong.empty();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Totp t && Arrays.equals(secret, t.secret) && algorithm.equals(t.algorithm)
                && digits == t.digits && period == t.period;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(secret) * 31 + algorithm.hashCode() + digits * 7 + period;
    }

    @Override
    public String toString() {
        // never the secret: records print their fields
        return "Totp[" + algorithm + ", " + digits + " digits, " + period + "s]";
    }
}
