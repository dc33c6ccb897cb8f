package org.corral.core.console;

import java.io.Closeable;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * An open console of a guest: the bytes it prints and the bytes typed into it (a serial port, a
 * container's tty, or a VNC server's RFB stream). The server carries it over a websocket.
 */
public interface ConsoleConnection extends Closeable {
    InputStream output();

    OutputStream input();

    /** A terminal's new size; consoles without one ignore it. */
    default void resize(int columns, int rows) {}
}
