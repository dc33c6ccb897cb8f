package org.corral.cluster.tls;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Locale;
import java.util.Optional;

/** What the TLS code needs to know about a key: its kind, its size, and whether two halves belong together. */
public final class Keys {
    private Keys() {}

    /** Why the key cannot serve TLS, or empty when it can. */
    public static Optional<String> unsupported(PrivateKey key) {
        if (key instanceof RSAKey rsa) {
            int bits = rsa.getModulus().bitLength();
            // browsers and the JDK's own client refuse RSA keys below 2048 bits
            return bits < 2048
                    ? Optional.of("RSA key of " + bits + " bits is too weak; use at least 2048 bits")
                    : Optional.empty();
        }
        if (key instanceof ECPrivateKey || key instanceof EdECPrivateKey) {
            return Optional.empty();
        }
        return Optional.of("unsupported key algorithm " + key.getAlgorithm() + "; use RSA, EC or Ed25519");
    }

    /** True when the private key is the other half of the public key. */
    public static boolean matches(PrivateKey key, PublicKey publicKey) {
        if (key instanceof RSAKey rsa && publicKey instanceof RSAPublicKey rsaPublic) {
            boolean exponentMatches = !(key instanceof RSAPrivateCrtKey crt)
                    || crt.getPublicExponent().equals(rsaPublic.getPublicExponent());
            return exponentMatches && rsa.getModulus().equals(rsaPublic.getModulus());
        }
        if (key instanceof ECPrivateKey && publicKey instanceof ECPublicKey) {
            return signsFor(key, publicKey, "SHA256withECDSA");
        }
        if (key instanceof EdECPrivateKey edKey && publicKey instanceof EdECPublicKey edPublic) {
            return edKey.getParams().getName().equals(edPublic.getParams().getName())
                    && signsFor(key, publicKey, "EdDSA");
        }
        return false;
    }

    // the JDK cannot derive an EC public point from the private scalar, so prove the pair by a signature
    private static boolean signsFor(PrivateKey key, PublicKey publicKey, String algorithm) {
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** The algorithm a CA with this key signs certificates with. */
    public static String signatureAlgorithm(PrivateKey signer) {
        if (signer instanceof RSAKey) {
            return "SHA256withRSA";
        }
        if (signer instanceof ECKey ec) {
            int bits = ec.getParams().getOrder().bitLength();
            return bits > 384 ? "SHA512withECDSA" : bits > 256 ? "SHA384withECDSA" : "SHA256withECDSA";
        }
        if (signer instanceof EdECKey ed) {
            return ed.getParams().getName();
        }
        throw new IllegalArgumentException("cannot sign certificates with a " + signer.getAlgorithm() + " key");
    }

    /** OpenSSL's short name of the key type, as Proxmox reports it in {@code public-key-type}. */
    public static String opensslType(PublicKey key) {
        if (key instanceof RSAPublicKey) {
            return "RSASSA-PSS".equalsIgnoreCase(key.getAlgorithm()) ? "RSASSA-PSS" : "rsaEncryption";
        }
        if (key instanceof ECPublicKey) {
            return "id-ecPublicKey";
        }
        if (key instanceof EdECPublicKey ed) {
            return ed.getParams().getName().toUpperCase(Locale.ROOT);
        }
        return key.getAlgorithm();
    }

    /** The key size as OpenSSL's {@code EVP_PKEY_bits} counts it: modulus, group order, or curve bits. */
    public static int bits(PublicKey key) {
        if (key instanceof RSAPublicKey rsa) {
            return rsa.getModulus().bitLength();
        }
        if (key instanceof ECPublicKey ec) {
            return ec.getParams().getOrder().bitLength();
        }
        if (key instanceof EdECPublicKey ed) {
            return "Ed448".equalsIgnoreCase(ed.getParams().getName()) ? 456 : 253;
        }
        return 0;
    }

    /** A short description for messages: {@code RSA 2048-bit}, {@code EC 384-bit}. */
    public static String describe(PublicKey key) {
        String kind = key instanceof RSAPublicKey ? "RSA" : key instanceof ECPublicKey ? "EC" : key.getAlgorithm();
        return kind + " " + bits(key) + "-bit";
    }
}
