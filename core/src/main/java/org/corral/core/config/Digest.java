package org.corral.core.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import org.corral.core.error.Conflict;

/** Proxmox's config {@code digest}: SHA-1 hex of the stored file. */
public final class Digest {
    public static final String MODIFIED = "detected modified configuration - file changed by other user? Try again.";

    private Digest() {}

    public static String sha1Hex(String text) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            return HexFormat.of().formatHex(sha1.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Refuses a write whose {@code digest} parameter no longer matches the stored file. */
    public static void check(Optional<String> expected, String currentDigest) {
        if (expected.isPresent() && !expected.get().equalsIgnoreCase(currentDigest)) {
            throw new Conflict(MODIFIED);
        }
    }
}
