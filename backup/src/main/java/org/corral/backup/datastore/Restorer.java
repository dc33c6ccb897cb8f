package org.corral.backup.datastore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.corral.backup.RestoreSink;

/** Reads archives back out of a snapshot, proving each step: manifest signature, index csum, every chunk digest. */
final class Restorer {
    private static final HexFormat HEX = HexFormat.of();

    private final Datastore store;

    Restorer(Datastore store) {
        this.store = store;
    }

    RestoreResult restoreImage(SnapshotId snapshot, String archive, RestoreSink sink) throws IOException {
        long started = System.nanoTime();
        Manifest manifest = store.manifest(snapshot);
        CryptKey key = checkKey(snapshot, manifest);
        String filename = archive + ".fidx";
        Manifest.FileEntry entry = manifest.file(filename)
                .orElseThrow(() -> new NoSuchFileException("snapshot " + snapshot + " has no image archive '" + archive + "'"));
        ChunkIndex index = ChunkIndex.read(snapshot.dir(store.path()).resolve(filename));
        if (!HEX.formatHex(index.csum()).equals(entry.csum())) {
            throw new IOException("index " + filename + " of " + snapshot + " does not match the checksum in its manifest");
        }
        ChunkStore chunks = store.chunks();
        AtomicInteger zeros = new AtomicInteger();
        AtomicLong bytesRead = new AtomicLong();
        byte[] zeroFull;
        byte[] zeroLast;
        int chunkSize = index instanceof FixedIndex fixed ? fixed.chunkSize() : 0;
        try (ChunkCodec codec = new ChunkCodec(key, false)) {
            zeroFull = chunkSize == 0 ? null : codec.digest(new byte[chunkSize], 0, chunkSize);
            int last = index.chunkCount() == 0 ? 0 : (int) (index.chunkEnd(index.chunkCount() - 1) - index.chunkStart(index.chunkCount() - 1));
            zeroLast = chunkSize == 0 ? null : codec.digest(new byte[last], 0, last);
        }
        sink.begin(index.size());
        Parallel.forEach("restore-" + archive, index.chunkCount(), store.options().threads(), () -> new ChunkCodec(key, false),
                (codec, i) -> {
                    byte[] digest = index.digest(i);
                    long start = index.chunkStart(i);
                    int len = (int) (index.chunkEnd(i) - start);
                    if (chunkSize != 0 && (Arrays.equals(digest, zeroFull) || Arrays.equals(digest, zeroLast))) {
                        sink.writeZeros(start, len);
                        zeros.incrementAndGet();
                        return;
                    }
                    byte[] data = readChunk(chunks, codec, digest, archive, snapshot);
                    if (data.length != len) {
                        throw new IOException("chunk " + HEX.formatHex(digest) + " of " + archive + " holds " + data.length
                                + " bytes, the index says " + len);
                    }
                    bytesRead.addAndGet(len);
                    sink.write(start, ByteBuffer.wrap(data));
                });
        sink.finish();
        return new RestoreResult(archive, index.size(), index.chunkCount(), zeros.get(), bytesRead.get(),
                Duration.ofNanos(System.nanoTime() - started));
    }

    /**
     * The file archive {@code archive} ({@code .didx}) of a snapshot as a stream: its index is checked against the
     * manifest now, each chunk against its digest as it is reached.
     */
    FileStream openFile(SnapshotId snapshot, String archive) throws IOException {
        Manifest manifest = store.manifest(snapshot);
        CryptKey key = checkKey(snapshot, manifest);
        String filename = archive + ".didx";
        Manifest.FileEntry entry = manifest.file(filename)
                .orElseThrow(() -> new NoSuchFileException("snapshot " + snapshot + " has no file archive '" + archive + "'"));
        ChunkIndex index = ChunkIndex.read(snapshot.dir(store.path()).resolve(filename));
        if (!(index instanceof DynamicIndex) || !HEX.formatHex(index.csum()).equals(entry.csum())) {
            throw new IOException("index " + filename + " of " + snapshot + " does not match the checksum in its manifest");
        }
        return new FileStream(snapshot, archive, index, new ChunkCodec(key, false));
    }

