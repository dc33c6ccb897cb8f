package org.corral.core.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import org.corral.core.schema.Schema;

/**
 * One API method, declared once: verb, path, who may call it, its parameters and answer, and its
 * handler. Routing, validation, the permission check, the OpenAPI document and the CLI all read it.
 */
public final class ApiMethod {
    private final HttpVerb verb;
    private final String path;
    private final List<String> pathVariables;
    private String name;
    private String description = "";
    private Check check;
    private boolean proxyToNode;
    private boolean allowToken = true;
    private boolean extension;
    private String uploadPart;
    private boolean webSocket;
    private boolean restOfPath;
    private boolean withoutQuorum;
    private String indexKey;
    private List<Map<String, String>> index = List.of();
    private final Map<String, Schema> parameters = new LinkedHashMap<>();
    private Schema returns = Schema.nullValue();
    private ApiHandler handler;

    private ApiMethod(HttpVerb verb, String path) {
        this.verb = requireNonNull(verb, "verb is null");
        this.path = requireNonNull(path, "path is null");
        if (!path.startsWith("/") || path.length() > 1 && path.endsWith("/")) {
            throw new IllegalArgumentException("API path must start and must not end with '/': " + path);
        }
        List<String> variables = new ArrayList<>();
        Matcher m = Check.VARIABLE.matcher(path);
        while (m.find()) {
            variables.add(m.group(1));
        }
        this.pathVariables = List.copyOf(variables);
    }

    public static ApiMethod get(String path) {
        return new ApiMethod(HttpVerb.GET, path);
    }

    public static ApiMethod post(String path) {
        return new ApiMethod(HttpVerb.POST, path);
    }

    public static ApiMethod put(String path) {
        return new ApiMethod(HttpVerb.PUT, path);
    }

    public static ApiMethod delete(String path) {
        return new ApiMethod(HttpVerb.DELETE, path);
    }

    /** Proxmox's method name (e.g. {@code read_task_status}); shown in the API viewer. */
    public ApiMethod name(String value) {
        this.name = requireNonNull(value, "value is null");
        return this;
    }

    public ApiMethod description(String text) {
        this.description = requireNonNull(text, "text is null");
        return this;
    }

    public ApiMethod permission(Check value) {
        this.check = requireNonNull(value, "value is null");
        return this;
    }

    /** The call belongs to the node named by {@code {node}} and is forwarded there. */
    public ApiMethod proxyToNode() {
        this.proxyToNode = true;
        return this;
    }

    /** API tokens may not call this method (Proxmox refuses tokens for ticket and password calls). */
    public ApiMethod noTokens() {
        this.allowToken = false;
        return this;
    }

    /** A Corral addition that Proxmox VE lacks; the OpenAPI document marks it. */
    public ApiMethod extension() {
        this.extension = true;
        return this;
    }

    /**
     * The call carries a file as the multipart part {@code part} (Proxmox's upload methods name it
     * {@code filename}); the handler reads it from {@link ApiRequest#upload()}.
     */
    public ApiMethod upload(String part) {
        this.uploadPart = requireNonNull(part, "part is null");
        return this;
    }

    /**
     * The call upgrades to a websocket (Proxmox's {@code vncwebsocket}); the handler returns the
     * {@link org.corral.core.console.ConsoleProxies.Pending} console that the socket carries.
     */
    public ApiMethod webSocket() {
        this.webSocket = true;
        return this;
    }

    /**
     * The call works on a node that has lost its quorum, as Proxmox lets stop, shutdown and login
     * work there. Every other call that is not a GET is refused then with "cluster not ready - no
     * quorum?", before it can change anything.
     */
    public ApiMethod worksWithoutQuorum() {
        this.withoutQuorum = true;
        return this;
    }

    /** Whether the dispatcher must see a quorum before it runs the call. */
    public boolean needsQuorum() {
        return verb != HttpVerb.GET && !withoutQuorum;
    }

