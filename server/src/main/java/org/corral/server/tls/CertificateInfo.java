package org.corral.server.tls;

import org.corral.cluster.tls.Keys;
import org.corral.cluster.tls.Pem;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * One entry of Proxmox's {@code GET /nodes/{node}/certificates/info}, with the values in the forms Proxmox
 * gives them: OpenSSL's one-line names ({@code /OU=.../O=.../CN=pve1}), the SHA-256 fingerprint as
 * upper-case hex pairs joined by colons, times in epoch seconds, and the DNS names and IP addresses of the
 * subject alternative names as bare values ({@code ["pve1", "192.168.1.2"]}).
 */
public record CertificateInfo(
        String filename,
        String fingerprint,
        String subject,
        String issuer,
        long notbefore,
        long notafter,
        List<String> san,
        @JsonProperty("public-key-type") String publicKeyType,
        @JsonProperty("public-key-bits") int publicKeyBits,
        String pem) {

    // OpenSSL's short names for the attributes seen in server certificate names; others print as OIDs
    private static final Map<String, String> SHORT_NAMES = Map.ofEntries(
            Map.entry("2.5.4.3", "CN"),
            Map.entry("2.5.4.4", "SN"),
            Map.entry("2.5.4.5", "serialNumber"),
            Map.entry("2.5.4.6", "C"),
            Map.entry("2.5.4.7", "L"),
            Map.entry("2.5.4.8", "ST"),
            Map.entry("2.5.4.9", "street"),
            Map.entry("2.5.4.10", "O"),
            Map.entry("2.5.4.11", "OU"),
            Map.entry("2.5.4.12", "title"),
            Map.entry("2.5.4.15", "businessCategory"),
            Map.entry("2.5.4.17", "postalCode"),
            Map.entry("2.5.4.41", "name"),
            Map.entry("2.5.4.42", "GN"),
            Map.entry("2.5.4.43", "initials"),
            Map.entry("2.5.4.44", "generationQualifier"),
            Map.entry("2.5.4.46", "dnQualifier"),
            Map.entry("2.5.4.65", "pseudonym"),
            Map.entry("2.5.4.97", "organizationIdentifier"),
            Map.entry("1.2.840.113549.1.9.1", "emailAddress"),
            Map.entry("0.9.2342.19200300.100.1.1", "UID"),
            Map.entry("0.9.2342.19200300.100.1.25", "DC"),
            Map.entry("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL"),
            Map.entry("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST"),
            Map.entry("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"));

    public CertificateInfo {
        requireNonNull(filename, "filename is null");
        requireNonNull(fingerprint, "fingerprint is null");
        requireNonNull(subject, "subject is null");
        requireNonNull(issuer, "issuer is null");
        san = List.copyOf(requireNonNull(san, "san is null"));
        requireNonNull(publicKeyType, "publicKeyType is null");
        requireNonNull(pem, "pem is null");
    }

    /** The first certificate of a PEM file, as Proxmox reports it; the rest of a chain is not listed. */
    public static CertificateInfo of(String filename, String pem) {
        return of(filename, Pem.parseCertificates(pem).getFirst());
    }

    public static CertificateInfo of(String filename, X509Certificate certificate) {
        requireNonNull(filename, "filename is null");
        requireNonNull(certificate, "certificate is null");
        X509CertificateHolder holder;
        byte[] der;
        try {
            der = certificate.getEncoded();
            holder = new X509CertificateHolder(der);
        } catch (CertificateEncodingException | IOException e) {
            throw new IllegalArgumentException("cannot read certificate " + certificate.getSubjectX500Principal(), e);
        }
        return new CertificateInfo(
                filename,
                fingerprint(der),
                oneLine(holder.getSubject()),
                oneLine(holder.getIssuer()),
                certificate.getNotBefore().toInstant().getEpochSecond(),
                certificate.getNotAfter().toInstant().getEpochSecond(),
                subjectAltNames(holder),
                Keys.opensslType(certificate.getPublicKey()),
                Keys.bits(certificate.getPublicKey()),
                Pem.certificate(certificate));
    }

    /** SHA-256 of the DER encoding as {@code AB:CD:...}, the form Proxmox shows and pins. */
    public static String fingerprint(X509Certificate certificate) {
        try {
            return fingerprint(certificate.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode certificate " + certificate.getSubjectX500Principal(), e);
        }
    }

    private static String fingerprint(byte[] der) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(der);
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    // X509_NAME_oneline: every attribute in encoded order as /SN=value, bytes outside printable ASCII as \xHH
    private static String oneLine(X500Name name) {
        StringBuilder text = new StringBuilder();
        for (RDN rdn : name.getRDNs()) {
            for (AttributeTypeAndValue attribute : rdn.getTypesAndValues()) {
                String oid = attribute.getType().getId();
                text.append('/').append(SHORT_NAMES.getOrDefault(oid, oid)).append('=');
                appendEscaped(text, attribute.getValue());
            }
        }
        return text.toString();
    }

    private static void appendEscaped(StringBuilder text, ASN1Encodable value) {
        byte[] bytes = value instanceof ASN1String string
                ? string.getString().getBytes(StandardCharsets.UTF_8)
                : HexFormat.of().formatHex(encodedOrEmpty(value)).getBytes(StandardCharsets.US_ASCII);
        for (byte b : bytes) {
            if (b >= ' ' && b <= '~') {
                text.append((char) b);
            } else {
                text.append("\\x").append(HexFormat.of().withUpperCase().toHexDigits(b));
            }
        }
    }

    private static byte[] encodedOrEmpty(ASN1Encodable value) {
        try {
            return value.toASN1Primitive().getEncoded();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    // Proxmox lists DNS names and IP addresses only, IPv6 as eight groups of four hex digits
    private static List<String> subjectAltNames(X509CertificateHolder holder) {
        List<String> entries = new ArrayList<>();
        GeneralNames names = holder.getExtensions() == null
                ? null
                : GeneralNames.fromExtensions(holder.getExtensions(), Extension.subjectAlternativeName);
        if (names == null) {
            return entries;
        }
        for (GeneralName name : names.getNames()) {
            switch (name.getTagNo()) {
                case GeneralName.dNSName -> entries.add(((ASN1String) name.getName()).getString());
                case GeneralName.iPAddress -> {
                    byte[] address = ASN1OctetString.getInstance(name.getName()).getOctets();
                    if (address.length == 4) {
                        entries.add((address[0] & 0xff) + "." + (address[1] & 0xff) + "." + (address[2] & 0xff)
                                + "." + (address[3] & 0xff));
                    } else if (address.length == 16) {
                        List<String> groups = new ArrayList<>();
                        for (int i = 0; i < 16; i += 2) {
                            groups.add(HexFormat.of().formatHex(address, i, i + 2));
                        }
                        entries.add(String.join(":", groups));
                    }
                }
                default -> {
                    // e-mail, URI and directory names are not part of Proxmox's list
                }
            }
        }
        return entries;
    }
}
