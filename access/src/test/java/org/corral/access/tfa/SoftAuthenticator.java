package org.corral.access.tfa;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.corral.core.json.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A software FIDO2 authenticator for tests: one ES256 credential, "none" attestation, a signature
 * counter that grows with each assertion. It answers creation and request options the way a
 * browser's navigator.credentials does, as the JSON Proxmox's GUI posts.
 */
public final class SoftAuthenticator {
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private final String origin;
    private final KeyPair keys;
    private final byte[] credentialId = new byte[16];
    private int counter;

    public SoftAuthenticator(String origin) throws Exception {
        this.origin = origin;
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        this.keys = generator.generateKeyPair();
        new SecureRandom().nextBytes(credentialId);
    }

    /** The answer to {@code {"publicKey": creation options}}. */
    public String register(JsonNode options) throws Exception {
        JsonNode key = options.path("publicKey");
        byte[] clientData = clientData("webauthn.create", key.path("challenge").asString());
        ByteArrayOutputStream authData = new ByteArrayOutputStream();
        authData.write(sha256(key.path("rp").path("id").asString().getBytes(StandardCharsets.UTF_8)));
        authData.write(0x41); // user present, attested credential data
        authData.write(ByteBuffer.allocate(4).putInt(counter).array());
        authData.write(new byte[16]); // AAGUID
        authData.write(ByteBuffer.allocate(2).putShort((short) credentialId.length).array());
        authData.write(credentialId);
        authData.write(coseKey());
        Map<Object, Object> attestation = new LinkedHashMap<>();
        attestation.put("fmt", "none");
        attestation.put("attStmt", Map.of());
        attestation.put("authData", authData.toByteArray());
        ObjectNode response = Json.object();
        response.put("attestationObject", B64URL.encodeToString(cbor(attestation)));
        response.put("clientDataJSON", B64URL.encodeToString(clientData));
        return credential(response);
    }

    /** The answer to {@code {"publicKey": request options}}, for {@code challenge} (the options' own if null). */
    public String assertion(JsonNode options, String challenge) throws Exception {
        JsonNode key = options.path("publicKey");
        counter++;
        byte[] clientData = clientData("webauthn.get", challenge != null ? challenge : key.path("challenge").asString());
        ByteArrayOutputStream authData = new ByteArrayOutputStream();
        authData.write(sha256(key.path("rpId").asString().getBytes(StandardCharsets.UTF_8)));
        authData.write(0x01); // user present
        authData.write(ByteBuffer.allocate(4).putInt(counter).array());
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(keys.getPrivate());
        signer.update(authData.toByteArray());
        signer.update(sha256(clientData));
        ObjectNode response = Json.object();
        response.put("authenticatorData", B64URL.encodeToString(authData.toByteArray()));
        response.put("clientDataJSON", B64URL.encodeToString(clientData));
        response.put("signature", B64URL.encodeToString(signer.sign()));
        return credential(response);
    }

    private String credential(ObjectNode response) {
        ObjectNode credential = Json.object();
        credential.put("id", B64URL.encodeToString(credentialId));
        credential.put("type", "public-key");
        credential.set("response", response);
        return Json.write(credential);
    }

    private byte[] clientData(String type, String challenge) {
        ObjectNode data = Json.object();
        data.put("type", type);
        data.put("challenge", challenge);
        data.put("origin", origin);
        data.put("crossOrigin", false);
        return Json.write(data).getBytes(StandardCharsets.UTF_8);
    }

    private byte[] coseKey() throws Exception {
        ECPublicKey key = (ECPublicKey) keys.getPublic();
        Map<Object, Object> cose = new LinkedHashMap<>();
        cose.put(1, 2); // kty: EC2
        cose.put(3, -7); // alg: ES256
        cose.put(-1, 1); // crv: P-256
        cose.put(-2, fixed(key.getW().getAffineX()));
        cose.put(-3, fixed(key.getW().getAffineY()));
        return cbor(cose);
    }

    private static byte[] fixed(BigInteger value) {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[32];
        int from = Math.max(0, raw.length - 32);
        System.arraycopy(raw, from, out, 32 - (raw.length - from), raw.length - from);
        return out;
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    /** Just enough CBOR: maps, byte and text strings, small integers. */
    static byte[] cbor(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(out, value);
        return out.toByteArray();
    }

    private static void write(ByteArrayOutputStream out, Object value) {
        if (value instanceof Integer n) {
            header(out, n >= 0 ? 0 : 1, n >= 0 ? n : -1 - n);
        } else if (value instanceof byte[] bytes) {
            header(out, 2, bytes.length);
            out.writeBytes(bytes);
        } else if (value instanceof String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            header(out, 3, bytes.length);
            out.writeBytes(bytes);
        } else if (value instanceof Map<?, ?> map) {
            header(out, 5, map.size());
            map.forEach((k, v) -> {
                write(out, k);
                write(out, v);
            });
        } else {
            throw new IllegalArgumentException("no CBOR for " + value);
        }
    }

    private static void header(ByteArrayOutputStream out, int major, long length) {
        if (length < 24) {
            out.write(major << 5 | (int) length);
        } else if (length < 256) {
            out.write(major << 5 | 24);
            out.write((int) length);
        } else {
            out.write(major << 5 | 25);
            out.write((int) (length >> 8));
            out.write((int) length & 0xff);
        }
    }

    byte[] credentialId() {
        return Arrays.copyOf(credentialId, credentialId.length);
    }
}
