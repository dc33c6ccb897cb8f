package org.corral.server;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.corral.core.json.Json;
import tools.jackson.databind.JsonNode;

/** An HTTPS client for tests: logs in like a Proxmox client and keeps the ticket and CSRF token. */
final class TestClient {
    record Answer(int status, JsonNode body) {
        JsonNode data() {
            return body.path("data");
        }

        Map<String, String> errors() {
            Map<String, String> out = new LinkedHashMap<>();
            body.path("errors").properties().forEach(e -> out.put(e.getKey(), e.getValue().asString()));
            return out;
        }
    }

    private final HttpClient http;
    private final String base;
    private String ticket;
    private String csrf;
    private String authorization;

    TestClient(int port) {
        this.base = "https://127.0.0.1:" + port + "/api2/json";
        try {
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            SSLParameters parameters = new SSLParameters();
            parameters.setEndpointIdentificationAlgorithm("");
            this.http = HttpClient.newBuilder().sslContext(ssl).sslParameters(parameters).build();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    TestClient login(String user, String password) {
        Answer answer = call("POST", "/access/ticket", Map.of("username", user, "password", password));
        if (answer.status() != 200) {
            throw new IllegalStateException("login of " + user + " failed: " + answer);
        }
        ticket = answer.data().path("ticket").asString();
        csrf = answer.data().path("CSRFPreventionToken").asString();
        return this;
    }

    TestClient token(String fullTokenId, String secret) {
        authorization = "PVEAPIToken=" + fullTokenId + "=" + secret;
        return this;
    }

    /** Acts as root@pam the way the local CLI does, with the node's per-start secret. */
    TestClient local(String secret) {
        authorization = "CorralLocal " + secret;
        return this;
    }

    /** Sends {@code ticket} as the cookie from now on, without a CSRF token. */
    TestClient withTicket(String ticket) {
        this.ticket = ticket;
        this.csrf = null;
        return this;
    }

    TestClient withoutCsrf() {
        csrf = null;
        return this;
    }

    String ticket() {
        return ticket;
    }

    Answer get(String path, Map<String, String> params) {
        return call("GET", path, params);
    }

    Answer get(String path) {
        return call("GET", path, Map.of());
    }

    Answer post(String path, Map<String, String> params) {
        return call("POST", path, params);
    }

    Answer put(String path, Map<String, String> params) {
        return call("PUT", path, params);
    }

    Answer delete(String path) {
        return call("DELETE", path, Map.of());
    }

    /** GET of a path outside /api2/json, such as /api2/openapi.json. */
    JsonNode raw(String path) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(root() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return Json.read(response.body());
        } catch (Exception e) {
            throw new IllegalStateException(path + ": " + e, e);
        }
    }

    Answer call(String verb, String path, Map<String, String> params) {
        HttpResponse<String> response = send(verb, "/api2/json" + path, params);
        JsonNode body = response.body().isBlank() ? Json.object() : Json.read(response.body());
        return new Answer(response.statusCode(), body);
    }

    /** The raw answer, headers included, of a call to {@code rootPath} (from the server root, such as {@code /api2/json/version}). */
    HttpResponse<String> send(String verb, String rootPath, Map<String, String> params) {
        String form = params.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        boolean query = verb.equals("GET") || verb.equals("DELETE");
        String root = root();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(root + rootPath + (query && !form.isEmpty() ? "?" + form : "")));
        if (query) {
            request.method(verb, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/x-www-form-urlencoded").method(verb, HttpRequest.BodyPublishers.ofString(form));
        }
        return send(request, verb, rootPath);
    }

    /** Sends a request built by the caller (a multipart upload), with this client's ticket or token. */
    HttpResponse<String> send(HttpRequest.Builder request, String verb, String rootPath) {
        if (ticket != null) {
            request.header("Cookie", "PVEAuthCookie=" + ticket);
            if (csrf != null && !verb.equals("GET")) {
                request.header("CSRFPreventionToken", csrf);
            }
        }
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(verb + " " + rootPath + ": " + e, e);
        }
    }

    /** A GET of {@code rootPath} (such as {@code /api2/json/version}) with extra headers, answered as raw bytes (not decompressed). */
    HttpResponse<byte[]> getBytes(String rootPath, Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(root() + rootPath)).GET();
        headers.forEach(request::header);
        if (ticket != null) {
            request.header("Cookie", "PVEAuthCookie=" + ticket);
        }
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new IllegalStateException("GET " + rootPath + ": " + e, e);
        }
    }

    /**
     * Opens a websocket (sub-protocol {@code binary}, as Proxmox's consoles) to {@code path} under
     * /api2/json with this client's ticket; fails as the upgrade is refused.
     */
    java.util.concurrent.CompletableFuture<java.net.http.WebSocket> webSocket(String path, Map<String, String> params,
            java.net.http.WebSocket.Listener listener) {
        String query = params.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        java.net.http.WebSocket.Builder builder = http.newWebSocketBuilder().subprotocols("binary");
        if (ticket != null) {
            builder.header("Cookie", "PVEAuthCookie=" + ticket);
        }
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        return builder.buildAsync(URI.create(root().replace("https:", "wss:") + "/api2/json" + path + "?" + query), listener);
    }

    /** The server's root URL, {@code https://127.0.0.1:PORT}. */
    String root() {
        return base.replace("/api2/json", "");
    }
}
