package org.corral.backup;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a restored image goes: a file, a block device, or later an NBD export feeding a live restore.
 * Writes may come from several threads at once, each for its own range, in any order.
 */
public interface RestoreSink extends AutoCloseable {
    /** Called once before any write with the image size. */
    void begin(long size) throws IOException;

    /** Writes all remaining bytes of {@code src} at {@code offset}. */
    void write(long offset, ByteBuffer src) throws IOException;

    /** Makes {@code length} bytes at {@code offset} read as zeros (a sparse file may skip them). */
    void writeZeros(long offset, long length) throws IOException;

    /** Makes the written data durable. */
    void finish() throws IOException;

    @Override
    void close() throws IOException;
}
