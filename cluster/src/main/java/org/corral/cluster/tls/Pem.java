package org.corral.cluster.tls;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.StringReader;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * PEM text of certificates and private keys, as Proxmox keeps them in {@code /etc/pve}.
 *
 * <p>Parsing skips text around the blocks (the {@code Bag Attributes} that {@code openssl pkcs12} writes, or
 * the dump of {@code openssl x509 -text}) and throws {@link IllegalArgumentException} with a message fit for
 * a user. Keys are written as PKCS#8 {@code PRIVATE KEY} and read in that form and in OpenSSL's traditional
 * {@code RSA PRIVATE KEY} (PKCS#1) and {@code EC PRIVATE KEY} (SEC1) forms.
 */
public final class Pem {
    private static final String CERTIFICATE = "CERTIFICATE";
    private static final String PRIVATE_KEY = "PRIVATE KEY";

    private Pem() {}

    /** One PEM block with 64-character lines, as OpenSSL writes it. */
    public static String encode(String label, byte[] der) {
        requireNonNull(label, "label is null");
        requireNonNull(der, "der is null");
        String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
    }

    public static String certificate(X509Certificate certificate) {
        requireNonNull(certificate, "certificate is null");
        try {
            return encode(CERTIFICATE, certificate.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode certificate " + certificate.getSubjectX500Principal(), e);
        }
    }

    /** The certificates concatenated in the given order, leaf first for a TLS chain. */
    public static String certificates(List<X509Certificate> certificates) {
        StringBuilder text = new StringBuilder();
        certificates.forEach(certificate -> text.append(certificate(certificate)));
        return text.toString();
    }

    /** The key as unencrypted PKCS#8 ({@code -----BEGIN PRIVATE KEY-----}). */
    public static String privateKey(PrivateKey key) {
        requireNonNull(key, "key is null");
        if (!"PKCS#8".equals(key.getFormat()) || key.getEncoded() == null) {
            throw new IllegalArgumentException("key " + key.getAlgorithm() + " cannot be exported as PKCS#8");
        }
        return encode(PRIVATE_KEY, key.getEncoded());
    }

    /** Every certificate in the text, in order; at least one. */
    public static List<X509Certificate> parseCertificates(String pem) {
        requireNonNull(pem, "pem is null");
        if (pem.isBlank()) {
            throw new IllegalArgumentException("no certificate given");
        }
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        List<X509Certificate> certificates = new ArrayList<>();
        for (Object object : readAll(pem, "certificate")) {
            if (!(object instanceof X509CertificateHolder holder)) {
                // a key pasted into the certificate field would land in a file that is not kept secret
                throw new IllegalArgumentException(
                        "expected only CERTIFICATE blocks, found " + describe(object) + " (block "
                                + (certificates.size() + 1) + ")");
            }
            try {
                certificates.add(converter.getCertificate(holder));
            } catch (CertificateException e) {
                throw new IllegalArgumentException(
                        "certificate " + (certificates.size() + 1) + " is not a valid X.509 certificate: "
                                + e.getMessage(), e);
            }
        }
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("no PEM certificate found (expected -----BEGIN CERTIFICATE-----)");
        }
        return List.copyOf(certificates);
    }

    /** The one unencrypted private key in the text. */
    public static PrivateKey parsePrivateKey(String pem) {
        requireNonNull(pem, "pem is null");
        if (pem.isBlank()) {
            throw new IllegalArgumentException("no private key given");
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        List<PrivateKey> keys = new ArrayList<>();
        for (Object object : readAll(pem, "private key")) {
            PrivateKeyInfo info = switch (object) {
                case PrivateKeyInfo pkcs8 -> pkcs8;
                // "RSA PRIVATE KEY" (PKCS#1) and "EC PRIVATE KEY" (SEC1); SEC1 may lack the public part
                case PEMKeyPair pair -> pair.getPrivateKeyInfo();
                // "openssl ecparam -genkey" writes the curve in its own block before the key
                case ASN1ObjectIdentifier curve -> null;
                case X9ECParameters curve -> null;
                case PEMEncryptedKeyPair encrypted -> throw encrypted();
                case PKCS8EncryptedPrivateKeyInfo encrypted -> throw encrypted();
                default -> throw new IllegalArgumentException(
                        "expected a private key, found " + describe(object));
            };
            if (info != null) {
                try {
                    keys.add(converter.getPrivateKey(info));
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException("unreadable private key: " + message(e), e);
                }
            }
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no PEM private key found (expected -----BEGIN PRIVATE KEY-----)");
        }
        if (keys.size() > 1) {
            throw new IllegalArgumentException("expected one private key, found " + keys.size());
        }
        return keys.getFirst();
    }

    private static List<Object> readAll(String pem, String what) {
        List<Object> objects = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                objects.add(object);
            }
        } catch (IOException | RuntimeException e) {
            // Bouncy Castle reports broken base64 and DER as unchecked exceptions
            throw new IllegalArgumentException("not a valid PEM " + what + ": " + message(e), e);
        }
        return objects;
    }

    private static IllegalArgumentException encrypted() {
        return new IllegalArgumentException(
                "encrypted private keys are not supported; remove the passphrase first"
                        + " (openssl pkey -in key.pem -out key-plain.pem)");
    }

    private static String describe(Object object) {
        return switch (object) {
            case X509CertificateHolder certificate -> "a certificate";
            case PrivateKeyInfo key -> "a private key";
            case PEMKeyPair key -> "a private key";
            case PEMEncryptedKeyPair key -> "an encrypted private key";
            case PKCS8EncryptedPrivateKeyInfo key -> "an encrypted private key";
            case SubjectPublicKeyInfo key -> "a public key";
            default -> "a " + object.getClass().getSimpleName() + " block";
        };
    }

    private static String message(Exception e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
