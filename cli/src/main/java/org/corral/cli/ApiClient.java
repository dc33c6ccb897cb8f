package org.corral.cli;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;


import java.time.Duration;

import java.util.List;

import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

import org.corral.cluster.tls.PinnedCertificate;
import org.corral.core.api.HttpVerb;
import org.corral.core.json.Json;
import tools.jackson.databind.JsonNode;

/** A small HTTPS client for the node API, authenticated by the local root secret or an API token. */
final class ApiClient {
    /** An error answer: HTTP status, the status line's message, and per-parameter errors. */
    static final class ApiError extends RuntimeException {
        final int status;
        final JsonNode errors;

        ApiError(int status, String message, JsonNode errors) {
            super(message);
            this.status = status;
            this.errors = errors;
        }
    }

    private final HttpClient http;
    private final String base;
    private final String authorization;

    /** {@code fingerprint}: the SHA-256 of the server certificate to pin, or empty to trust the JDK's CAs. */
    ApiClient(String hostPort, String authorization, Optional<String> fingerprint) throws Exception {
        this.base = "https://" + requireNonNull(hostPort, "hostPort is null") + "/api2/json";
        this.authorization = requireNonNull(authorization, "authorization is null");
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if (fingerprint.isPresent()) {
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, new TrustManager[] {new PinnedCertificate(fingerprint.get())}, null);
            builder.sslContext(ssl);
        }
        this.http = builder.build();
    }

    JsonNode call(HttpVerb verb, String path, Map<String, String> params) throws Exception {
        String query = params.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        String url = base + (path.startsWith("/") ? path : "/" + path);
        HttpRequest.Builder request = HttpRequest.newBuilder().header("Authorization", authorization).timeout(Duration.ofMinutes(5));
        if (verb.parametersInQuery()) {
            request.uri(URI.create(query.isEmpty() ? url : url + "?" + query)).method(verb.name(), HttpRequest.BodyPublishers.noBody());
        } else {
            request.uri(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                    .method(verb.name(), HttpRequest.BodyPublishers.ofString(query));
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = response.body().isBlank() ? Json.object() : Json.read(response.body());
        if (response.statusCode() != 200) {
            String message = body.path("message").asString("HTTP " + response.statusCode()).strip();
            throw new ApiError(response.statusCode(), message, body.path("errors"));
        }
        return body;
    }

    /** GET of a streamed answer, copied into {@code out}. */
    void download(String path, Map<String, String> params, java.io.OutputStream out) throws Exception {
        String query = params.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path + (query.isEmpty() ? "" : "?" + query)))
                .header("Authorization", authorization).build();
        HttpResponse<java.io.InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (java.io.InputStream in = response.body()) {
            if (response.statusCode() != 200) {
                JsonNode body = Json.read(in.readAllBytes());
                throw new ApiError(response.statusCode(), body.path("message").asString("HTTP " + response.statusCode()).strip(),
                        body.path("errors"));
            }
            in.transferTo(out);
        }
    }

    /** POST of form fields plus one file part, streamed from {@code file}. */
    JsonNode upload(String path, Map<String, String> params, String part, String filename, java.io.InputStream file) throws Exception {
        String boundary = "corral" + java.util.UUID.randomUUID();
        StringBuilder head = new StringBuilder();
        params.forEach((k, v) -> head.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(k)
                .append("\"\r\n\r\n").append(v).append("\r\n"));
        head.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(part)
                .append("\"; filename=\"").append(filename).append("\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        java.io.InputStream body = new java.io.SequenceInputStream(java.util.Collections.enumeration(List.of(
                new java.io.ByteArrayInputStream(head.toString().getBytes(StandardCharsets.UTF_8)), file,
                new java.io.ByteArrayInputStream(tail))));
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", authorization)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> body)).timeout(Duration.ofHours(12)).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        JsonNode answer = response.body().isBlank() ? Json.object() : Json.read(response.body());
        if (response.statusCode() != 200) {
            throw new ApiError(response.statusCode(), answer.path("message").asString("HTTP " + response.statusCode()).strip(),
                    answer.path("errors"));
        }
        return answer;
    }

    JsonNode openApi() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base.replace("/api2/json", "/api2/openapi.json")))
                .header("Authorization", authorization).build();
        return Json.read(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
    }
}
