package org.corral.server.http;

import static java.util.Objects.requireNonNull;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.router.Endpoint;
import io.javalin.websocket.WsHandlerType;
import org.corral.core.console.ConsoleProxies;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.corral.cluster.ClusterMember;
import org.corral.core.access.AuthContext;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.ApiResult;
import org.corral.core.api.ApiStream;
import org.corral.core.api.EncodedAnswer;
import org.corral.core.api.Check;
import org.corral.core.api.HttpVerb;
import org.corral.core.api.Upload;
import org.corral.core.error.ApiException;
import org.corral.core.error.Unauthorized;
import org.corral.core.json.Json;
import org.corral.server.tls.NodeTls;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The HTTPS front of a node: one Javalin endpoint per declared method under {@code /api2/json}
 * and {@code /api2/extjs}, authentication from the ticket cookie (with CSRF check on writes), API
 * tokens or the local root secret, Proxmox-shaped answers, and the audit log of every write.
 */
public final class ApiHttpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiHttpServer.class);
    public static final String LOCAL_AUTH_SCHEME = "CorralLocal ";

    private final ApiDispatcher dispatcher;
    private final RequestAuthenticator authenticator;
    private final AuditLog audit;
    private final byte[] localRootSecret;
    private final Supplier<JsonNode> openApi;
    private final NodeProxy proxy;
    private final Javalin app;
    private ServerConnector connector;

    public ApiHttpServer(ApiDispatcher dispatcher, RequestAuthenticator authenticator, AuditLog audit, String localRootSecret,
            Supplier<JsonNode> openApi, NodeProxy proxy, SslContextFactory.Server tls, String bind, int port) {
        this.proxy = requireNonNull(proxy, "proxy is null");
        this.dispatcher = requireNonNull(dispatcher, "dispatcher is null");
        this.authenticator = requireNonNull(authenticator, "authenticator is null");
        this.audit = requireNonNull(audit, "audit is null");
        this.localRootSecret = localRootSecret.getBytes(StandardCharsets.UTF_8);
        this.openApi = requireNonNull(openApi, "openApi is null");
        this.app = Javalin.create(cfg -> {
            cfg.concurrency.useVirtualThreads = true;
            cfg.startup.showJavalinBanner = false;
            cfg.jetty.addConnector((server, httpConfig) -> connector = connector(server, httpConfig, tls, bind, port));
            if (port != 0 && !servesLoopback(bind)) {
                // the local tools (./corral with the local root credentials) talk to 127.0.0.1, as
                // Proxmox's pvesh reaches its node locally, also when the API is bound to one address
                cfg.jetty.addConnector((server, httpConfig) -> connector(server, httpConfig, tls, "127.0.0.1", port));
            }
            for (ApiMethod method : dispatcher.registry().methods()) {
                if (method.isWebSocket()) {
                    for (String prefix : List.of("/api2/json", "/api2/extjs")) {
                        cfg.routes.addEndpoint(new Endpoint(HandlerType.WEBSOCKET_BEFORE_UPGRADE, prefix + method.path(),
                                ctx -> claimConsole(ctx, method)));
                        cfg.routes.addWsHandler(WsHandlerType.WEBSOCKET, prefix + method.path(), this::consoleSocket);
                    }
                }
            }
            // plain calls go through the registry's router, built from the same declarations: Javalin's
            // matcher tries every endpoint's regex in turn, which costs more than the call itself
            for (HttpVerb verb : HttpVerb.values()) {
                HandlerType type = HandlerType.findOrCreate(verb.name());
                cfg.routes.addEndpoint(new Endpoint(type, "/api2/json/<path>", ctx -> route(ctx, verb, false)));
                cfg.routes.addEndpoint(new Endpoint(type, "/api2/extjs/<path>", ctx -> route(ctx, verb, true)));
            }
            WebAssets web = new WebAssets();
            cfg.routes.addEndpoint(new Endpoint(HandlerType.GET, "/", web::index));
            cfg.routes.addEndpoint(new Endpoint(HandlerType.GET, "/assets/{file}", web::asset));
            cfg.routes.addEndpoint(new Endpoint(HandlerType.GET, "/api2/openapi.json",
                    ctx -> ctx.contentType("application/json").result(Json.write(openApi.get()))));
            cfg.routes.error(404, ctx -> {
                // only when no endpoint answered: a handler's own answer must reach the client as it is
                if (ctx.path().startsWith("/api2/") && ctx.attribute(ANSWERED) == null) {
                    boolean extjs = ctx.path().startsWith("/api2/extjs/");
                    String path = ctx.path().replaceFirst("^/api2/[a-z]+", "");
                    fail(ctx, new ApiException(501, "Method '" + ctx.method() + " " + path + "' not implemented"), extjs);
                }
            });
        });
    }

    public ApiHttpServer start() {
        app.start();
        return this;
    }

    /** The bound port; useful when started on port 0. */
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() {
        app.stop();
    }

    private void route(Context ctx, HttpVerb verb, boolean extjs) {
        String uri = ctx.req().getRequestURI();
        String path = uri.substring((extjs ? "/api2/extjs" : "/api2/json").length());
        Optional<ApiRegistry.Match> match = dispatcher.registry().match(verb, path);
        if (match.isEmpty()) {
            fail(ctx, new ApiException(501, "Method '" + verb + " " + path + "' not implemented"), extjs);
            return;
        }
        Map<String, String> values = new LinkedHashMap<>();
        try {
            // '+' is a plus in a path, not a space
            match.get().pathValues().forEach((k, v) -> values.put(k, URLDecoder.decode(v.replace("+", "%2B"), StandardCharsets.UTF_8)));
        } catch (IllegalArgumentException e) {
            fail(ctx, new org.corral.core.error.ParameterError(match.get().method().pathVariables().getFirst(),
                    "invalid percent-encoding in the path"), extjs);
            return;
        }
        handle(ctx, match.get().method(), extjs, path, values);
    }

    private void handle(Context ctx, ApiMethod method, boolean extjs, String path, Map<String, String> pathValues) {
        HttpVerb verb = method.verb();
        String client = ctx.ip();
        AuthContext auth = AuthContext.anonymous(client);
        Map<String, String> raw = Map.of();
        int status = 200;
        String message = "";
        try {
            raw = parameters(ctx, verb);
            auth = authenticate(ctx, method, client);
            Optional<ClusterMember> owner = proxy.owner(method, pathValues, ctx);
            if (owner.isPresent()) {
                // the owner checks, runs and audits the call; parameters() left a multipart body unread
                boolean multipart = Optional.ofNullable(ctx.contentType()).orElse("").toLowerCase(java.util.Locale.ROOT)
                        .startsWith("multipart/");
                ctx.attribute(ANSWERED, true);
                proxy.forward(ctx, owner.get(), multipart || verb.parametersInQuery() ? new byte[0] : ctx.bodyAsBytes(), multipart);
                return;
            }
            ApiRegistry.Match match = new ApiRegistry.Match(method, pathValues);
            if (method.isWebSocket()) {
                dispatcher.authorize(match, raw, auth);
                throw new ApiException(426, "websocket upgrade required");
            }
            Optional<Upload> upload = Optional.empty();
            String contentType = Optional.ofNullable(ctx.contentType()).orElse("");
            if (contentType.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data")) {
                Map<String, String> fields = new LinkedHashMap<>(raw);
                upload = multipart(ctx, method, contentType, fields);
                raw = fields;
            }
            Object result = dispatcher.dispatch(match, raw, auth, upload);
            if (result instanceof ApiStream stream) {
                ctx.status(200).contentType(stream.contentType());
                try (java.io.OutputStream out = ctx.res().getOutputStream()) {
                    stream.writer().write(out);
                }
            } else {
                respond(ctx, result, extjs);
            }
        } catch (ApiException e) {
            status = e.status();
            message = e.getMessage();
            fail(ctx, e, extjs);
        } catch (Exception e) {
            status = 500;
            message = e.getMessage() == null ? e.toString() : e.getMessage();
            log.error("{} {} failed", verb, path, e);
            fail(ctx, new ApiException(500, message, e), extjs);
        }
        if (verb != HttpVerb.GET) {
            audit.record(auth, verb, path, AuditLog.mask(method, raw), status, message);
        }
    }

    private static final String CONSOLE = "corral.console";
    private static final String REMOTE_CONSOLE = "corral.remote-console";
    private static final String ANSWERED = "corral.answered";

    /** Before the websocket upgrade: the same authentication and checks as any call, then the console is claimed. */
    private void claimConsole(Context ctx, ApiMethod method) {
        String client = ctx.ip();
        AuthContext auth = AuthContext.anonymous(client);
        int status = 101;
        String message = "";
        try {
            auth = authenticate(ctx, method, client);
            Optional<ClusterMember> owner = proxy.owner(method, ctx.pathParamMap(), ctx);
            if (owner.isPresent()) {
                // the owner checks the ticket and serves the console; this node carries the frames
                NodeProxy.RemoteConsole remote = proxy.openConsole(ctx, owner.get());
                ctx.attribute(REMOTE_CONSOLE, remote);
                if (remote.subprotocol() != null && !remote.subprotocol().isEmpty()) {
                    ctx.header("Sec-WebSocket-Protocol", remote.subprotocol());
                }
                return;
            }
            Object result = dispatcher.dispatch(new ApiRegistry.Match(method, ctx.pathParamMap()),
                    parameters(ctx, HttpVerb.GET), auth);
            ctx.attribute(CONSOLE, (ConsoleProxies.Pending) result);
            String protocols = ctx.header("Sec-WebSocket-Protocol");
            if (protocols != null && List.of(protocols.split("\\s*,\\s*")).contains("binary")) {
                // noVNC and xterm.js ask for 'binary'; without the echo Chrome drops the connection
                ctx.header("Sec-WebSocket-Protocol", "binary");
            }
        } catch (ApiException e) {
            status = e.status();
            message = e.getMessage();
        } catch (Exception e) {
            status = 500;
            message = String.valueOf(e.getMessage());
            log.error("websocket {} failed", ctx.path(), e);
        }
        if (status != 101) {
            audit.record(auth, HttpVerb.GET, ctx.path(), AuditLog.mask(method, Map.of()), status, message);
            fail(ctx, new ApiException(status, message), false);
            ctx.skipRemainingHandlers();
        }
    }

    private void consoleSocket(io.javalin.websocket.WsConfig ws) {
        Map<String, ConsoleSocket> sockets = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, NodeProxy.RemoteConsole> remotes = new java.util.concurrent.ConcurrentHashMap<>();
        ws.onConnect(ctx -> {
            NodeProxy.RemoteConsole remote = ctx.attribute(REMOTE_CONSOLE);
            if (remote != null) {
                remotes.put(ctx.sessionId(), remote);
                remote.attach(ctx);
                return;
            }
            ConsoleProxies.Pending console = ctx.attribute(CONSOLE);
            if (console == null) {
                ctx.closeSession();
                return;
            }
            ConsoleSocket socket = new ConsoleSocket(console, ctx);
            sockets.put(ctx.sessionId(), socket);
            socket.opened();
        });
        ws.onBinaryMessage(ctx -> {
            byte[] bytes = new byte[ctx.data().remaining()];
            ctx.data().get(bytes);
            NodeProxy.RemoteConsole remote = remotes.get(ctx.sessionId());
            if (remote != null) {
                remote.fromClient(bytes);
            } else {
                sockets.get(ctx.sessionId()).received(bytes);
            }
        });
        ws.onMessage(ctx -> {
            NodeProxy.RemoteConsole remote = remotes.get(ctx.sessionId());
            if (remote != null) {
                remote.fromClient(ctx.message());
            } else {
                sockets.get(ctx.sessionId()).received(ctx.message().getBytes(StandardCharsets.UTF_8));
            }
        });
        ws.onError(ctx -> log.warn("Console websocket {} failed", ctx.sessionId(), ctx.error()));
        ws.onClose(ctx -> {
            NodeProxy.RemoteConsole remote = remotes.remove(ctx.sessionId());
            if (remote != null) {
                remote.clientClosed();
            }
            ConsoleSocket socket = sockets.remove(ctx.sessionId());
            if (socket != null) {
                socket.closed();
            }
        });
    }

    private AuthContext authenticate(Context ctx, ApiMethod method, String client) {
        if (method.check() instanceof Check.Anonymous) {
            // the login call ignores any old cookie, as Proxmox does
            return AuthContext.anonymous(client);
        }
        String authorization = ctx.header("Authorization");
        if (authorization != null && authorization.startsWith("PVEAPIToken")) {
            String value = authorization.substring("PVEAPIToken".length());
            return authenticator.apiToken(value.startsWith("=") || value.startsWith(" ") ? value.substring(1) : value, client);
        }
        if (authorization != null && authorization.startsWith(LOCAL_AUTH_SCHEME)) {
            byte[] given = authorization.substring(LOCAL_AUTH_SCHEME.length()).getBytes(StandardCharsets.UTF_8);
            if (!isLoopback(client) || !MessageDigest.isEqual(given, localRootSecret)) {
                throw new Unauthorized("authentication failure - invalid local credentials");
            }
            return AuthContext.user(AuthContext.ROOT, client);
        }
        String cookie = ctx.cookie("PVEAuthCookie");
        if (cookie == null || cookie.isEmpty()) {
            return AuthContext.anonymous(client);
        }
        String ticket = cookie.contains("%") ? URLDecoder.decode(cookie, StandardCharsets.UTF_8) : cookie;
        Optional<AuthContext> user = authenticator.ticket(ticket, client);
        if (user.isEmpty()) {
            throw new Unauthorized("authentication failure - invalid ticket");
        }
        if (method.verb() != HttpVerb.GET) {
            String csrf = ctx.header("CSRFPreventionToken");
            if (csrf == null || !authenticator.csrf(csrf, user.get().userid())) {
                throw new Unauthorized("Permission denied - invalid csrf token");
            }
        }
        return user.get();
    }

    private static ServerConnector connector(org.eclipse.jetty.server.Server server, HttpConfiguration httpConfig,
            SslContextFactory.Server tls, String host, int port) {
        HttpConfiguration https = new HttpConfiguration(httpConfig);
        https.setSendServerVersion(false);
        https.addCustomizer(NodeTls.secureRequestCustomizer());
        https.addCustomizer(new ReasonPhrase());
        ServerConnector connector = new ServerConnector(server, tls, new HttpConnectionFactory(https));
        connector.setHost(host);
        connector.setPort(port);
        return connector;
    }

    /** Whether a connector bound to {@code bind} already answers on 127.0.0.1. */
    private static boolean servesLoopback(String bind) {
        return List.of("0.0.0.0", "*", "::", "[::]").contains(bind) || isLoopback(bind);
    }

    private static boolean isLoopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static final int MAX_FIELD = 64 * 1024;

    /**
     * Reads form fields up to the method's file part and hands the file over as a stream; as in
     * Proxmox's uploads, fields come before the file, and parts after it are not read.
     */
    private static Optional<Upload> multipart(Context ctx, ApiMethod method, String contentType, Map<String, String> fields)
            throws java.io.IOException {
        String boundary = MultipartStream.boundary(contentType)
                .orElseThrow(() -> new org.corral.core.error.ParameterError("content-type", "multipart body without boundary"));
        MultipartStream parts = new MultipartStream(ctx.req().getInputStream(), boundary);
        Optional<MultipartStream.Part> part;
        while ((part = parts.next()).isPresent()) {
            MultipartStream.Part p = part.get();
            if (p.filename().isPresent() || method.uploadPart().filter(p.name()::equals).isPresent()) {
                if (method.uploadPart().filter(p.name()::equals).isEmpty()) {
                    throw new org.corral.core.error.ParameterError(p.name(), "this method takes no file upload");
                }
                return Optional.of(new Upload(p.filename().orElse(""), p.contentType(), p.body()));
            }
            byte[] value = p.body().readNBytes(MAX_FIELD + 1);
            if (value.length > MAX_FIELD) {
                throw new org.corral.core.error.ParameterError(p.name(), "value may only be " + MAX_FIELD + " characters long");
            }
            fields.put(p.name(), new String(value, StandardCharsets.UTF_8));
        }
        return Optional.empty();
    }

    private static Map<String, String> parameters(Context ctx, HttpVerb verb) {
        Map<String, String> raw = new LinkedHashMap<>();
        ctx.queryParamMap().forEach((k, v) -> raw.put(k, String.join(",", v)));
        if (!verb.parametersInQuery()) {
            String type = Optional.ofNullable(ctx.contentType()).orElse("");
            if (type.startsWith("application/json")) {
                String body = ctx.body();
                if (!body.isBlank()) {
                    JsonNode node = Json.read(body);
                    if (!node.isObject()) {
                        throw new org.corral.core.error.ParameterError("body", "JSON body must be an object");
                    }
                    node.properties().forEach(e -> {
                        JsonNode v = e.getValue();
                        if (!v.isNull()) {
                            raw.put(e.getKey(), jsonParameter(v));
                        }
                    });
                }
            } else if (type.startsWith("application/x-www-form-urlencoded") || type.isEmpty()) {
                ctx.formParamMap().forEach((k, v) -> raw.put(k, String.join(",", v)));
            }
        }
        return raw;
    }

    private static String jsonParameter(JsonNode v) {
        if (v.isBoolean()) {
            return v.booleanValue() ? "1" : "0";
        }
        if (v.isArray()) {
            List<String> items = new ArrayList<>();
            v.forEach(item -> items.add(jsonParameter(item)));
            return String.join(",", items);
        }
        return v.isValueNode() ? v.asString() : v.toString();
    }

    private static void respond(Context ctx, Object result, boolean extjs) {
        if (result instanceof EncodedAnswer answer) {
            // encoded (and gzipped) once for every caller that gets the same answer
            boolean gzip = acceptsGzip(ctx) && answer.body(extjs, false).length >= MIN_GZIP_BYTES;
            byte[] body = answer.body(extjs, gzip);
            ctx.status(200).contentType("application/json;charset=UTF-8");
            ctx.header("Vary", "Accept-Encoding");
            if (gzip) {
                ctx.header("Content-Encoding", "gzip");
            }
            write(ctx, body);
            return;
        }
        // serialized straight from the handler's objects: no intermediate JSON tree
        Map<String, Object> body = new LinkedHashMap<>();
        if (extjs) {
            body.put("success", 1);
        }
        if (result instanceof ApiResult r) {
            body.put("data", r.data());
            body.putAll(r.extras());
        } else {
            body.put("data", result);
        }
        send(ctx, 200, Json.writeBytes(body));
    }

    /** Answers smaller than this go uncompressed: gzip would save less than it costs. */
    static final int MIN_GZIP_BYTES = 1024;

    /** Sends a JSON body, gzipped when the client accepts it and it is worth it. */
    private static void send(Context ctx, int status, byte[] body) {
        boolean gzip = body.length >= MIN_GZIP_BYTES && acceptsGzip(ctx);
        send(ctx, status, gzip ? EncodedAnswer.gzip(body) : body, gzip);
    }

    /**
     * Sets the answer. Javalin compresses only answers without a {@code Content-Encoding} of at
     * least 1,500 bytes, and every such answer that the client takes gzipped is gzipped here.
     */
    private static void send(Context ctx, int status, byte[] body, boolean gzipped) {
        ctx.status(status).contentType("application/json;charset=UTF-8");
        ctx.header("Vary", "Accept-Encoding");
        if (gzipped) {
            ctx.header("Content-Encoding", "gzip");
        }
        write(ctx, body);
    }

    /**
     * Writes the whole body at once with its length, past Javalin's result stream: that copies
     * through a new buffer of the response buffer's size on every call, which cost more than a
     * small call's own work.
     */
    private static void write(Context ctx, byte[] body) {
        ctx.res().setContentLength(body.length);
        try {
            ctx.res().getOutputStream().write(body);
        } catch (java.io.IOException e) {
            // the client went away while the answer was on its way
            log.debug("Answer of {} not delivered: {}", ctx.path(), e.toString());
        }
    }

    /** Whether {@code Accept-Encoding} allows gzip (RFC 9110: a coding with q=0 is refused). */
    static boolean acceptsGzip(Context ctx) {
        return acceptsGzip(ctx.header("Accept-Encoding"));
    }

    private static final java.util.regex.Pattern ZERO_QUALITY = java.util.regex.Pattern.compile("0(\\.0{0,3})?");

    static boolean acceptsGzip(String header) {
        if (header == null) {
            return false;
        }
        boolean star = false;
        for (String part : header.split(",")) {
            String[] pieces = part.split(";");
            String coding = pieces[0].strip().toLowerCase(java.util.Locale.ROOT);
            boolean refused = false;
            for (int i = 1; i < pieces.length; i++) {
                String param = pieces[i].strip().toLowerCase(java.util.Locale.ROOT).replace(" ", "");
                if (param.startsWith("q=")) {
                    refused = ZERO_QUALITY.matcher(param.substring(2)).matches();
                }
            }
            if (coding.equals("gzip") || coding.equals("x-gzip")) {
                return !refused;
            }
            if (coding.equals("*")) {
                star = !refused;
            }
        }
        return star;
    }

    private static void fail(Context ctx, ApiException e, boolean extjs) {
        ctx.attribute(ANSWERED, Boolean.TRUE);
        if (ctx.res().isCommitted()) {
            // a streamed answer broke off: the client sees the connection end early
            log.warn("Streamed answer of {} broke off: {}", ctx.path(), e.getMessage());
            return;
        }
        ObjectNode body = Json.object();
        String message = e.getMessage() == null ? "error" : e.getMessage();
        if (extjs) {
            body.put("success", 0);
            body.put("status", e.status());
        }
        body.putNull("data");
        body.put("message", message.endsWith("\n") ? message : message + "\n");
        if (!e.errors().isEmpty()) {
            body.set("errors", Json.tree(e.errors()));
        }
        if (!extjs) {
            ctx.header(ReasonPhrase.HEADER, ReasonPhrase.sanitize(message));
        }
        send(ctx, extjs ? 200 : e.status(), Json.writeBytes(body));
    }
}
