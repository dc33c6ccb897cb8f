package org.corral.backup.datastore;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;

/** A fixed-chunk index ({@code .fidx}) of a disk image; see {@link ChunkIndex} for the format. */
public final class FixedIndex implements ChunkIndex {
    static final String MAGIC = "CRLFIDX1";

    private final long size;
    private final int chunkSize;
    private final byte[][] digests;

    public FixedIndex(long size, int chunkSize, byte[][] digests) {
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative");
        }
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunk size must be positive");
        }
        if (digests.length != chunkCount(size, chunkSize)) {
            throw new IllegalArgumentException("an image of " + size + " bytes in " + chunkSize + "-byte chunks has "
                    + chunkCount(size, chunkSize) + " chunks, not " + digests.length);
        }
        for (int i = 0; i < digests.length; i++) {
            requireNonNull(digests[i], "digest of chunk " + i + " is null");
        }
        this.size = size;
        this.chunkSize = chunkSize;
        this.digests = digests;
    }

    public static int chunkCount(long size, int chunkSize) {
        long n = (size + chunkSize - 1) / chunkSize;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("image of " + size + " bytes has too many chunks");
        }
        return (int) n;
    }

    static FixedIndex parse(Path file, byte[] bytes) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        long size = in.getLong(32);
        long chunkSize = in.getLong(40);
        byte[] csum = Arrays.copyOfRange(bytes, 48, 80);
        if (size < 0 || chunkSize <= 0 || chunkSize > Integer.MAX_VALUE) {
            throw new IOException(file + ": bad size " + size + " or chunk size " + chunkSize);
        }
        long count = (size + chunkSize - 1) / chunkSize;
        if (bytes.length != ChunkIndex.HEADER + count * 32) {
            throw new IOException(file + ": holds " + bytes.length + " bytes, expected " + (ChunkIndex.HEADER + count * 32));
        }
        byte[][] digests = new byte[(int) count][];
        for (int i = 0; i < count; i++) {
            int at = ChunkIndex.HEADER + i * 32;
            digests[i] = Arrays.copyOfRange(bytes, at, at + 32);
        }
        FixedIndex index = new FixedIndex(size, (int) chunkSize, digests);
        ChunkIndex.checkCsum(file, csum, index.csum());
        return index;
    }

    public void write(Path file) throws IOException {
        UUID uuid = UUID.randomUUID();
        byte[] uuidBytes = ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits()).array();
        ByteBuffer entries = ByteBuffer.allocate(digests.length * 32);
        for (byte[] digest : digests) {
            entries.put(digest);
        }
        ChunkIndex.writeAtomically(file, ChunkIndex.header(MAGIC, uuidBytes, Instant.now().getEpochSecond(), size, chunkSize, csum()),
                entries.flip());
    }

    @Override
    public long size() {
        return size;
    }

    public int chunkSize() {
        return chunkSize;
    }

    @Override
    public int chunkCount() {
        return digests.length;
    }

    @Override
    public byte[] digest(int chunk) {
        return digests[chunk];
    }

    @Override
    public long chunkStart(int chunk) {
        return (long) chunk * chunkSize;
    }

    @Override
    public long chunkEnd(int chunk) {
        return Math.min(size, (long) (chunk + 1) * chunkSize);
    }

    @Override
    public byte[] csum() {
        MessageDigest sha = sha256();
        sha.update(ByteBuffer.allocate(16).putLong(size).putLong(chunkSize).array());
        for (byte[] digest : digests) {
            sha.update(digest);
        }
        return sha.digest();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