    /**
     * The last path variable takes the rest of the path, slashes included, as Proxmox's router
     * lets it: clients send volume ids such as {@code local:iso/x.iso} without encoding the slash.
     */
    public ApiMethod lastVariableTakesRestOfPath() {
        this.restOfPath = true;
        return this;
    }

    /**
     * A directory index: answers {@code [{key: child}, ...]} for the literal path segments that
     * the registry's declarations have right below this path, so it never lists a child that
     * does not exist. {@code check} runs first (for example: the guest exists).
     */
    public ApiMethod directoryIndex(String key, ApiRequestCheck check) {
        this.indexKey = requireNonNull(key, "key is null");
        requireNonNull(check, "check is null");
        this.returns = Schema.array(Schema.object().property(key, Schema.string()));
        this.handler = request -> {
            check.check(request);
            return index;
        };
        return this;
    }

    /** As {@link #directoryIndex(String, ApiRequestCheck)} with no check. */
    public ApiMethod directoryIndex(String key) {
        return directoryIndex(key, request -> {});
    }

    /** A check a directory index runs before it answers. */
    @FunctionalInterface
    public interface ApiRequestCheck {
        void check(ApiRequest request) throws Exception;
    }

    public ApiMethod parameter(String paramName, Schema schema) {
        requireNonNull(paramName, "paramName is null");
        if (parameters.put(paramName, requireNonNull(schema, "schema is null")) != null) {
            throw new IllegalArgumentException("parameter '" + paramName + "' declared twice on " + this);
        }
        return this;
    }

    public ApiMethod returns(Schema schema) {
        this.returns = requireNonNull(schema, "schema is null");
        return this;
    }

    public ApiMethod handler(ApiHandler value) {
        this.handler = requireNonNull(value, "value is null");
        return this;
    }

    public HttpVerb verb() {
        return verb;
    }

    public String path() {
        return path;
    }

    public List<String> pathVariables() {
        return pathVariables;
    }

    public Optional<String> name() {
        return Optional.ofNullable(name);
    }

    public String description() {
        return description;
    }

    public Check check() {
        return check;
    }

    public boolean isProxyToNode() {
        return proxyToNode;
    }

    public boolean allowsToken() {
        return allowToken;
    }

    public boolean isWebSocket() {
        return webSocket;
    }

    public Optional<String> uploadPart() {
        return Optional.ofNullable(uploadPart);
    }

    public boolean isExtension() {
        return extension;
    }

    public Map<String, Schema> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    public Schema returns() {
        return returns;
    }

    public ApiHandler handler() {
        return handler;
    }

    public boolean lastVariableTakesRest() {
        return restOfPath;
    }

    Optional<String> indexKey() {
        return Optional.ofNullable(indexKey);
    }

    /** Called once by the registry with the children its declarations have below this path. */
    void indexChildren(List<String> children) {
        this.index = children.stream().map(child -> Map.of(indexKey, child)).toList();
    }

    /** Problems with the declaration itself; the registry refuses to start with any. */
    List<String> declarationErrors() {
        List<String> errors = new ArrayList<>();
        if (check == null) {
            errors.add(this + ": no permission declared");
        }
        if (handler == null) {
            errors.add(this + ": no handler");
        }
        for (String variable : pathVariables) {
            Schema schema = parameters.get(variable);
            if (schema == null) {
                errors.add(this + ": path variable '" + variable + "' is not a declared parameter");
            } else if (schema.isOptional()) {
                errors.add(this + ": path variable '" + variable + "' is optional");
            }
        }
        if (restOfPath && (pathVariables.isEmpty() || !path.endsWith("{" + pathVariables.getLast() + "}"))) {
            errors.add(this + ": only a last path variable can take the rest of the path");
        }
        if (check instanceof Check.OnPath onPath) {
            Matcher m = Check.VARIABLE.matcher(onPath.template());
            while (m.find()) {
                if (!parameters.containsKey(m.group(1))) {
                    errors.add(this + ": permission path uses undeclared parameter '" + m.group(1) + "'");
                }
            }
        }
        return errors;
    }

    @Override
    public String toString() {
        return verb + " " + path;
    }
}
