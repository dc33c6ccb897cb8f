package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ticket signing keys and their files. Ed25519: short signatures (a ticket stays well under
 * the 512 characters a verifier reads), cheap key generation for the daily rotation, and no
 * randomness needed to sign. {@code authkey.pub} and {@code authkey.pub.old} hold a public key
 * (PEM, X.509) after a {@code created: EPOCH} line; {@code priv/authkey.key} holds the private key
 * (PEM, PKCS#8) after the text of its public key, so a reader can tell whether the two files match.
 */
final class TicketKeys {
    static final String ALGORITHM = "Ed25519";
    private static final Pattern CREATED = Pattern.compile("(?m)^created: (\\d{1,12})$");
    private static final Pattern PUBLIC = block("PUBLIC KEY");
    private static final Pattern PRIVATE = block("PRIVATE KEY");

    /** A private key and the public half that goes with it. */
    record SigningKey(PrivateKey key, TicketVerifier.Key publicKey) {
        SigningKey {
            requireNonNull(key, "key is null");
            requireNonNull(publicKey, "publicKey is null");
        }
    }

    private TicketKeys() {}

    private static Pattern block(String label) {
        return Pattern.compile("-----BEGIN " + label + "-----\\s*([A-Za-z0-9+/=\\s]+?)-----END " + label + "-----");
    }

    static SigningKey generate(long created) {
        try {
            KeyPair pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
            return new SigningKey(pair.getPrivate(), new TicketVerifier.Key(pair.getPublic(), created));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(ALGORITHM + " unavailable", e);
        }
    }

    static String publicText(TicketVerifier.Key key) {
        return "created: " + key.created() + "\n" + pem("PUBLIC KEY", key.key().getEncoded());
    }

    static String privateText(SigningKey key) {
        return publicText(key.publicKey()) + pem("PRIVATE KEY", key.key().getEncoded());
    }

    /** The public key of {@code authkey.pub}; empty when missing or not readable. */
    static Optional<TicketVerifier.Key> parsePublic(String text) {
        Matcher created = CREATED.matcher(text);
        Optional<byte[]> der = der(PUBLIC, text);
        if (!created.find() || der.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new TicketVerifier.Key(
                    KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der.get())),
                    Long.parseLong(created.group(1))));
        } catch (GeneralSecurityException e) {
            return Optional.empty();
        }
    }

    /** The key pair of {@code priv/authkey.key}; empty when missing or not readable (a key of an older format). */
    static Optional<SigningKey> parsePrivate(String text) {
        Optional<TicketVerifier.Key> publicKey = parsePublic(text);
        Optional<byte[]> der = der(PRIVATE, text);
        if (publicKey.isEmpty() || der.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new SigningKey(
                    KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der.get())), publicKey.get()));
        } catch (GeneralSecurityException e) {
            return Optional.empty();
        }
    }

    private static Optional<byte[]> der(Pattern block, String text) {
        Matcher m = block.matcher(text);
        if (!m.find()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Base64.getMimeDecoder().decode(m.group(1)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }
}
