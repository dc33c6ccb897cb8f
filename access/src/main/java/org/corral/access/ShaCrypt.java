package org.corral.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SHA-crypt ({@code $5$} SHA-256 and {@code $6$} SHA-512, Ulrich Drepper's specification), the
 * hashes glibc's crypt() makes and Proxmox VE stores in shadow.cfg. Used to verify them.
 */
public final class ShaCrypt {
    private static final String ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final Pattern SETTING = Pattern.compile("\\$([56])\\$(?:rounds=([0-9]{1,10})\\$)?([^$]{0,16})[^$]*(?:\\$.*)?");
    private static final int DEFAULT_ROUNDS = 5000;
    private static final int MIN_ROUNDS = 1000;
    private static final int MAX_ROUNDS = 999_999_999;
    private static final int[][] ORDER_256 = {
        {0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
        {15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}};
    private static final int[][] ORDER_512 = {
        {0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4}, {47, 5, 26}, {6, 27, 48},
        {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13},
        {56, 14, 35}, {15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}};

    private ShaCrypt() {}

    public static boolean handles(String hash) {
        return hash.startsWith("$5$") || hash.startsWith("$6$");
    }

    /**
     * crypt(3) of {@code password} with the algorithm, rounds and salt taken from {@code setting}
     * (a full hash or just {@code $5$salt}). Empty when the setting is not SHA-crypt.
     */
    public static Optional<String> crypt(String password, String setting) {
        Matcher m = SETTING.matcher(setting);
        if (!m.matches()) {
            return Optional.empty();
        }
        boolean sha512 = m.group(1).equals("6");
        boolean customRounds = m.group(2) != null;
        long requested = customRounds ? Long.parseLong(m.group(2)) : DEFAULT_ROUNDS;
        int rounds = (int) Math.max(MIN_ROUNDS, Math.min(MAX_ROUNDS, requested));
        byte[] salt = m.group(3).getBytes(StandardCharsets.UTF_8);
        byte[] key = password.getBytes(StandardCharsets.UTF_8);
        byte[] digest = compute(sha512 ? "SHA-512" : "SHA-256", key, salt, rounds);
        StringBuilder out = new StringBuilder(sha512 ? "$6$" : "$5$");
        if (customRounds) {
            out.append("rounds=").append(rounds).append('$');
        }
        out.append(m.group(3)).append('$');
        if (sha512) {
            for (int[] t : ORDER_512) {
                encode(out, digest[t[0]], digest[t[1]], digest[t[2]], 4);
            }
            encode(out, (byte) 0, (byte) 0, digest[63], 2);
        } else {
            for (int[] t : ORDER_256) {
                encode(out, digest[t[0]], digest[t[1]], digest[t[2]], 4);
            }
            encode(out, (byte) 0, digest[31], digest[30], 3);
        }
        return Optional.of(out.toString());
    }

    private static byte[] compute(String algorithm, byte[] key, byte[] salt, int rounds) {
        MessageDigest md = digest(algorithm);
        int size = md.getDigestLength();
        md.update(key);
        md.update(salt);
        md.update(key);
        byte[] b = md.digest();

        md.update(key);
        md.update(salt);
        for (int n = key.length; n > 0; n -= size) {
            md.update(b, 0, Math.min(n, size));
        }
        for (int n = key.length; n > 0; n >>= 1) {
            if ((n & 1) != 0) {
                md.update(b);
            } else {
                md.update(key);
            }
        }
        byte[] a = md.digest();

        for (int i = 0; i < key.length; i++) {
            md.update(key);
        }
        byte[] dp = md.digest();
        byte[] p = sequence(dp, key.length);

        for (int i = 0; i < 16 + (a[0] & 0xff); i++) {
            md.update(salt);
        }
        byte[] ds = md.digest();
        byte[] s = sequence(ds, salt.length);

        byte[] c = a;
        for (int i = 0; i < rounds; i++) {
            if ((i & 1) != 0) {
                md.update(p);
            } else {
                md.update(c);
            }
            if (i % 3 != 0) {
                md.update(s);
            }
            if (i % 7 != 0) {
                md.update(p);
            }
            if ((i & 1) != 0) {
                md.update(c);
            } else {
                md.update(p);
            }
            c = md.digest();
        }
        return c;
    }

    private static byte[] sequence(byte[] digest, int length) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = digest[i % digest.length];
        }
        return out;
    }

    private static void encode(StringBuilder out, byte b2, byte b1, byte b0, int chars) {
        int w = (b2 & 0xff) << 16 | (b1 & 0xff) << 8 | (b0 & 0xff);
        for (int i = 0; i < chars; i++) {
            out.append(ITOA64.charAt(w & 0x3f));
            w >>>= 6;
        }
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