    /** A file archive read chunk by chunk. */
    final class FileStream extends java.io.InputStream {
        private final SnapshotId snapshot;
        private final String archive;
        private final ChunkIndex index;
        private final ChunkCodec codec;
        private int next;
        private byte[] chunk = new byte[0];
        private int pos;
        private boolean closed;

        private FileStream(SnapshotId snapshot, String archive, ChunkIndex index, ChunkCodec codec) {
            this.snapshot = snapshot;
            this.archive = archive;
            this.index = index;
            this.codec = codec;
        }

        long size() {
            return index.size();
        }

        private boolean fill() throws IOException {
            if (closed) {
                throw new IOException("archive " + archive + " of " + snapshot + " is closed");
            }
            while (pos == chunk.length) {
                if (next == index.chunkCount()) {
                    return false;
                }
                byte[] digest = index.digest(next);
                byte[] data = readChunk(store.chunks(), codec, digest, archive, snapshot);
                long len = index.chunkEnd(next) - index.chunkStart(next);
                if (data.length != len) {
                    throw new IOException("chunk " + HEX.formatHex(digest) + " of " + archive + " holds " + data.length
                            + " bytes, the index says " + len);
                }
                next++;
                chunk = data;
                pos = 0;
            }
            return true;
        }

        @Override
        public int read() throws IOException {
            return fill() ? chunk[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, chunk.length - pos);
            System.arraycopy(chunk, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                codec.close();
            }
        }
    }

    byte[] readBlob(SnapshotId snapshot, String name) throws IOException {
        Manifest manifest = store.manifest(snapshot);
        String filename = name + ".blob";
        Manifest.FileEntry entry = manifest.file(filename)
                .orElseThrow(() -> new NoSuchFileException("snapshot " + snapshot + " has no blob '" + name + "'"));
        CryptKey key = entry.cryptMode() == Manifest.CryptMode.ENCRYPT ? checkKey(snapshot, manifest) : null;
        byte[] blob = Files.readAllBytes(snapshot.dir(store.path()).resolve(filename));
        MessageDigest sha = FixedIndex.sha256();
        if (!HEX.formatHex(sha.digest(blob)).equals(entry.csum())) {
            throw new IOException("blob " + filename + " of " + snapshot + " does not match the checksum in its manifest");
        }
        try (ChunkCodec codec = new ChunkCodec(key, false)) {
            return codec.decode(blob, filename.getBytes(StandardCharsets.UTF_8));
        } catch (CorruptBlobException e) {
            throw new IOException("blob " + filename + " of " + snapshot + " is corrupt: " + e.getMessage());
        }
    }

    /** The key to read an encrypted snapshot with; fails clearly when it is missing or not the one used. */
    private CryptKey checkKey(SnapshotId snapshot, Manifest manifest) throws IOException {
        if (!manifest.encrypted()) {
            return null;
        }
        String needed = manifest.keyFingerprint().orElseThrow();
        CryptKey key = store.key();
        if (key == null) {
            throw new IOException("snapshot " + snapshot + " is encrypted: restoring it needs the encryption key with fingerprint "
                    + needed + ", and none was given");
        }
        if (!key.fingerprint().equals(needed)) {
            throw new IOException("snapshot " + snapshot + " is encrypted with the key " + needed + ", not with the given key "
                    + key.fingerprint());
        }
        manifest.checkSignature(key);
        return key;
    }

    static byte[] readChunk(ChunkStore chunks, ChunkCodec codec, byte[] digest, String archive, SnapshotId snapshot) throws IOException {
        byte[] blob;
        try {
            blob = chunks.read(digest);
        } catch (NoSuchFileException e) {
            throw new IOException("chunk " + HEX.formatHex(digest) + " of " + archive + " in " + snapshot + " is missing");
        }
        byte[] data;
        try {
            data = codec.decode(blob, digest);
        } catch (CorruptBlobException e) {
            throw new IOException("chunk " + HEX.formatHex(digest) + " of " + archive + " in " + snapshot + " is corrupt: " + e.getMessage());
        }
        if (!Arrays.equals(codec.digest(data, 0, data.length), digest)) {
            throw new IOException("chunk " + HEX.formatHex(digest) + " of " + archive + " in " + snapshot + " does not match its digest");
        }
        return data;
    }

}
