package org.corral.backup;

import static java.util.Objects.requireNonNull;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An image in a regular file or a block device, read with positional reads. */
public final class FileImageSource implements ImageSource {
    private final Path path;
    private final FileChannel channel;
    private final long size;

    public FileImageSource(Path path) throws IOException {
        this.path = requireNonNull(path, "path is null");
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        // a block device reports size 0 through stat; its channel size is the device size
        this.size = channel.size();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long position = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) {
                throw new EOFException(path + ": image ended at " + position + " of " + size + " bytes");
            }
            position += n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
