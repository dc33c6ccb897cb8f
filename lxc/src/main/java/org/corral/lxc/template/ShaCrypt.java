package org.corral.lxc.template;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * SHA-256 crypt ({@code $5$salt$hash}, Ulrich Drepper's specification with the default 5000
 * rounds), the hash Proxmox writes into a container's {@code /etc/shadow} and glibc's and
 * busybox's {@code crypt} verify.
 */
public final class ShaCrypt {
    private static final String ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final int ROUNDS = 5000;
    private static final int[][] ORDER = {
        {0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14}, {15, 25, 5}, {6, 16, 26}, {27, 7, 17},
        {18, 28, 8}, {9, 19, 29},
    };

    private ShaCrypt() {}

    /** Hashes with a fresh random 16-character salt. */
    public static String hash(String password, SecureRandom random) {
        StringBuilder salt = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            salt.append(ITOA64.charAt(random.nextInt(ITOA64.length())));
        }
        return hash(password, salt.toString());
    }

    public static String hash(String password, String salt) {
        if (salt.length() > 16) {
            salt = salt.substring(0, 16);
        }
        byte[] key = password.getBytes(StandardCharsets.UTF_8);
        byte[] s = salt.getBytes(StandardCharsets.UTF_8);
        MessageDigest b = sha256();
        b.update(key);
        b.update(s);
        b.update(key);
        byte[] bDigest = b.digest();

        MessageDigest a = sha256();
        a.update(key);
        a.update(s);
        repeat(a, bDigest, key.length);
        for (int n = key.length; n > 0; n >>= 1) {
            a.update((n & 1) != 0 ? bDigest : key);
        }
        byte[] aDigest = a.digest();

        MessageDigest dp = sha256();
        for (int i = 0; i < key.length; i++) {
            dp.update(key);
        }
        byte[] p = stretch(dp.digest(), key.length);

        MessageDigest ds = sha256();
        for (int i = 0; i < 16 + (aDigest[0] & 0xff); i++) {
            ds.update(s);
        }
        byte[] sBytes = stretch(ds.digest(), s.length);

        byte[] c = aDigest;
        for (int i = 0; i < ROUNDS; i++) {
            MessageDigest round = sha256();
            round.update((i & 1) != 0 ? p : c);
            if (i % 3 != 0) {
                round.update(sBytes);
            }
            if (i % 7 != 0) {
                round.update(p);
            }
            round.update((i & 1) != 0 ? c : p);
            c = round.digest();
        }

        StringBuilder out = new StringBuilder("$5$").append(salt).append('$');
        for (int[] o : ORDER) {
            encode(out, c[o[0]], c[o[1]], c[o[2]], 4);
        }
        encode(out, (byte) 0, c[31], c[30], 3);
        return out.toString();
    }

    private static void repeat(MessageDigest digest, byte[] block, int length) {
        int n = length;
        for (; n > block.length; n -= block.length) {
            digest.update(block);
        }
        digest.update(block, 0, n);
    }

    private static byte[] stretch(byte[] block, int length) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = block[i % block.length];
        }
        return out;
    }

    private static void encode(StringBuilder out, byte b2, byte b1, byte b0, int chars) {
        int w = (b2 & 0xff) << 16 | (b1 & 0xff) << 8 | (b0 & 0xff);
        for (int i = 0; i < chars; i++) {
            out.append(ITOA64.charAt(w & 0x3f));
            w >>= 6;
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
