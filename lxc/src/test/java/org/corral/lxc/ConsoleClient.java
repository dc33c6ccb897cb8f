package org.corral.lxc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.corral.core.console.ConsoleConnection;

/** Reads a console's output in the background and waits for text in it, as a user at the terminal would. */
final class ConsoleClient implements AutoCloseable {
    private final ConsoleConnection connection;
    private final StringBuffer seen = new StringBuffer();
    private final AtomicReference<IOException> failure = new AtomicReference<>();
    private final Thread reader;

    ConsoleClient(ConsoleConnection connection) {
        this.connection = connection;
        this.reader = Thread.ofVirtual().start(() -> {
            byte[] buffer = new byte[4096];
            try (InputStream in = connection.output()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    seen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                failure.set(e);
            }
        });
    }

    void type(String text) throws IOException {
        connection.input().write(text.getBytes(StandardCharsets.UTF_8));
        connection.input().flush();
    }

    /** Waits until {@code text} appears after position {@code from}; answers the position after it. */
    int await(String text, int from, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            int at = seen.indexOf(text, from);
            if (at >= 0) {
                return at + text.length();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("console never showed '" + text + "'; it showed:\n" + seen);
    }

    ConsoleConnection connection() {
        return connection;
    }

    String seen() {
        return seen.toString();
    }

    @Override
    public void close() throws IOException {
        connection.close();
        try {
            reader.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
