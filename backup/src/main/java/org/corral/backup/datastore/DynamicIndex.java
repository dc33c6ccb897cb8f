package org.corral.backup.datastore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;

/**
 * A content-defined chunk index ({@code .didx}) of a file archive: chunk i ends at {@code ends[i]}. The chunker that
 * fills it (FastCDC) comes with container backups; the format is here so that verify, GC and restore read both kinds.
 */
public final class DynamicIndex implements ChunkIndex {
    static final String MAGIC = "CRLDIDX1";

    private final long[] ends;
    private final byte[][] digests;

    public DynamicIndex(long[] ends, byte[][] digests) {
        if (ends.length != digests.length) {
            throw new IllegalArgumentException(ends.length + " chunk ends for " + digests.length + " digests");
        }
        long previous = 0;
        for (int i = 0; i < ends.length; i++) {
            if (ends[i] <= previous) {
                throw new IllegalArgumentException("chunk " + i + " ends at " + ends[i] + ", not after " + previous);
            }
            previous = ends[i];
        }
        this.ends = ends.clone();
        this.digests = digests.clone();
    }

    static DynamicIndex parse(Path file, byte[] bytes) throws IOException {
        byte[] csum = Arrays.copyOfRange(bytes, 48, 80);
        long entries = bytes.length - ChunkIndex.HEADER;
        if (entries % 40 != 0) {
            throw new IOException(file + ": entries are not a multiple of 40 bytes");
        }
        int count = (int) (entries / 40);
        long[] ends = new long[count];
        byte[][] digests = new byte[count][];
        ByteBuffer in = ByteBuffer.wrap(bytes);
        for (int i = 0; i < count; i++) {
            int at = ChunkIndex.HEADER + i * 40;
            ends[i] = in.getLong(at);
            digests[i] = Arrays.copyOfRange(bytes, at + 8, at + 40);
        }
        DynamicIndex index;
        try {
            index = new DynamicIndex(ends, digests);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        if (index.size() != in.getLong(32)) {
            throw new IOException(file + ": header size does not match the last chunk end");
        }
        ChunkIndex.checkCsum(file, csum, index.csum());
        return index;
    }

    public void write(Path file) throws IOException {
        UUID uuid = UUID.randomUUID();
        byte[] uuidBytes = ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits()).array();
        ChunkIndex.writeAtomically(file, ChunkIndex.header(MAGIC, uuidBytes, Instant.now().getEpochSecond(), size(), 0, csum()),
                entries().flip());
    }

    private ByteBuffer entries() {
        ByteBuffer entries = ByteBuffer.allocate(ends.length * 40);
        for (int i = 0; i < ends.length; i++) {
            entries.putLong(ends[i]).put(digests[i]);
        }
        return entries;
    }

    @Override
    public long size() {
        return ends.length == 0 ? 0 : ends[ends.length - 1];
    }

    @Override
    public int chunkCount() {
        return ends.length;
    }

    @Override
    public byte[] digest(int chunk) {
        return digests[chunk];
    }

    @Override
    public long chunkStart(int chunk) {
        return chunk == 0 ? 0 : ends[chunk - 1];
    }

    @Override
    public long chunkEnd(int chunk) {
        return ends[chunk];
    }

    @Override
    public byte[] csum() {
        MessageDigest sha = FixedIndex.sha256();
        sha.update(entries().array());
        return sha.digest();
    }
}
