package org.corral.server.http;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.corral.core.access.AuthContext;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.HttpVerb;
import org.corral.core.json.Json;
import org.corral.core.schema.Schema;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Every call that may change state, one JSON line each: time, caller, client address, method,
 * path, parameters with secrets masked, HTTP status and message. Kept on the node's disk.
 */
public final class AuditLog {
    /** Parameter names masked even where no schema marks them (refused unknown parameters too). */
    private static final Set<String> SECRET_NAMES = Set.of("password", "new-password", "oldpassword", "secret", "otp",
            "tfa-challenge", "key", "value", "token", "ticket", "cipassword", "sshkey", "sshkeys", "client-key");

    private final Path file;
    private final String node;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();

    public AuditLog(Path file, String node, Clock clock) {
        this.file = requireNonNull(file, "file is null");
        this.node = requireNonNull(node, "node is null");
        this.clock = requireNonNull(clock, "clock is null");
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Map<String, String> mask(ApiMethod method, Map<String, String> params) {
        Map<String, String> out = new LinkedHashMap<>();
        params.forEach((name, value) -> {
            Schema schema = method.parameters().get(name);
            boolean secret = schema != null && schema.isSecret() || SECRET_NAMES.contains(name.toLowerCase(Locale.ROOT));
            out.put(name, secret ? "********" : value);
        });
        return out;
    }

    public void record(AuthContext auth, HttpVerb verb, String path, Map<String, String> params, int status, String message) {
        ObjectNode line = Json.object();
        line.put("time", clock.millis() / 1000);
        line.put("node", node);
        line.put("user", auth.isAnonymous() ? "" : auth.authid());
        line.put("client", auth.clientAddress());
        line.put("method", verb.name());
        line.put("path", path);
        line.set("params", Json.tree(params));
        line.put("status", status);
        if (!message.isEmpty()) {
            line.put("message", message);
        }
        byte[] bytes = (Json.write(line) + "\n").getBytes(StandardCharsets.UTF_8);
        lock.lock();
        try {
            Files.write(file, bytes, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write audit log " + file, e);
        } finally {
            lock.unlock();
        }
    }

    /** The last {@code max} entries, oldest first. */
    public List<JsonNode> tail(int max) {
        if (!Files.exists(file)) {
            return List.of();
        }
        Deque<JsonNode> last = new ArrayDeque<>();
        lock.lock();
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            lines.forEach(l -> {
                if (!l.isBlank()) {
                    last.addLast(Json.read(l));
                    if (last.size() > max) {
                        last.removeFirst();
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            lock.unlock();
        }
        return new ArrayList<>(last);
    }
}
