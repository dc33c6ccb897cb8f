package org.corral.qemu;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.corral.core.json.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A QMP-speaking test peer on a unix socket: QEMU's monitor (greeting, capabilities) or a guest
 * agent (no greeting, {@code guest-sync-delimited} with its 0xFF byte). Handlers answer commands:
 * a value is the {@code return}, a {@link Failure} an error, {@code null} no answer at all.
 */
final class QmpPeer implements AutoCloseable {
    record Failure(String errorClass, String desc) {}

    enum Mode { QMP, AGENT }

    private final Path socket;
    private final Mode mode;
    private final boolean omitIds;
    private final ServerSocketChannel server;
    private final Thread thread;
    private final Map<String, Function<JsonNode, Object>> handlers = new ConcurrentHashMap<>();
    final List<String> received = new CopyOnWriteArrayList<>();
    private volatile SocketChannel client;

    QmpPeer(Path socket, Mode mode, boolean omitIds) throws IOException {
        this.socket = socket;
        this.mode = mode;
        this.omitIds = omitIds;
        Files.deleteIfExists(socket);
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        handlers.put("qmp_capabilities", args -> Json.object());
        this.thread = Thread.ofPlatform().daemon().name("qmp-peer").start(this::serve);
    }

    QmpPeer on(String command, Function<JsonNode, Object> handler) {
        handlers.put(command, handler);
        return this;
    }

    Path socket() {
        return socket;
    }

    /** Sends an event to the connected client. */
    void event(String name, Map<String, ?> data) throws IOException {
        ObjectNode event = Json.object();
        event.put("event", name);
        event.set("data", Json.tree(data));
        ObjectNode ts = event.putObject("timestamp");
        ts.put("seconds", 1700000000L);
        ts.put("microseconds", 5L);
        send(client, Json.write(event) + "\r\n");
    }

    /** Drops the current client, as a dying QEMU would. */
    void hangUp() throws IOException {
        client.close();
    }

    private void serve() {
        while (server.isOpen()) {
            try (SocketChannel c = server.accept()) {
                client = c;
                if (mode == Mode.QMP) {
                    send(c, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"test\"}, \"capabilities\": [\"oob\"]}}\r\n");
                }
                readRequests(c);
            } catch (IOException e) {
                // client gone or server closed: wait for the next one
            }
        }
    }

    private void readRequests(SocketChannel c) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (c.read(buffer.clear()) >= 0) {
            buffer.flip();
            while (buffer.hasRemaining()) {
                byte b = buffer.get();
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                JsonNode request = Json.read(line.toString(StandardCharsets.UTF_8));
                line.reset();
                Thread.ofVirtual().start(() -> answer(c, request));
            }
        }
    }

    private void answer(SocketChannel c, JsonNode request) {
        String command = request.path("execute").asString();
        received.add(command);
        ObjectNode reply = Json.object();
        Object result;
        if (command.equals("guest-sync-delimited") && !handlers.containsKey(command)) {
            result = request.path("arguments").path("id").asLong();
        } else {
            Function<JsonNode, Object> handler = handlers.get(command);
            result = handler == null ? new Failure("CommandNotFound", "The command " + command + " has not been found")
                    : handler.apply(request.path("arguments"));
        }
        if (result == null) {
            return;
        }
        if (result instanceof Failure f) {
            ObjectNode error = reply.putObject("error");
            error.put("class", f.errorClass());
            error.put("desc", f.desc());
        } else {
            reply.set("return", Json.tree(result));
        }
        if (request.has("id") && !omitIds) {
            reply.set("id", request.get("id"));
        }
        try {
            String prefix = command.equals("guest-sync-delimited") ? "\u00ff" : "";
            send(c, prefix + Json.write(reply) + "\n");
        } catch (IOException e) {
            // client went away
        }
    }

    private static synchronized void send(SocketChannel c, String text) throws IOException {
        byte[] bytes = text.startsWith("\u00ff") ? concat(new byte[] {(byte) 0xff}, text.substring(1).getBytes(StandardCharsets.UTF_8))
                : text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            c.write(buffer);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Override
    public void close() throws IOException {
        server.close();
        SocketChannel c = client;
        if (c != null) {
            c.close();
        }
        Files.deleteIfExists(socket);
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
