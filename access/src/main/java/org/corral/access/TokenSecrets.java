package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Checks API token secrets against priv/token.cfg, which holds the SHA-256 hex of each secret (or,
 * for tokens taken over from Proxmox VE, the secret itself). Secrets that checked out are kept in
 * memory, bound to the token.cfg snapshot they were checked against, so a repeated request costs
 * one constant-time comparison; any change of token.cfg or a deletion here drops them.
 */
public final class TokenSecrets {
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final Supplier<CachedFile.Snapshot<? extends Map<String, String>>> file;
    private final ConcurrentHashMap<String, Verified> verified = new ConcurrentHashMap<>();

    private record Verified(Object snapshot, byte[] secret) {}

    TokenSecrets(Supplier<CachedFile.Snapshot<? extends Map<String, String>>> file) {
        this.file = requireNonNull(file, "file is null");
    }

    /** What token.cfg stores for a secret. */
    public static String storedValue(String secret) {
        return HexFormat.of().formatHex(sha256(secret.getBytes(StandardCharsets.UTF_8)));
    }

    /** Whether {@code secret} is the current secret of the full token id. */
    public boolean verify(String tokenid, String secret) {
        byte[] given = secret.getBytes(StandardCharsets.UTF_8);
        CachedFile.Snapshot<? extends Map<String, String>> snapshot = file.get();
        Verified known = verified.get(tokenid);
        if (known != null && known.snapshot() == snapshot) {
            return MessageDigest.isEqual(known.secret(), given);
        }
        String stored = snapshot.value().get(tokenid);
        if (stored == null || !matches(stored, given)) {
            return false;
        }
        verified.put(tokenid, new Verified(snapshot, given));
        return true;
    }

    private static boolean matches(String stored, byte[] given) {
        if (SHA256_HEX.matcher(stored).matches()) {
            return MessageDigest.isEqual(stored.getBytes(StandardCharsets.US_ASCII),
                    HexFormat.of().formatHex(sha256(given)).getBytes(StandardCharsets.US_ASCII));
        }
        if (UUID.matcher(stored).matches()) {
            return MessageDigest.isEqual(stored.getBytes(StandardCharsets.UTF_8), given);
        }
        return false;
    }

    /** Drops what is known about a token, after it was deleted or got a new secret. */
    public void forget(String tokenid) {
        verified.remove(tokenid);
    }

    /** Drops the verified secrets of every token of a user. */
    public void forgetUser(String userid) {
        verified.keySet().removeIf(tokenid -> tokenid.startsWith(userid + "!"));
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
