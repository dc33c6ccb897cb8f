package org.corral.server.http;

import static java.util.Objects.requireNonNull;

import io.javalin.websocket.WsContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.corral.core.console.ConsoleConnection;
import org.corral.core.console.ConsoleKind;
import org.corral.core.console.ConsoleProxies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One websocket carrying one guest console. RFB consoles are raw bytes both ways. Terminal
 * consoles speak Proxmox's termproxy protocol: the client first sends {@code USER:TICKET\n} and
 * gets {@code OK}; then {@code 0:LEN:DATA} is input, {@code 1:COLS:ROWS:} a resize and {@code 2}
 * a keep-alive, while the terminal's output goes back as plain binary messages.
 */
final class ConsoleSocket {
    private static final Logger log = LoggerFactory.getLogger(ConsoleSocket.class);

    private final ConsoleProxies.Pending console;
    private final WsContext socket;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private ConsoleConnection connection;
    private boolean authenticated;

    ConsoleSocket(ConsoleProxies.Pending console, WsContext socket) {
        this.console = requireNonNull(console, "console is null");
        this.socket = requireNonNull(socket, "socket is null");
    }

    void opened() throws IOException {
        if (console.kind() == ConsoleKind.RFB) {
            connect();
        }
    }

    void received(byte[] bytes) throws IOException {
        if (console.kind() == ConsoleKind.RFB) {
            connection.input().write(bytes);
            connection.input().flush();
            return;
        }
        pending.write(bytes);
        if (!authenticated) {
            String text = pending.toString(StandardCharsets.UTF_8);
            int newline = text.indexOf('\n');
            if (newline < 0) {
                return;
            }
            String expected = console.user() + ":" + console.ticket();
            if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
                    text.substring(0, newline).getBytes(StandardCharsets.UTF_8))) {
                socket.closeSession();
                return;
            }
            authenticated = true;
            byte[] rest = text.substring(newline + 1).getBytes(StandardCharsets.UTF_8);
            pending.reset();
            pending.write(rest);
            connect();
            socket.send(ByteBuffer.wrap("OK".getBytes(StandardCharsets.UTF_8)));
        }
        parseFrames();
    }

    /** Consumes every complete frame in {@code pending}. */
    private void parseFrames() throws IOException {
        byte[] buffer = pending.toByteArray();
        int at = 0;
        while (at < buffer.length) {
            byte type = buffer[at];
            if (type == '2') {
                at++;
                continue;
            }
            int firstColon = indexOf(buffer, ':', at + 1);
            if (firstColon < 0) {
                break;
            }
            int secondColon = indexOf(buffer, ':', firstColon + 1);
            if (secondColon < 0) {
                break;
            }
            String first = new String(buffer, firstColon + 1, secondColon - firstColon - 1, StandardCharsets.US_ASCII);
            if (type == '0') {
                int length = Integer.parseInt(first);
                if (buffer.length < secondColon + 1 + length) {
                    break;
                }
                // a fresh array: pty4j's stream mishandles writes with an offset
                connection.input().write(java.util.Arrays.copyOfRange(buffer, secondColon + 1, secondColon + 1 + length));
                connection.input().flush();
                at = secondColon + 1 + length;
            } else if (type == '1') {
                int thirdColon = indexOf(buffer, ':', secondColon + 1);
                if (thirdColon < 0) {
                    break;
                }
                int rows = Integer.parseInt(new String(buffer, secondColon + 1, thirdColon - secondColon - 1, StandardCharsets.US_ASCII));
                connection.resize(Integer.parseInt(first), rows);
                at = thirdColon + 1;
            } else {
                throw new IOException("unknown termproxy message type '" + (char) type + "'");
            }
        }
        pending.reset();
        pending.write(buffer, at, buffer.length - at);
    }

    private static int indexOf(byte[] buffer, char c, int from) {
        for (int i = from; i < buffer.length; i++) {
            if (buffer[i] == c) {
                return i;
            }
        }
        return -1;
    }

    private void connect() throws IOException {
        connection = console.backend().connect();
        Thread.ofVirtual().name("console-" + console.port()).start(this::pump);
    }

    /** Guest output to the client until either side closes. */
    private void pump() {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream out = connection.output()) {
            int n;
            while ((n = out.read(buffer)) >= 0) {
                if (n > 0) {
                    socket.send(ByteBuffer.wrap(buffer, 0, n).duplicate());
                    buffer = new byte[16 * 1024];
                }
            }
        } catch (IOException e) {
            log.debug("Console {} closed: {}", console.port(), e.getMessage());
        } finally {
            socket.closeSession();
        }
    }

    void closed() {
        if (connection != null) {
            try {
                connection.close();
            } catch (IOException e) {
                log.debug("Closing console {}: {}", console.port(), e.getMessage());
            }
        }
    }
}
