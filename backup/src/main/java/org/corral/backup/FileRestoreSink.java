package org.corral.backup;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Restores into a regular file (created or truncated, zero ranges left as holes) or onto an existing block
 * device (zero ranges written, since the device may hold old data).
 */
public final class FileRestoreSink implements RestoreSink {
    private static final int ZERO_BLOCK = 1 << 20;

    private final Path path;
    private final boolean regularFile;
    private final FileChannel channel;

    public FileRestoreSink(Path path) throws IOException {
        this.path = requireNonNull(path, "path is null");
        this.regularFile = !Files.exists(path) || Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS);
        this.channel = regularFile
                ? FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)
                : FileChannel.open(path, StandardOpenOption.WRITE);
    }

    @Override
    public void begin(long size) throws IOException {
        if (regularFile) {
            // extend to the full size at once: zero chunks then stay holes
            if (size > 0) {
                channel.write(ByteBuffer.allocate(1), size - 1);
            }
        } else if (channel.size() < size) {
            throw new IOException(path + " holds " + channel.size() + " bytes, the image needs " + size);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        long position = offset;
        while (src.hasRemaining()) {
            position += channel.write(src, position);
        }
    }

    @Override
    public void writeZeros(long offset, long length) throws IOException {
        if (regularFile) {
            return;
        }
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(ZERO_BLOCK, length));
        long done = 0;
        while (done < length) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), length - done));
            write(offset + done, zeros);
            done += zeros.limit();
        }
    }

    @Override
    public void finish() throws IOException {
        channel.force(true);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
