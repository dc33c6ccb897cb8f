package org.corral.backup.datastore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The list of chunks that make up one archive of a snapshot. Two kinds share a 4096-byte header
 * (big-endian: magic 8, uuid 16, ctime 8, size 8, chunk size 8, csum 32, zero padding):
 * <ul>
 *   <li>{@code .fidx}, magic {@code CRLFIDX1}: fixed-size chunks (disk images); entries are 32-byte digests,
 *       chunk i covers {@code [i*chunkSize, min(size, (i+1)*chunkSize))}; csum = SHA-256(size, chunkSize, digests);</li>
 *   <li>{@code .didx}, magic {@code CRLDIDX1}: content-defined chunks (file archives); chunk size 0, entries are
 *       (end offset 8, digest 32); csum = SHA-256(entries).</li>
 * </ul>
 * The csum is also recorded in the snapshot's manifest, which is how a restore proves it has the right index.
 */
public sealed interface ChunkIndex permits FixedIndex, DynamicIndex {
    int HEADER = 4096;

    /** Archive size in bytes. */
    long size();

    int chunkCount();

    byte[] digest(int chunk);

    long chunkStart(int chunk);

    long chunkEnd(int chunk);

    /** SHA-256 over the index entries (see the class comment). */
    byte[] csum();

    static ChunkIndex read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length < HEADER) {
            throw new IOException(file + ": index is truncated (" + bytes.length + " bytes)");
        }
        String magic = new String(bytes, 0, 8, StandardCharsets.US_ASCII);
        return switch (magic) {
            case FixedIndex.MAGIC -> FixedIndex.parse(file, bytes);
            case DynamicIndex.MAGIC -> DynamicIndex.parse(file, bytes);
            default -> throw new IOException(file + ": not a chunk index (magic '" + magic + "')");
        };
    }

    static ByteBuffer header(String magic, byte[] uuid, long ctime, long size, long chunkSize, byte[] csum) {
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        header.put(magic.getBytes(StandardCharsets.US_ASCII)).put(uuid).putLong(ctime).putLong(size).putLong(chunkSize).put(csum);
        return header.clear();
    }

    /** Writes header and entries to a temp file, fsyncs it and renames it into place. */
    static void writeAtomically(Path file, ByteBuffer header, ByteBuffer entries) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (header.hasRemaining()) {
                out.write(header);
            }
            while (entries.hasRemaining()) {
                out.write(entries);
            }
            out.force(false);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static void checkCsum(Path file, byte[] stored, byte[] computed) throws IOException {
        if (!Arrays.equals(stored, computed)) {
            throw new IOException(file + ": index checksum does not match its entries");
        }
    }
}
