package org.corral.core.api;

import static java.util.Objects.requireNonNull;

import java.io.OutputStream;

/**
 * An answer that is a byte stream rather than JSON (a volume export). The writer is called once
 * with the connection's output stream and writes everything straight into it.
 */
public record ApiStream(String contentType, Writer writer) {
    public ApiStream {
        requireNonNull(contentType, "contentType is null");
        requireNonNull(writer, "writer is null");
    }

    /** Writes the answer's bytes. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws Exception;
    }
}
