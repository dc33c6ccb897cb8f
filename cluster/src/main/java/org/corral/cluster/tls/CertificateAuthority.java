package org.corral.cluster.tls;

import static java.util.Objects.requireNonNull;

import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The cluster CA, made once when the cluster is created (Proxmox: {@code pve-root-ca.pem} and
 * {@code priv/pve-root-ca.key}), which signs each node's {@code pve-ssl.pem}.
 */
public final class CertificateAuthority {
    public static final Duration CA_VALIDITY = Duration.ofDays(3650);
    public static final Duration NODE_VALIDITY = Duration.ofDays(730);
    // tolerates clients and nodes whose clocks lag behind the one that issued the certificate
    private static final Duration BACKDATE = Duration.ofHours(1);

    private final X509Certificate certificate;
    private final PrivateKey privateKey;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    private CertificateAuthority(X509Certificate certificate, PrivateKey privateKey, Clock clock) {
        this.certificate = requireNonNull(certificate, "certificate is null");
        this.privateKey = requireNonNull(privateKey, "privateKey is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    /** A new CA with an {@link KeyType#EC_P384} key, valid for ten years from now. */
    public static CertificateAuthority generate(Clock clock) {
        return generate(KeyType.EC_P384, clock);
    }

    public static CertificateAuthority generate(KeyType keyType, Clock clock) {
        requireNonNull(keyType, "keyType is null");
        requireNonNull(clock, "clock is null");
        SecureRandom random = new SecureRandom();
        KeyPair keys = keyType.generate(random);
        // a per-cluster unit keeps the subjects of two clusters' CAs apart, as Proxmox does
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, "Corral Virtual Environment")
                .addRDN(BCStyle.OU, UUID.randomUUID().toString())
                .addRDN(BCStyle.O, "Corral Cluster Manager CA")
                .build();
        Instant now = clock.instant();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                subject, serial(random), Date.from(now.minus(BACKDATE)), Date.from(now.plus(CA_VALIDITY)),
                subject, keys.getPublic());
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()));
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the CA certificate", e);
        }
        return new CertificateAuthority(sign(builder, keys.getPrivate()), keys.getPrivate(), clock);
    }

    /** The CA as stored in the cluster: its certificate and its private key, both PEM. */
    public static CertificateAuthority fromPem(String certificatePem, String privateKeyPem, Clock clock) {
        List<X509Certificate> certificates = Pem.parseCertificates(certificatePem);
        if (certificates.size() != 1) {
            throw new IllegalArgumentException("expected one CA certificate, found " + certificates.size());
        }
        X509Certificate certificate = certificates.getFirst();
        if (certificate.getBasicConstraints() < 0) {
            throw new IllegalArgumentException(certificate.getSubjectX500Principal() + " is not a CA certificate");
        }
        PrivateKey key = Pem.parsePrivateKey(privateKeyPem);
        if (!Keys.matches(key, certificate.getPublicKey())) {
            throw new IllegalArgumentException(
                    "private key does not match CA " + certificate.getSubjectX500Principal());
        }
        return new CertificateAuthority(certificate, key, clock);
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** Proxmox: {@code pve-root-ca.pem}. */
    public String certificatePem() {
        return Pem.certificate(certificate);
    }

    /** PKCS#8 PEM. Proxmox: {@code priv/pve-root-ca.key}. */
    public String privateKeyPem() {
        return Pem.privateKey(privateKey);
    }

    /** A node certificate with a new {@link KeyType#RSA_2048} key. */
    public CertifiedKey issue(String nodeName, SubjectAltNames names) {
        return issue(nodeName, names, KeyType.RSA_2048);
    }

    /**
     * A certificate for a node's HTTPS API, valid for two years (never past the CA), with the node name as
     * common name and first DNS name, followed by the given names.
     */
    public CertifiedKey issue(String nodeName, SubjectAltNames names, KeyType keyType) {
        return issue(nodeName, names, keyType, KeyPurposeId.id_kp_serverAuth);
    }

    /**
     * A certificate for a member of the config store's ensemble, with an {@link KeyType#EC_P256} key:
     * it serves ZooKeeper's client and quorum ports and authenticates as a TLS client to the other members.
     */
    public CertifiedKey issueStoreMember(String memberName) {
        return issue(memberName, new SubjectAltNames(List.of(), List.of()), KeyType.EC_P256, KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
    }

    private CertifiedKey issue(String nodeName, SubjectAltNames names, KeyType keyType, KeyPurposeId... purposes) {
        requireNonNull(nodeName, "nodeName is null");
        requireNonNull(names, "names is null");
        requireNonNull(keyType, "keyType is null");
        KeyPair keys = keyType.generate(random);
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.OU, "Corral Cluster Node")
                .addRDN(BCStyle.O, "Corral Virtual Environment")
                .addRDN(BCStyle.CN, nodeName)
                .build();
        Instant now = clock.instant();
        Instant notAfter = now.plus(NODE_VALIDITY);
        // a certificate that outlives its CA is rejected by strict clients once the CA expires
        if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
            notAfter = certificate.getNotAfter().toInstant();
        }
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()), serial(random),
                Date.from(now.minus(BACKDATE)), Date.from(notAfter), subject, keys.getPublic());
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage(keys.getPublic())))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(purposes))
                    .addExtension(Extension.subjectAlternativeName, false, generalNames(nodeName, names))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions.createAuthorityKeyIdentifier(certificate));
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the certificate of node " + nodeName, e);
        }
        return new CertifiedKey(List.of(sign(builder, privateKey)), keys.getPrivate());
    }

    private static GeneralNames generalNames(String nodeName, SubjectAltNames names) {
        List<GeneralName> entries = new ArrayList<>();
        entries.add(new GeneralName(GeneralName.dNSName, nodeName));
        names.dnsNames().stream()
                .filter(name -> !name.equals(nodeName))
                .forEach(name -> entries.add(new GeneralName(GeneralName.dNSName, name)));
        for (InetAddress address : names.ipAddresses()) {
            entries.add(new GeneralName(GeneralName.iPAddress, new DEROctetString(address.getAddress())));
        }
        return new GeneralNames(entries.toArray(GeneralName[]::new));
    }

    // RSA key exchange in TLS 1.2 encrypts with the key; ECDSA keys only sign
    private static int keyUsage(PublicKey key) {
        return key instanceof RSAKey ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment : KeyUsage.digitalSignature;
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(Keys.signatureAlgorithm(signer)).build(signer)));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign certificate", e);
        }
    }

    // random 127-bit serials, so that two CAs made with the same name never issue the same issuer and serial
    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(127, random).add(BigInteger.ONE);
    }
}
