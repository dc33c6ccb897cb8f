package org.corral.storage;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;

/** The checksum algorithms of upload and download-url, by their Proxmox names. */
public final class Checksums {
    public static final String[] NAMES = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"};
    private static final Map<String, String> JDK_NAMES = Map.of("md5", "MD5", "sha1", "SHA-1", "sha224", "SHA-224",
            "sha256", "SHA-256", "sha384", "SHA-384", "sha512", "SHA-512");

    private Checksums() {}

    public static MessageDigest digest(String algorithm) {
        String name = JDK_NAMES.get(algorithm);
        if (name == null) {
            throw new IllegalArgumentException("unknown checksum algorithm '" + algorithm + "'");
        }
        try {
            return MessageDigest.getInstance(name);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(name + " is part of every JDK", e);
        }
    }
}
