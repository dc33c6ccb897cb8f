package org.corral.core.console;

import java.io.IOException;

/** Opens a console of a guest; called when the client's websocket arrives. */
@FunctionalInterface
public interface ConsoleBackend {
    ConsoleConnection connect() throws IOException;
}
