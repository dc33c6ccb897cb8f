package org.corral.backup;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A disk image to back up: a file, a block device, or later a QEMU NBD export of a running guest's disk.
 * Reads may come from several threads at once, each for its own range.
 */
public interface ImageSource extends AutoCloseable {
    /** Size of the image in bytes. */
    long size() throws IOException;

    /** Fills {@code dst} from its position to its limit with the bytes at {@code offset}; the range lies inside the image. */
    void read(long offset, ByteBuffer dst) throws IOException;

    @Override
    void close() throws IOException;
}
