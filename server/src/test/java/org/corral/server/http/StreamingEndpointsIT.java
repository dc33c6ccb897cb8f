package org.corral.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.Check;
import org.corral.core.console.ConsoleConnection;
import org.corral.core.console.ConsoleKind;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.error.PermissionDenied;
import org.corral.core.error.Unauthorized;
import org.corral.core.json.Json;
import org.corral.core.schema.Schema;
import org.corral.cluster.tls.CertificateAuthority;
import org.corral.server.tls.NodeTls;
import org.corral.cluster.tls.SubjectAltNames;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Uploads streamed to a handler, and the websocket console path end to end: a termproxy-style call registers a console whose backend
 * is a real {@code cat} process, and a websocket carries Proxmox's termproxy protocol to it.
 */
class StreamingEndpointsIT {
    @TempDir
    static Path dir;
    static ApiHttpServer server;
    /** Node "m": it grants nothing itself and forwards /nodes/n/... to {@link #server}. */
    static ApiHttpServer front;
    static HttpClient http;
    static final java.util.concurrent.CountDownLatch firstMegabyte = new java.util.concurrent.CountDownLatch(1);

    @BeforeAll
    static void start() throws Exception {
        ConsoleProxies proxies = new ConsoleProxies(Clock.systemUTC());
        List<ApiMethod> methods = List.of(
                ApiMethod.post("/test/{id}/termproxy").permission(Check.path("/vms/{id}", Privilege.VM_CONSOLE))
                        .parameter("id", Schema.integer())
                        .returns(Schema.object())
                        .handler(r -> {
                            ConsoleProxies.Pending p = proxies.register(r.auth().authid(), "/test/" + r.integer("id"),
                                    ConsoleKind.TERMINAL, StreamingEndpointsIT::cat);
                            return Map.of("port", p.port(), "ticket", p.ticket(), "user", p.user());
                        }),
                ApiMethod.get("/test/{id}/vncwebsocket").permission(Check.path("/vms/{id}", Privilege.VM_CONSOLE))
                        .webSocket()
                        .parameter("id", Schema.integer())
                        .parameter("port", Schema.integer())
                        .parameter("vncticket", Schema.string().maxLength(512))
                        .handler(r -> proxies.claim((int) r.integer("port"), r.string("vncticket"), r.auth().authid(),
                                "/test/" + r.integer("id")).orElseThrow(() -> new PermissionDenied("invalid vncticket"))));
        ApiMethod upload = ApiMethod.post("/test/{id}/upload").permission(Check.path("/vms/{id}", Privilege.VM_CONSOLE))
                .upload("filename")
                .parameter("id", Schema.integer())
                .parameter("content", Schema.string().enumValues("iso", "vztmpl"))
                .returns(Schema.object())
                .handler(r -> {
                    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
                    InputStream in = r.upload().orElseThrow().stream();
                    byte[] buffer = new byte[65536];
                    long total = 0;
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        sha.update(buffer, 0, n);
                        total += n;
                        if (total >= 1 << 20) {
                            firstMegabyte.countDown();
                        }
                    }
                    return Map.of("sha256", java.util.HexFormat.of().formatHex(sha.digest()), "bytes", total,
                            "filename", r.upload().get().filename(), "content", r.string("content"));
                });
        List<ApiMethod> all = new java.util.ArrayList<>(methods);
        all.add(upload);
        // the same console under /nodes/{node}: node "m" forwards it to node "n"
        all.add(ApiMethod.post("/nodes/{node}/test/{id}/termproxy").permission(Check.path("/vms/{id}", Privilege.VM_CONSOLE))
                .parameter("node", Schema.string()).parameter("id", Schema.integer())
                .returns(Schema.object())
                .handler(r -> {
                    ConsoleProxies.Pending p = proxies.register(r.auth().authid(), "/test/" + r.integer("id"),
                            ConsoleKind.TERMINAL, StreamingEndpointsIT::cat);
                    return Map.of("port", p.port(), "ticket", p.ticket(), "user", p.user(), "node", r.string("node"));
                }));
        all.add(ApiMethod.get("/nodes/{node}/test/{id}/vncwebsocket").permission(Check.path("/vms/{id}", Privilege.VM_CONSOLE))
                .webSocket()
                .parameter("node", Schema.string()).parameter("id", Schema.integer())
                .parameter("port", Schema.integer())
                .parameter("vncticket", Schema.string().maxLength(512))
                .handler(r -> proxies.claim((int) r.integer("port"), r.string("vncticket"), r.auth().authid(),
                        "/test/" + r.integer("id")).orElseThrow(() -> new PermissionDenied("invalid vncticket"))));
        ApiRegistry registry = new ApiRegistry(List.of(() -> all));
        RequestAuthenticator tokens = new RequestAuthenticator() {
            @Override
            public Optional<AuthContext> ticket(String ticket, String clientAddress) {
                return Optional.empty();
            }

            @Override
            public boolean csrf(String token, String userid) {
                return false;
            }

            @Override
            public AuthContext apiToken(String value, String clientAddress) {
                if (!value.equals("ops@pve!t=secret")) {
                    throw new Unauthorized("invalid token");
                }
                return new AuthContext("ops@pve", Optional.of("ops@pve!t"), clientAddress);
            }
        };
        var key = CertificateAuthority.generate(Clock.systemUTC()).issue("localhost", SubjectAltNames.discover("localhost"));
        server = new ApiHttpServer(new ApiDispatcher(registry, (auth, path) -> path.equals("/vms/100")
                ? EnumSet.allOf(Privilege.class) : EnumSet.noneOf(Privilege.class)), tokens,
                new AuditLog(dir.resolve("audit.log"), "n", Clock.systemUTC()), "local-secret",
                Json::object, new NodeProxy("n", org.corral.cluster.ClusterConfig::empty), NodeTls.sslContextFactory(key), "127.0.0.1", 0).start();
        org.corral.cluster.ClusterConfig cluster = org.corral.cluster.ClusterConfig.empty().named("lab").with(new org.corral.cluster.ClusterMember(
                "n", 2, "127.0.0.1", server.port(), org.corral.cluster.tls.PinnedCertificate.of(key.certificate()), 1,
                new org.corral.core.node.Node.ZooKeeperPorts(1, 2, 3), false));
        var frontKey = CertificateAuthority.generate(Clock.systemUTC()).issue("localhost", SubjectAltNames.discover("localhost"));
        front = new ApiHttpServer(new ApiDispatcher(registry, (auth, path) -> EnumSet.noneOf(Privilege.class)), tokens,
                new AuditLog(dir.resolve("front-audit.log"), "m", Clock.systemUTC()), "front-secret",
                Json::object, new NodeProxy("m", () -> cluster), NodeTls.sslContextFactory(frontKey), "127.0.0.1", 0).start();
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] c, String a) {}

            @Override
            public void checkServerTrusted(X509Certificate[] c, String a) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        SSLParameters parameters = new SSLParameters();
        parameters.setEndpointIdentificationAlgorithm("");
        http = HttpClient.newBuilder().sslContext(ssl).sslParameters(parameters).build();
    }

    @AfterAll
    static void stop() {
        front.close();
        server.close();
    }

    /** A real terminal-like backend: bytes typed in come back out. */
    private static ConsoleConnection cat() throws IOException {
        Process process = new ProcessBuilder("cat").start();
        return new ConsoleConnection() {
            @Override
            public InputStream output() {
                return process.getInputStream();
            }

            @Override
            public OutputStream input() {
                return process.getOutputStream();
            }

            @Override
            public void close() {
                process.destroyForcibly();
            }
        };
    }

    private JsonNode termproxy(int id) throws Exception {
        var request = java.net.http.HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + "/api2/json/test/" + id + "/termproxy"))
                .header("Authorization", "PVEAPIToken=ops@pve!t=secret").POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build();
        var response = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        return Json.read(response.body()).path("data");
    }

    private static final class Collector implements WebSocket.Listener {
        final LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            received.add(StandardCharsets.UTF_8.decode(data).toString());
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            received.add(data.toString());
            webSocket.request(1);
            return null;
        }

        String next() throws InterruptedException {
            String value = received.poll(10, TimeUnit.SECONDS);
            assertThat(value).as("websocket message").isNotNull();
            return value;
        }
    }

    private WebSocket connect(int id, JsonNode console, String ticket, Collector collector) {
        URI uri = URI.create("wss://127.0.0.1:" + server.port() + "/api2/json/test/" + id + "/vncwebsocket?port="
                + console.path("port").asInt() + "&vncticket=" + java.net.URLEncoder.encode(ticket, StandardCharsets.UTF_8));
        return http.newWebSocketBuilder().header("Authorization", "PVEAPIToken=ops@pve!t=secret").subprotocols("binary")
                .buildAsync(uri, collector).join();
    }

    @Test
    void uploadReachesTheHandlerWhileTheClientIsStillSending() throws Exception {
        String boundary = "corral-test-boundary";
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\niso\r\n--" + boundary
                + "\r\nContent-Disposition: form-data; name=\"filename\"; filename=\"big.iso\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1);
        long size = 64L << 20;
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        java.io.PipedInputStream pipeIn = new java.io.PipedInputStream(1 << 16);
        java.io.PipedOutputStream pipeOut = new java.io.PipedOutputStream(pipeIn);
        Thread sender = Thread.ofVirtual().start(() -> {
            try (pipeOut) {
                pipeOut.write(head);
                java.util.Random random = new java.util.Random(7);
                byte[] chunk = new byte[1 << 16];
                for (long sent = 0; sent < size; sent += chunk.length) {
                    if (sent == 2L << 20) {
                        // if the server buffered the body, the handler would not have seen a byte yet
                        assertThat(firstMegabyte.await(20, TimeUnit.SECONDS)).as("handler saw data before the end").isTrue();
                    }
                    random.nextBytes(chunk);
                    sha.update(chunk);
                    pipeOut.write(chunk);
                }
                pipeOut.write(tail);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        var request = java.net.http.HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + "/api2/json/test/100/upload"))
                .header("Authorization", "PVEAPIToken=ops@pve!t=secret")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(() -> pipeIn)).build();
        var response = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        sender.join();
        JsonNode data = Json.read(response.body()).path("data");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(data.path("bytes").asLong()).isEqualTo(size);
        assertThat(data.path("sha256").asString()).isEqualTo(java.util.HexFormat.of().formatHex(sha.digest()));
        assertThat(data.path("filename").asString()).isEqualTo("big.iso");
        assertThat(data.path("content").asString()).isEqualTo("iso");
    }

    @Test
    void terminalConsoleSpeaksTheTermproxyProtocol() throws Exception {
        JsonNode console = termproxy(100);
        Collector collector = new Collector();
        WebSocket socket = connect(100, console, console.path("ticket").asString(), collector);
        assertThat(socket.getSubprotocol()).isEqualTo("binary");
        socket.sendText(console.path("user").asString() + ":" + console.path("ticket").asString() + "\n", true).join();
        assertThat(collector.next()).isEqualTo("OK");
        socket.sendText("1:80:24:", true).join();
        socket.sendText("2", true).join();
        socket.sendText("0:6:hello\n", true).join();
        StringBuilder echoed = new StringBuilder();
        while (!echoed.toString().contains("hello\n")) {
            echoed.append(collector.next());
        }
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "").join();
    }

    @Test
    void consoleOfAnotherNodeOpensThroughThisOne() throws Exception {
        var request = java.net.http.HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + front.port() + "/api2/json/nodes/n/test/100/termproxy"))
                .header("Authorization", "PVEAPIToken=ops@pve!t=secret").POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build();
        var response = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode console = Json.read(response.body()).path("data");
        assertThat(console.path("node").asString()).isEqualTo("n");

        Collector collector = new Collector();
        URI uri = URI.create("wss://127.0.0.1:" + front.port() + "/api2/json/nodes/n/test/100/vncwebsocket?port="
                + console.path("port").asInt() + "&vncticket=" + java.net.URLEncoder.encode(console.path("ticket").asString(), StandardCharsets.UTF_8));
        WebSocket socket = http.newWebSocketBuilder().header("Authorization", "PVEAPIToken=ops@pve!t=secret").subprotocols("binary")
                .buildAsync(uri, collector).join();
        assertThat(socket.getSubprotocol()).isEqualTo("binary");
        socket.sendText(console.path("user").asString() + ":" + console.path("ticket").asString() + "\n", true).join();
        assertThat(collector.next()).isEqualTo("OK");
        socket.sendText("0:8:through\n", true).join();
        StringBuilder echoed = new StringBuilder();
        while (!echoed.toString().contains("through\n")) {
            echoed.append(collector.next());
        }
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "").join();

        // the owner's refusal of a wrong ticket is the answer to the upgrade, as on the owner itself
        URI wrong = URI.create("wss://127.0.0.1:" + front.port() + "/api2/json/nodes/n/test/100/vncwebsocket?port="
                + console.path("port").asInt() + "&vncticket=PVEVNC:wrong");
        assertThatThrownBy(() -> http.newWebSocketBuilder().header("Authorization", "PVEAPIToken=ops@pve!t=secret")
                .buildAsync(wrong, new Collector()).join())
                .hasCauseInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> assertThat(((WebSocketHandshakeException) e.getCause()).getResponse().statusCode()).isEqualTo(403));
    }

    @Test
    void websocketWithAWrongTicketIsRefusedBeforeTheUpgrade() throws Exception {
        JsonNode console = termproxy(100);
        assertThatThrownBy(() -> connect(100, console, "PVEVNC:wrong", new Collector()))
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> assertThat(((WebSocketHandshakeException) e.getCause()).getResponse().statusCode()).isEqualTo(403));
    }

    @Test
    void plainGetOfTheWebsocketPathIsCheckedThenAskedToUpgrade() throws Exception {
        for (var pair : List.of(Map.entry(100, 426), Map.entry(101, 403))) {
            var request = java.net.http.HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + "/api2/json/test/"
                    + pair.getKey() + "/vncwebsocket?port=5900&vncticket=x")).header("Authorization", "PVEAPIToken=ops@pve!t=secret").build();
            assertThat(http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(pair.getValue());
        }
    }

    @Test
    void aTicketWorksOnlyOnce() throws Exception {
        JsonNode console = termproxy(100);
        connect(100, console, console.path("ticket").asString(), new Collector()).sendClose(WebSocket.NORMAL_CLOSURE, "").join();
        assertThatThrownBy(() -> connect(100, console, console.path("ticket").asString(), new Collector()))
                .hasCauseInstanceOf(WebSocketHandshakeException.class);
    }
}
