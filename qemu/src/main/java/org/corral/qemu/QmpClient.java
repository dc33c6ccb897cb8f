package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.corral.core.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A client for QEMU's QMP monitor and for the QEMU guest agent, on the VM's unix socket. One reader
 * thread routes replies to their callers by {@code id} and events to listeners. The agent speaks
 * the same protocol without greeting; replies without an {@code id} (old agents) go to the oldest
 * waiting call, and the {@code 0xFF} byte that {@code guest-sync-delimited} sends is skipped.
 */
public final class QmpClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QmpClient.class);
    private static final int MAX_MESSAGE = 64 * 1024 * 1024;

    private final String name;
    private final SocketChannel channel;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ReentrantLock stateLock = new ReentrantLock();
    private final Map<String, CompletableFuture<JsonNode>> pending = new LinkedHashMap<>(); // guarded by stateLock
    private final Deque<String> order = new ArrayDeque<>(); // guarded by stateLock
    private final List<Consumer<QmpEvent>> listeners = new CopyOnWriteArrayList<>();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final AtomicLong ids = new AtomicLong();
    private final Thread reader;
    private volatile boolean closing;

    private QmpClient(String name, SocketChannel channel) {
        this.name = requireNonNull(name, "name is null");
        this.channel = requireNonNull(channel, "channel is null");
        this.reader = Thread.ofPlatform().daemon().name("qmp-reader " + name).unstarted(this::readLoop);
    }

    /** Connects to a QMP socket, reads the greeting and leaves capabilities negotiation mode. */
    public static QmpClient connect(Path socket, Duration timeout) {
        QmpClient client = open(socket, "qmp " + socket.getFileName());
        try {
            client.greeting.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            client.execute("qmp_capabilities", Map.of(), timeout);
            return client;
        } catch (TimeoutException e) {
            client.close();
            throw new QmpException.Timeout("no QMP greeting on " + socket + " within " + timeout.toMillis()
                    + " ms (is another client connected?)");
        } catch (ExecutionException e) {
            client.close();
            throw new QmpException("QMP connection to " + socket + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            client.close();
            Thread.currentThread().interrupt();
            throw new QmpException("interrupted while connecting to " + socket);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /**
     * Connects to a guest agent socket and synchronizes with {@code guest-sync-delimited}, which
     * flushes whatever an earlier client left in the agent's pipe.
     */
    public static QmpClient connectAgent(Path socket, Duration timeout) {
        QmpClient client = open(socket, "agent " + socket.getFileName());
        try {
            long token = System.nanoTime() & 0x7fff_ffffL;
            JsonNode answer = client.execute("guest-sync-delimited", Map.of("id", token), timeout);
            if (answer.asLong() != token) {
                throw new QmpException("guest agent answered sync " + answer + " instead of " + token);
            }
            return client;
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    private static QmpClient open(Path socket, String name) {
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new QmpException("unable to connect to " + socket + " - " + e.getMessage(), e);
        }
        QmpClient client = new QmpClient(name, channel);
        client.reader.start();
        return client;
    }

    /** QEMU's greeting ({@code {"QMP": {"version": ...}}}); empty for the agent. */
    public JsonNode greeting() {
        return greeting.getNow(Json.object());
    }

    public JsonNode execute(String command) {
        return execute(command, Map.of(), Duration.ofSeconds(10));
    }

    public JsonNode execute(String command, Map<String, ?> arguments) {
        return execute(command, arguments, Duration.ofSeconds(10));
    }

    /**
     * Runs a command and answers its {@code return} value. Throws {@link QmpException} with QEMU's
     * description when it answers an error, {@link QmpException.Timeout} when it does not answer in time.
     */
    public JsonNode execute(String command, Map<String, ?> arguments, Duration timeout) {
        requireNonNull(command, "command is null");
        String id = "corral-" + ids.incrementAndGet();
        ObjectNode request = Json.object();
        request.put("execute", command);
        if (!arguments.isEmpty()) {
            request.set("arguments", Json.tree(arguments));
        }
        request.put("id", id);
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        stateLock.lock();
        try {
            if (closed.isDone()) {
                throw new QmpException(name + ": connection is closed");
            }
            pending.put(id, reply);
            order.addLast(id);
        } finally {
            stateLock.unlock();
        }
        try {
            write(Json.writeBytes(request));
            JsonNode answer = reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            JsonNode error = answer.get("error");
            if (error != null) {
                throw new QmpException(error.path("class").asString("GenericError"), error.path("desc").asString(error.toString()));
            }
            return answer.path("return");
        } catch (TimeoutException e) {
            throw new QmpException.Timeout(name + ": command '" + command + "' got timeout after " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw new QmpException(name + ": command '" + command + "' failed - " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException(name + ": interrupted while waiting for '" + command + "'");
        } finally {
            stateLock.lock();
            try {
                pending.remove(id);
                order.remove(id);
            } finally {
                stateLock.unlock();
            }
        }
    }

    /** Runs a human monitor (HMP) command through QMP and answers its text output. */
    public String humanCommand(String commandLine, Duration timeout) {
        return execute("human-monitor-command", Map.of("command-line", commandLine), timeout).asString("");
    }

    /** Calls {@code listener} for every event until the returned handle is closed. */
    public AutoCloseable onEvent(Consumer<QmpEvent> listener) {
        listeners.add(requireNonNull(listener, "listener is null"));
        return () -> listeners.remove(listener);
    }

    public boolean isOpen() {
        return !closed.isDone();
    }

    /** Completes when the connection ends, by {@link #close()} or because QEMU went away. */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    private void write(byte[] bytes) {
        writeLock.lock();
        try {
            ByteBuffer buffer = ByteBuffer.allocate(bytes.length + 1);
            buffer.put(bytes).put((byte) '\n').flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            throw new QmpException(name + ": write failed - " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    private void readLoop() {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        int depth = 0;
        boolean inString = false;
        boolean escaped = false;
        Throwable failure = null;
        try {
            while (channel.read(buffer.clear()) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    byte b = buffer.get();
                    if (depth == 0) {
                        // between messages: whitespace, the agent's 0xFF sync byte, or noise
                        if (b == '{') {
                            depth = 1;
                            message.reset();
                            message.write(b);
                        }
                        continue;
                    }
                    message.write(b);
                    if (message.size() > MAX_MESSAGE) {
                        throw new IOException("message larger than " + MAX_MESSAGE + " bytes");
                    }
                    if (inString) {
                        if (escaped) {
                            escaped = false;
                        } else if (b == '\\') {
                            escaped = true;
                        } else if (b == '"') {
                            inString = false;
                        }
                    } else if (b == '"') {
                        inString = true;
                    } else if (b == '{' || b == '[') {
                        depth++;
                    } else if (b == '}' || b == ']') {
                        depth--;
                        if (depth == 0) {
                            dispatch(message.toByteArray());
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            failure = e;
        } finally {
            shutDown(failure);
        }
    }

    private void dispatch(byte[] bytes) {
        JsonNode message;
        try {
            message = Json.read(bytes);
        } catch (RuntimeException e) {
            log.warn("{}: ignoring unparsable message: {}", name, e.getMessage());
            return;
        }
        if (message.has("QMP")) {
            greeting.complete(message.get("QMP"));
            return;
        }
        if (message.has("event")) {
            JsonNode timestamp = message.path("timestamp");
            QmpEvent event = new QmpEvent(message.get("event").asString(), message.path("data"),
                    timestamp.path("seconds").asLong(), timestamp.path("microseconds").asLong());
            for (Consumer<QmpEvent> listener : listeners) {
                try {
                    listener.accept(event);
                } catch (RuntimeException e) {
                    log.warn("{}: event listener failed on {}", name, event.name(), e);
                }
            }
            return;
        }
        if (!message.has("return") && !message.has("error")) {
            log.debug("{}: ignoring message {}", name, message);
            return;
        }
        CompletableFuture<JsonNode> reply;
        stateLock.lock();
        try {
            String id = message.has("id") ? message.get("id").asString() : order.peekFirst();
            reply = id == null ? null : pending.remove(id);
            if (id != null) {
                order.remove(id);
            }
        } finally {
            stateLock.unlock();
        }
        if (reply != null) {
            reply.complete(message);
        } else {
            log.debug("{}: reply for nobody: {}", name, message);
        }
    }

    private void shutDown(Throwable failure) {
        List<CompletableFuture<JsonNode>> waiting;
        stateLock.lock();
        try {
            waiting = List.copyOf(pending.values());
            pending.clear();
            order.clear();
            closed.complete(null);
        } finally {
            stateLock.unlock();
        }
        String reason = closing ? "connection closed" : failure == null ? "QEMU closed the connection"
                : "connection lost - " + failure.getMessage();
        IOException cause = new IOException(reason);
        greeting.completeExceptionally(cause);
        waiting.forEach(f -> f.completeExceptionally(cause));
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("{}: close failed", name, e);
        }
    }

    @Override
    public void close() {
        closing = true;
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("{}: close failed", name, e);
        }
        if (Thread.currentThread() != reader) {
            try {
                reader.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
