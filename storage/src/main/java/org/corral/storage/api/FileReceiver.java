package org.corral.storage.api;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * Streams an upload or download into a new file, hashing on the way: a fixed buffer, never the
 * whole file in memory. The file is created exclusively and without following links.
 */
final class FileReceiver {
    private static final int BUFFER = 256 * 1024;

    private FileReceiver() {}

    /** Bytes written and, with a digest, the checksum in lower-case hex. */
    record Received(long size, Optional<String> checksum) {}

    /** Copies {@code in} to the new file {@code target}; {@code progress} sees the byte count after each chunk. */
    static Received receive(InputStream in, Path target, Optional<MessageDigest> digest, LongConsumer progress) throws IOException {
        byte[] buffer = new byte[BUFFER];
        ByteBuffer wrapped = ByteBuffer.wrap(buffer);
        long total = 0;
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (n == 0) {
                    continue;
                }
                if (digest.isPresent()) {
                    digest.get().update(buffer, 0, n);
                }
                wrapped.clear().limit(n);
                while (wrapped.hasRemaining()) {
                    out.write(wrapped);
                }
                total += n;
                progress.accept(total);
            }
        }
        return new Received(total, digest.map(d -> HexFormat.of().formatHex(d.digest())));
    }
}
