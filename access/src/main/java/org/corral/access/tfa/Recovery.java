package org.corral.access.tfa;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A user's recovery keys as priv/tfa.cfg keeps them: a random secret (hex) and, per key, the
 * HMAC-SHA256 of the key under that secret, or nothing once the key was used.
 */
public record Recovery(String secret, List<Optional<String>> entries, long created) {
    public static final int COUNT = 10;

    public Recovery {
        requireNonNull(secret, "secret is null");
        entries = Collections.unmodifiableList(new ArrayList<>(entries));
    }

    /** New keys; the plain keys (shown to the user once) go into {@code keys}. */
    public static Recovery generate(long created, List<String> keys) {
        SecureRandom random = new SecureRandom();
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String hexSecret = HexFormat.of().formatHex(secret);
        List<Optional<String>> entries = new ArrayList<>();
        for (int i = 0; i < COUNT; i++) {
            byte[] raw = new byte[8];
            random.nextBytes(raw);
            String hex = HexFormat.of().formatHex(raw);
            String key = hex.substring(0, 4) + "-" + hex.substring(4, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12);
            keys.add(key);
            entries.add(Optional.of(hash(hexSecret, key)));
        }
        return new Recovery(hexSecret, entries, created);
    }

    /** The indices of the keys not used yet. */
    public List<Integer> available() {
        List<Integer> result = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).isPresent()) {
                result.add(i);
            }
        }
        return result;
    }

    /** The index of the unused key {@code key}, if it is one. */
    public Optional<Integer> find(String key) {
        byte[] given = hash(secret, key.strip().toLowerCase(Locale.ROOT)).getBytes(StandardCharsets.US_ASCII);
        Optional<Integer> found = Optional.empty();
        for (int i = 0; i < entries.size(); i++) {
            Optional<String> entry = entries.get(i);
            // compare with every entry so the time does not tell which one matched
            if (entry.isPresent() && MessageDigest.isEqual(entry.get().getBytes(StandardCharsets.US_ASCII), given)) {
                found = Optional.of(i);
            }
        }
        return found;
    }

    /** These keys with the key at {@code index} used up. */
    public Recovery use(int index) {
        List<Optional<String>> next = new ArrayList<>(entries);
        next.set(index, Optional.empty());
        return new Recovery(secret, next, created);
    }

    private static String hash(String secret, String key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "RAW"));
            return HexFormat.of().formatHex(mac.doFinal(key.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }

    @Override
    public String toString() {
        return "Recovery[" + available().size() + " left]";
    }
}
