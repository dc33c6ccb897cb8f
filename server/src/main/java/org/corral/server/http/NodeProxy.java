package org.corral.server.http;

import static java.util.Objects.requireNonNull;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.corral.cluster.ClusterConfig;
import org.corral.cluster.ClusterMember;
import org.corral.cluster.tls.PinnedCertificate;
import org.corral.core.api.ApiMethod;
import org.corral.core.error.ApiException;

/**
 * Calls for another node of the cluster ({@code /nodes/{node}/...} where {@code node} is not this
 * one) are forwarded to that node over HTTPS, pinned to the certificate fingerprint it recorded in
 * {@code cluster.cfg}, as Proxmox's pveproxy does. The caller's credentials go along unchanged
 * (tickets and API tokens are valid on every node), the owner checks permissions, runs the call
 * and audits it, and its answer comes back as it is.
 */
public final class NodeProxy {
    /** Marks a forwarded request, so that a node never forwards it again. */
    public static final String FORWARDED_BY = "X-Corral-Forwarded-By";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(30);
    private static final List<String> REQUEST_HEADERS = List.of("Cookie", "Authorization", "CSRFPreventionToken", "Content-Type", "Accept");
    private static final List<String> RESPONSE_HEADERS = List.of("Content-Type", "Content-Disposition");

    private final String localNode;
    private final Supplier<ClusterConfig> cluster;
    private final Map<String, HttpClient> clients = new ConcurrentHashMap<>();

    public NodeProxy(String localNode, Supplier<ClusterConfig> cluster) {
        this.localNode = requireNonNull(localNode, "localNode is null");
        this.cluster = requireNonNull(cluster, "cluster is null");
    }

    /** Whether calls of {@code method} belong to the node its path names. */
    public static boolean belongsToNode(ApiMethod method) {
        return method.isProxyToNode() || method.path().startsWith("/nodes/{node}");
    }

    /**
     * The member that owns this call, when it is another node of the cluster; empty when this node
     * owns it. A node that is not a member is refused with Proxmox's 595 "no such cluster node".
     */
    Optional<ClusterMember> owner(ApiMethod method, Map<String, String> pathValues, Context ctx) {
        if (!belongsToNode(method)) {
            return Optional.empty();
        }
        String node = pathValues.get("node");
        // Proxmox takes "localhost" for the node that answers
        if (node == null || node.equals(localNode) || node.equals("localhost")) {
            return Optional.empty();
        }
        try {
            org.corral.core.task.Upid.checkNodeName(node);
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // not a node name: the parameter check answers 400
        }
        Optional<ClusterMember> member = cluster.get().member(node);
        if (member.isEmpty()) {
            // refused here, once for every method: no handler acts for a node that does not exist
            throw new ApiException(595, "no such cluster node '" + node + "'");
        }
        if (ctx.header(FORWARDED_BY) != null) {
            throw new ApiException(500, "proxy loop detected - node '" + node + "' was reached through '"
                    + ctx.header(FORWARDED_BY) + "' but is not this node");
        }
        return member;
    }

