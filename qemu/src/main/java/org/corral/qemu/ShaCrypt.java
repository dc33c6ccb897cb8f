package org.corral.qemu;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * SHA-512 crypt ({@code $6$salt$hash}, glibc's default), as Proxmox stores {@code cipassword} and
 * as cloud-init hands it to the guest's {@code /etc/shadow}.
 */
public final class ShaCrypt {
    private static final String ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final int ROUNDS = 5000;
    private static final int[][] ORDER = {
        {0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4}, {47, 5, 26}, {6, 27, 48}, {28, 49, 7},
        {50, 8, 29}, {9, 30, 51}, {31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57},
        {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}};

    private ShaCrypt() {}

    /** Whether {@code value} is already a crypt hash ({@code $1$}, {@code $5$}, {@code $6$}, {@code $2y$}). */
    public static boolean isHash(String value) {
        return value.matches("\\$(?:[156]|2[ay])(\\$.+){2}");
    }

    public static String hash(String password) {
        byte[] bytes = new byte[12];
        new SecureRandom().nextBytes(bytes);
        StringBuilder salt = new StringBuilder();
        for (byte b : bytes) {
            salt.append(ALPHABET.charAt((b & 0xff) % 64));
        }
        return hash(password, salt.toString());
    }

    /** The {@code $6$salt$...} hash of {@code password} with {@code salt} (at most 16 characters used). */
    public static String hash(String password, String salt) {
        byte[] p = password.getBytes(StandardCharsets.UTF_8);
        String saltText = salt.length() > 16 ? salt.substring(0, 16) : salt;
        byte[] s = saltText.getBytes(StandardCharsets.UTF_8);
        MessageDigest b = sha512();
        b.update(p);
        b.update(s);
        b.update(p);
        byte[] bDigest = b.digest();
        MessageDigest a = sha512();
        a.update(p);
        a.update(s);
        int len;
        for (len = p.length; len > 64; len -= 64) {
            a.update(bDigest, 0, 64);
        }
        a.update(bDigest, 0, len);
        for (int n = p.length; n > 0; n >>= 1) {
            if ((n & 1) != 0) {
                a.update(bDigest);
            } else {
                a.update(p);
            }
        }
        byte[] aDigest = a.digest();
        MessageDigest dp = sha512();
        for (int i = 0; i < p.length; i++) {
            dp.update(p);
        }
        byte[] pSeq = repeat(dp.digest(), p.length);
        MessageDigest ds = sha512();
        for (int i = 0; i < 16 + (aDigest[0] & 0xff); i++) {
            ds.update(s);
        }
        byte[] sSeq = repeat(ds.digest(), s.length);
        byte[] c = aDigest;
        for (int i = 0; i < ROUNDS; i++) {
            MessageDigest round = sha512();
            round.update((i & 1) != 0 ? pSeq : c);
            if (i % 3 != 0) {
                round.update(sSeq);
            }
            if (i % 7 != 0) {
                round.update(pSeq);
            }
            round.update((i & 1) != 0 ? c : pSeq);
            c = round.digest();
        }
        StringBuilder out = new StringBuilder("$6$").append(saltText).append('$');
        for (int[] group : ORDER) {
            encode(out, c[group[0]], c[group[1]], c[group[2]], 4);
        }
        encode(out, (byte) 0, (byte) 0, c[63], 2);
        return out.toString();
    }

    private static void encode(StringBuilder out, byte b2, byte b1, byte b0, int chars) {
        int w = (b2 & 0xff) << 16 | (b1 & 0xff) << 8 | b0 & 0xff;
        for (int i = 0; i < chars; i++) {
            out.append(ALPHABET.charAt(w & 0x3f));
            w >>= 6;
        }
    }

    private static byte[] repeat(byte[] digest, int length) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = digest[i % digest.length];
        }
        return out;
    }

    private static MessageDigest sha512() {
        try {
            return MessageDigest.getInstance("SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
