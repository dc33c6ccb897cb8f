package org.corral.qemu.it;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Reads a VM's serial console from its unix socket until a line matches. */
public final class SerialConsole {
    private SerialConsole() {}

    /** The first line within {@code timeout} that matches; throws with what was seen otherwise. */
    public static String awaitLine(Path socket, Predicate<String> match, Duration timeout) throws Exception {
        StringBuilder seen = new StringBuilder();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            CompletableFuture<String> found = CompletableFuture.supplyAsync(() -> {
                ByteBuffer buffer = ByteBuffer.allocate(4096);
                StringBuilder line = new StringBuilder();
                try {
                    while (channel.read(buffer.clear()) >= 0) {
                        buffer.flip();
                        String text = StandardCharsets.UTF_8.decode(buffer).toString();
                        for (char c : text.toCharArray()) {
                            if (c == '\n') {
                                String l = line.toString().strip();
                                synchronized (seen) {
                                    seen.append(l).append('\n');
                                }
                                if (match.test(l)) {
                                    return l;
                                }
                                line.setLength(0);
                            } else if (c != '\r') {
                                line.append(c);
                            }
                        }
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                throw new IllegalStateException("serial console closed");
            }, r -> Thread.ofVirtual().start(r));
            try {
                return found.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                String tail;
                synchronized (seen) {
                    tail = seen.length() > 3000 ? seen.substring(seen.length() - 3000) : seen.toString();
                }
                throw new AssertionError("no matching serial line within " + timeout + "; saw:\n" + tail);
            }
        }
    }
}