    /**
     * Opens the websocket of a console on {@code member} before the client's upgrade, so that the
     * owner's refusal (a wrong ticket: 403) reaches the client as the answer to its upgrade.
     */
    RemoteConsole openConsole(Context ctx, ClusterMember member) {
        checkCredentials(ctx, member);
        URI uri = sameCallOn(member, "wss", ctx);
        WebSocket.Builder builder = client(member).newWebSocketBuilder().connectTimeout(CONNECT_TIMEOUT).header(FORWARDED_BY, localNode);
        for (String name : List.of("Cookie", "Authorization")) {
            String value = ctx.header(name);
            if (value != null) {
                builder.header(name, value);
            }
        }
        String protocols = ctx.header("Sec-WebSocket-Protocol");
        if (protocols != null && !protocols.isBlank()) {
            String[] offered = protocols.split("\\s*,\\s*");
            builder.subprotocols(offered[0], java.util.Arrays.copyOfRange(offered, 1, offered.length));
        }
        RemoteConsole console = new RemoteConsole();
        try {
            console.remote = builder.buildAsync(uri, console).join();
            return console;
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof java.net.http.WebSocketHandshakeException refused) {
                int status = refused.getResponse().statusCode();
                throw new ApiException(status, "node '" + member.name() + "' refused the console: HTTP " + status);
            }
            throw new ApiException(595, "errors during connection establishment to node '" + member.name() + "': "
                    + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()));
        }
    }

    /**
     * The owner's end of a forwarded console: what it sends goes to the client's websocket once that
     * is open (held until then), and what the client sends goes to the owner as the same kind of frame.
     */
    static final class RemoteConsole implements WebSocket.Listener {
        private final Object lock = new Object();
        private final java.util.List<Object> early = new java.util.ArrayList<>();
        private io.javalin.websocket.WsContext local;
        private volatile WebSocket remote;
        private StringBuilder text = new StringBuilder();
        private java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();

        String subprotocol() {
            return remote.getSubprotocol();
        }

        void attach(io.javalin.websocket.WsContext client) {
            synchronized (lock) {
                local = client;
                early.forEach(this::deliver);
                early.clear();
            }
        }

        void fromClient(byte[] bytes) {
            remote.sendBinary(java.nio.ByteBuffer.wrap(bytes), true).join();
        }

        void fromClient(String message) {
            remote.sendText(message, true).join();
        }

        void clientClosed() {
            if (!remote.isOutputClosed()) {
                remote.sendClose(WebSocket.NORMAL_CLOSURE, "").exceptionally(e -> null);
            }
        }

        @Override
        public java.util.concurrent.CompletionStage<?> onBinary(WebSocket webSocket, java.nio.ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            binary.writeBytes(bytes);
            if (last) {
                pass(java.nio.ByteBuffer.wrap(binary.toByteArray()));
                binary = new java.io.ByteArrayOutputStream();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public java.util.concurrent.CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                pass(text.toString());
                text = new StringBuilder();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public java.util.concurrent.CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            synchronized (lock) {
                if (local != null) {
                    local.closeSession();
                } else {
                    early.add(CLOSED);
                }
            }
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            onClose(webSocket, WebSocket.NORMAL_CLOSURE, String.valueOf(error.getMessage()));
        }

        private void pass(Object message) {
            synchronized (lock) {
                if (local == null) {
                    early.add(message);
                } else {
                    deliver(message);
                }
            }
        }

        private void deliver(Object message) {
            if (message == CLOSED) {
                local.closeSession();
            } else if (message instanceof String string) {
                local.send(string);
            } else {
                local.send((java.nio.ByteBuffer) message);
            }
        }

        private static final Object CLOSED = new Object();
    }

    private void checkCredentials(Context ctx, ClusterMember member) {
        String authorization = Optional.ofNullable(ctx.header("Authorization")).orElse("");
        if (authorization.startsWith(ApiHttpServer.LOCAL_AUTH_SCHEME)) {
            throw new ApiException(401, "local root credentials are valid on node '" + localNode
                    + "' only; call node '" + member.name() + "' with a ticket or an API token");
        }
    }

    private HttpClient client(ClusterMember member) {
        if (member.fingerprint().isEmpty()) {
            throw new ApiException(595, "no certificate fingerprint recorded for node '" + member.name() + "'");
        }
        return clients.computeIfAbsent(member.fingerprint(), fp -> PinnedCertificate.httpClient(fp, CONNECT_TIMEOUT));
    }

    /** The address of this request's path and query on {@code member}. */
    private static URI sameCallOn(ClusterMember member, String scheme, Context ctx) {
        String host = member.address().contains(":") && !member.address().startsWith("[") ? "[" + member.address() + "]" : member.address();
        String query = ctx.req().getQueryString();
        return URI.create(scheme + "://" + host + ":" + member.apiPort() + ctx.req().getRequestURI() + (query == null ? "" : "?" + query));
    }

    /** Sends the request on to {@code member} and copies its answer back. */
    void forward(Context ctx, ClusterMember member, byte[] body, boolean streamBody) throws IOException {
        checkCredentials(ctx, member);
        URI uri = sameCallOn(member, "https", ctx);
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(CALL_TIMEOUT).header(FORWARDED_BY, localNode);
        for (String name : REQUEST_HEADERS) {
            String value = ctx.header(name);
            if (value != null) {
                request.header(name, value);
            }
        }
        HttpRequest.BodyPublisher publisher;
        if (streamBody) {
            publisher = HttpRequest.BodyPublishers.ofInputStream(() -> {
                try {
                    return ctx.req().getInputStream();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } else {
            publisher = body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body);
        }
        request.method(ctx.method().name().toUpperCase(Locale.ROOT), publisher);
        HttpClient client = client(member);
        HttpResponse<InputStream> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            // Proxmox's pveproxy answers 595 when it can't reach the node
            throw new ApiException(595, "errors during connection establishment to node '" + member.name() + "' ("
                    + member.address() + ":" + member.apiPort() + "): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(595, "interrupted while calling node '" + member.name() + "'");
        }
        ctx.status(response.statusCode());
        for (String name : RESPONSE_HEADERS) {
            response.headers().firstValue(name).ifPresent(value -> ctx.header(name, value));
        }
        try (InputStream in = response.body(); OutputStream out = ctx.res().getOutputStream()) {
            in.transferTo(out);
        }
    }
}
