package org.corral.backup.datastore;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.corral.core.json.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A datastore encryption key: one 32-byte secret from which the AES-256-GCM key and the HMAC-SHA256 chunk id key
 * are derived, so a stored chunk name says nothing about the plaintext. The key file is JSON
 * ({@code {"kdf":"none","created":...,"key":"<base64>","fingerprint":"..."}}), kept 0600.
 */
public final class CryptKey {
    private static final int KEY_BYTES = 32;

    private final byte[] secret;
    private final byte[] aesKey;
    private final byte[] idKey;
    private final String fingerprint;

    private CryptKey(byte[] secret) {
        if (secret.length != KEY_BYTES) {
            throw new IllegalArgumentException("encryption key must be " + KEY_BYTES + " bytes, got " + secret.length);
        }
        this.secret = secret;
        this.aesKey = derive(secret, "corral datastore aes-256-gcm");
        this.idKey = derive(secret, "corral datastore chunk id");
        this.fingerprint = formatFingerprint(derive(idKey, "fingerprint"));
    }

    public static CryptKey generate() {
        byte[] secret = new byte[KEY_BYTES];
        new SecureRandom().nextBytes(secret);
        return new CryptKey(secret);
    }

    public static CryptKey fromSecret(byte[] secret) {
        return new CryptKey(secret.clone());
    }

    /** Writes a new random key to {@code file} (0600, atomically) and returns it; refuses to overwrite. */
    public static CryptKey create(Path file) throws IOException {
        if (Files.exists(file)) {
            throw new IOException("encryption key file " + file + " already exists");
        }
        CryptKey key = generate();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, key.toJson());
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        return key;
    }

    /** The key file's text, on one line (API parameters carry no line breaks): {@code {"kdf":"none","created":...,"key":"<base64>","fingerprint":...}}. */
    public String toJson() {
        ObjectNode json = Json.object();
        json.put("kdf", "none");
        json.put("created", Instant.now().toString());
        json.put("key", Base64.getEncoder().encodeToString(secret));
        json.put("fingerprint", fingerprint);
        return json.toString();
    }

    public static CryptKey load(Path file) throws IOException {
        try {
            return parse(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IOException("encryption key file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads a key file's text; IllegalArgumentException says what is wrong with it. */
    public static CryptKey parse(String text) {
        JsonNode json;
        try {
            json = Json.read(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the key is not valid JSON", e);
        }
        if (!json.isObject()) {
            throw new IllegalArgumentException("the key is not a JSON object");
        }
        if (!"none".equals(json.path("kdf").asString("none"))) {
            throw new IllegalArgumentException("kdf '" + json.path("kdf").asString() + "' is not supported");
        }
        byte[] secret;
        try {
            secret = Base64.getDecoder().decode(json.path("key").asString(""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'key' is not base64", e);
        }
        if (secret.length != KEY_BYTES) {
            throw new IllegalArgumentException("'key' must hold " + KEY_BYTES + " bytes");
        }
        return new CryptKey(secret);
    }

    /** Short public identity of the key, recorded in manifests so a restore can tell a wrong key from a missing one. */
    public String fingerprint() {
        return fingerprint;
    }

    byte[] aesKey() {
        return aesKey;
    }

    /** A new HMAC-SHA256 keyed with the chunk id key (one per thread: Mac is not thread-safe). */
    Mac newIdMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(idKey, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static byte[] derive(byte[] key, String label) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(label.getBytes(UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static String formatFingerprint(byte[] digest) {
        String hex = HexFormat.of().formatHex(Arrays.copyOf(digest, 8));
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < hex.length(); i += 2) {
            if (i > 0) {
                out.append(':');
            }
            out.append(hex, i, i + 2);
        }
        return out.toString();
    }
}
