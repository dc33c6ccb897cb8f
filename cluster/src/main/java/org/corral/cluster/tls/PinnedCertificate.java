package org.corral.cluster.tls;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.Objects.requireNonNull;

import java.net.Socket;
import java.net.http.HttpClient;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trust in one server certificate, named by its SHA-256 fingerprint (Proxmox's {@code pve_fp}, with
 * or without colons). Nodes talk to each other this way, and so do the join and the CLI. The
 * fingerprint is the whole trust, so host names are not checked: a node may be reached by any
 * name or address.
 */
public final class PinnedCertificate extends X509ExtendedTrustManager {
    private final String want;

    public PinnedCertificate(String fingerprint) {
        this.want = normalize(requireNonNull(fingerprint, "fingerprint is null"));
        if (!want.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a SHA-256 fingerprint: " + fingerprint);
        }
    }

    /** {@code AA:BB:...} or {@code aabb...} as lower-case hex without colons. */
    public static String normalize(String fingerprint) {
        return fingerprint.replace(":", "").toLowerCase(Locale.ROOT);
    }

    /** The SHA-256 fingerprint of {@code certificate}, lower-case hex without colons. */
    public static String of(X509Certificate certificate) throws CertificateEncodingException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256", e);
        }
    }

    /** An HTTPS client that trusts only the certificate with {@code fingerprint}. */
    public static HttpClient httpClient(String fingerprint, Duration connectTimeout) {
        try {
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, new TrustManager[] {new PinnedCertificate(fingerprint)}, null);
            SSLParameters parameters = new SSLParameters();
            parameters.setEndpointIdentificationAlgorithm("");
            return HttpClient.newBuilder().sslContext(ssl).sslParameters(parameters).connectTimeout(connectTimeout).build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("can't make a TLS client", e);
        }
    }

    private void check(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("no server certificate");
        }
        String got = of(chain[0]);
        if (!MessageDigest.isEqual(got.getBytes(US_ASCII), want.getBytes(US_ASCII))) {
            throw new CertificateException("server certificate fingerprint " + got + " does not match the expected " + want);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("client side only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
