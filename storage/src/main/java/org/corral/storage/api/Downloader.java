package org.corral.storage.api;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import java.util.function.LongConsumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.corral.storage.StorageException;
import org.corral.storage.UrlPolicy;

/**
 * Fetches a URL for {@code download-url}, following at most five redirects by hand so that every
 * hop's host passes {@link UrlPolicy} first. The host is resolved for the check and again by the
 * HTTP client; the JVM's address cache answers both, which keeps DNS rebinding out within its TTL.
 */
final class Downloader {
    private static final int MAX_REDIRECTS = 5;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration HEADERS_TIMEOUT = Duration.ofMinutes(2);

    private Downloader() {}

    static FileReceiver.Received download(URI url, boolean allowPrivate, boolean verifyCertificates, Path target,
            Optional<MessageDigest> digest, LongConsumer progress) throws IOException, InterruptedException {
        HttpClient.Builder builder = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(CONNECT_TIMEOUT)
                .proxy(HttpClient.Builder.NO_PROXY);
        if (!verifyCertificates) {
            builder.sslContext(trustAll());
        }
        try (HttpClient client = builder.build()) {
            URI current = url;
            for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
                UrlPolicy.checkHost(current, allowPrivate);
                HttpRequest request = HttpRequest.newBuilder(current).timeout(HEADERS_TIMEOUT).GET()
                        .header("User-Agent", "corral-download").build();
                HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
                int status = response.statusCode();
                try (InputStream body = response.body()) {
                    if (status >= 300 && status < 400 && response.headers().firstValue("Location").isPresent()) {
                        current = UrlPolicy.parse(current.resolve(response.headers().firstValue("Location").get()).toString());
                        continue;
                    }
                    if (status != 200) {
                        throw new StorageException("download of " + url + " failed: HTTP " + status);
                    }
                    return FileReceiver.receive(body, target, digest, progress);
                }
            }
        }
        throw new StorageException("download of " + url + " failed: more than " + MAX_REDIRECTS + " redirects");
    }

    /** For {@code verify-certificates=0}: accepts any certificate and host name. */
    private static SSLContext trustAll() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new X509ExtendedTrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {}

                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, new SecureRandom());
            return context;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("TLS is part of every JDK", e);
        }
    }
}
