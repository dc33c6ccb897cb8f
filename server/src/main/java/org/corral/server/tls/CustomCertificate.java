package org.corral.server.tls;

import org.corral.cluster.tls.CertifiedKey;
import org.corral.cluster.tls.Keys;
import org.corral.cluster.tls.Pem;
import static java.util.Objects.requireNonNull;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.error.ParameterError;

/**
 * Checks a certificate uploaded for a node's HTTPS API (Proxmox: {@code pveproxy-ssl.pem} and
 * {@code pveproxy-ssl.key}, {@code POST /nodes/{node}/certificates/custom}) before it replaces the one the
 * node serves, so that a bad upload is refused instead of breaking the GUI.
 */
public final class CustomCertificate {
    /** Name of the API parameter holding the PEM chain. */
    public static final String CERTIFICATES = "certificates";
    /** Name of the API parameter holding the PEM private key. */
    public static final String KEY = "key";

    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

    private CustomCertificate() {}

    public static CertifiedKey validate(String certificatesPem, String keyPem) {
        return validate(certificatesPem, keyPem, Clock.systemUTC());
    }

    /**
     * The chain (leaf first, then intermediates) and its key, or a {@link ParameterError} naming
     * {@value #CERTIFICATES} and {@value #KEY} with every problem found: unreadable PEM, a chain out of order,
     * a leaf that is expired, not yet valid or not for TLS servers, a key that is encrypted, weak, or not the
     * leaf's.
     */
    public static CertifiedKey validate(String certificatesPem, String keyPem, Clock clock) {
        requireNonNull(clock, "clock is null");
        Map<String, String> errors = new LinkedHashMap<>();
        List<X509Certificate> chain = null;
        PrivateKey key = null;
        try {
            chain = Pem.parseCertificates(requireNonNull(certificatesPem, "certificatesPem is null"));
        } catch (IllegalArgumentException e) {
            errors.put(CERTIFICATES, e.getMessage());
        }
        try {
            key = Pem.parsePrivateKey(requireNonNull(keyPem, "keyPem is null"));
        } catch (IllegalArgumentException e) {
            errors.put(KEY, e.getMessage());
        }
        if (chain != null) {
            checkChain(chain, clock.instant()).ifPresent(message -> errors.put(CERTIFICATES, message));
        }
        if (key != null) {
            Keys.unsupported(key).ifPresent(message -> errors.put(KEY, message));
        }
        if (chain != null && key != null && !errors.containsKey(KEY)) {
            checkKey(chain, key).ifPresent(message -> errors.put(KEY, message));
        }
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        return new CertifiedKey(chain, key);
    }

    private static Optional<String> checkChain(List<X509Certificate> chain, Instant now) {
        X509Certificate leaf = chain.getFirst();
        String leafName = leaf.getSubjectX500Principal().getName();
        try {
            leaf.checkValidity(Date.from(now));
        } catch (CertificateExpiredException e) {
            return Optional.of("certificate '" + leafName + "' expired on " + instant(leaf.getNotAfter()));
        } catch (CertificateNotYetValidException e) {
            return Optional.of("certificate '" + leafName + "' is not valid before " + instant(leaf.getNotBefore()));
        }
        try {
            List<String> usages = leaf.getExtendedKeyUsage();
            if (usages != null && !usages.contains(SERVER_AUTH) && !usages.contains(ANY_EXTENDED_KEY_USAGE)) {
                return Optional.of("certificate '" + leafName + "' is not for TLS servers"
                        + " (its extended key usage lacks serverAuth)");
            }
        } catch (CertificateParsingException e) {
            return Optional.of("certificate '" + leafName + "' has an unreadable extended key usage");
        }
        // clients build their path from the order sent, so each certificate must be followed by its issuer
        for (int i = 0; i + 1 < chain.size(); i++) {
            X509Certificate issued = chain.get(i);
            X509Certificate issuer = chain.get(i + 1);
            if (!issuedBy(issued, issuer)) {
                return Optional.of("certificate " + (i + 2) + " ('" + issuer.getSubjectX500Principal().getName()
                        + "') did not issue certificate " + (i + 1) + " ('"
                        + issued.getSubjectX500Principal().getName()
                        + "'); give the server certificate first, then each issuer in turn");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> checkKey(List<X509Certificate> chain, PrivateKey key) {
        X509Certificate leaf = chain.getFirst();
        if (Keys.matches(key, leaf.getPublicKey())) {
            return Optional.empty();
        }
        for (int i = 1; i < chain.size(); i++) {
            if (Keys.matches(key, chain.get(i).getPublicKey())) {
                return Optional.of("key belongs to certificate " + (i + 1) + " of the chain; the certificate"
                        + " matching the key must come first");
            }
        }
        return Optional.of("key does not match the certificate '" + leaf.getSubjectX500Principal().getName()
                + "' (" + Keys.describe(leaf.getPublicKey()) + " public key)");
    }

    private static boolean issuedBy(X509Certificate issued, X509Certificate issuer) {
        if (!issued.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
            return false;
        }
        try {
            issued.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static Instant instant(Date date) {
        return date.toInstant().truncatedTo(ChronoUnit.SECONDS);
    }
}
