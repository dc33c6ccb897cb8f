package org.corral.cluster.tls;

import static java.util.Objects.requireNonNull;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A certificate chain, leaf first, with the leaf's private key: what a TLS server presents. The chain is
 * stored as {@code pve-ssl.pem} or {@code pveproxy-ssl.pem}, the key as the matching {@code .key} file.
 */
public record CertifiedKey(List<X509Certificate> chain, PrivateKey privateKey) {
    public CertifiedKey {
        chain = List.copyOf(requireNonNull(chain, "chain is null"));
        requireNonNull(privateKey, "privateKey is null");
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("chain is empty");
        }
    }

    /**
     * Reads a stored pair: the key must belong to the first certificate, but expiry is not checked, since a
     * node keeps serving an expired certificate rather than none.
     */
    public static CertifiedKey fromPem(String certificatesPem, String privateKeyPem) {
        List<X509Certificate> chain = Pem.parseCertificates(certificatesPem);
        PrivateKey key = Pem.parsePrivateKey(privateKeyPem);
        if (!Keys.matches(key, chain.getFirst().getPublicKey())) {
            throw new IllegalArgumentException(
                    "private key does not match certificate " + chain.getFirst().getSubjectX500Principal());
        }
        return new CertifiedKey(chain, key);
    }

    /** The certificate the key belongs to. */
    public X509Certificate certificate() {
        return chain.getFirst();
    }

    public String chainPem() {
        return Pem.certificates(chain);
    }

    /** The key as PKCS#8 PEM. */
    public String privateKeyPem() {
        return Pem.privateKey(privateKey);
    }

    // the JDK's RSA key toString prints the private exponent; keep it out of logs
    @Override
    public String toString() {
        return "CertifiedKey[" + certificate().getSubjectX500Principal() + ", " + chain.size() + " certificate(s), "
                + Keys.describe(certificate().getPublicKey()) + " key]";
    }
}
