package org.corral.cluster.tls;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;

/**
 * Key pairs Corral generates for its own certificates.
 *
 * <p>The cluster CA defaults to {@link #EC_P384}: it is made in milliseconds where RSA 4096 (Proxmox's choice)
 * takes seconds, which adds up in tests that create clusters, and it is as strong as RSA 7680. Every TLS client
 * in use verifies ECDSA P-384 signatures. Node certificates default to {@link #RSA_2048} like Proxmox's
 * {@code pve-ssl.pem}: the key is used in every handshake, and RSA is the one key type that every client accepts.
 */
public enum KeyType {
    RSA_2048,
    RSA_3072,
    RSA_4096,
    EC_P256,
    EC_P384;

    /** A fresh key pair of this type. */
    public KeyPair generate(SecureRandom random) {
        try {
            return switch (this) {
                case RSA_2048 -> rsa(2048, random);
                case RSA_3072 -> rsa(3072, random);
                case RSA_4096 -> rsa(4096, random);
                case EC_P256 -> ec("secp256r1", random);
                case EC_P384 -> ec("secp384r1", random);
            };
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + this + " key pair", e);
        }
    }

    private static KeyPair rsa(int bits, SecureRandom random) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(bits, random);
        return generator.generateKeyPair();
    }

    private static KeyPair ec(String curve, SecureRandom random) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec(curve), random);
        return generator.generateKeyPair();
    }
}
