package org.corral.qemu.console;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.corral.core.console.ConsoleBackend;
import org.corral.core.console.ConsoleConnection;

/**
 * A console on one of QEMU's unix sockets: the VNC server (RFB bytes) or a serial port (terminal
 * bytes). {@link #closed()} completes when the connection it made ends, or when it was never used.
 */
public final class SocketConsole implements ConsoleBackend {
    private final Path socket;
    private final CompletableFuture<Void> connected = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    public SocketConsole(Path socket) {
        this.socket = requireNonNull(socket, "socket is null");
    }

    @Override
    public ConsoleConnection connect() throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            channel.close();
            closed.complete(null);
            throw new IOException("unable to connect to " + socket + ": " + e.getMessage(), e);
        }
        connected.complete(null);
        InputStream in = Channels.newInputStream(channel);
        OutputStream out = Channels.newOutputStream(channel);
        return new ConsoleConnection() {
            @Override
            public InputStream output() {
                return in;
            }

            @Override
            public OutputStream input() {
                return out;
            }

            @Override
            public void close() throws IOException {
                try {
                    channel.close();
                } finally {
                    closed.complete(null);
                }
            }
        };
    }

    /** Completes when a client connected. */
    public CompletableFuture<Void> connected() {
        return connected;
    }

    /** Completes when the client's connection ended. */
    public CompletableFuture<Void> closed() {
        return closed;
    }
}
