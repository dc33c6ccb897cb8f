package org.corral.backup.datastore;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.corral.backup.ImageSource;
import org.corral.core.io.FileTrees;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one snapshot. Everything goes into {@code <group>/.tmp-<time>~<token>/}; {@link #finish()} writes the
 * manifest last and renames the directory to {@code <time>}, so a snapshot under its final name is always complete
 * and a killed writer leaves only a temp directory with a free lock, which GC removes.
 */
public final class BackupWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackupWriter.class);
    private static final Pattern ARCHIVE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final HexFormat HEX = HexFormat.of();

    /** A previous snapshot's archive to reuse, with what changed since it (see {@link DirtyMap}). */
    public record IncrementalBase(SnapshotId previous, DirtyMap dirty) {
        public IncrementalBase {
            requireNonNull(previous, "previous is null");
            requireNonNull(dirty, "dirty is null");
        }
    }

    private final Datastore store;
    private final SnapshotId snapshot;
    private final Path finalDir;
    private final Path tmpDir;
    private final WriterLocks.Held lock;
    private final List<Manifest.FileEntry> files = new ArrayList<>();
    private final Set<Integer> newBuckets = ConcurrentHashMap.newKeySet();
    private boolean finished;

    BackupWriter(Datastore store, SnapshotId snapshot) throws IOException {
        this.store = store;
        this.snapshot = snapshot;
        this.finalDir = snapshot.dir(store.path());
        Path groupDir = finalDir.getParent();
        Files.createDirectories(groupDir);
        if (Files.exists(finalDir)) {
            throw new FileAlreadyExistsException("snapshot " + snapshot + " already exists");
        }
        String token = WriterLocks.newToken();
        this.lock = WriterLocks.acquire(groupDir, token, System.currentTimeMillis());
        this.tmpDir = groupDir.resolve(Datastore.TMP_PREFIX + snapshot.timeString() + "~" + token);
        try {
            Files.createDirectory(tmpDir);
        } catch (IOException e) {
            lock.close();
            throw e;
        }
    }

    public SnapshotId snapshot() {
        return snapshot;
    }

    /** Backs up a whole image, reading every chunk. */
    public ImageBackupResult backupImage(String archive, ImageSource source) throws IOException {
        return backupImage(archive, source, null);
    }

    /**
     * Backs up an image. With a base, chunks the dirty map leaves clean are taken from the base snapshot's index of
     * the same archive without reading them; when the base cannot be used (other size, chunk size or key, or not
     * complete) every chunk is read and the result says why.
     */
    public ImageBackupResult backupImage(String archive, ImageSource source, IncrementalBase base) throws IOException {
        checkOpen();
        checkArchiveName(archive);
        long started = System.nanoTime();
        String filename = archive + ".fidx";
        if (files.stream().anyMatch(f -> f.filename().equals(filename))) {
            throw new IllegalArgumentException("archive '" + archive + "' is already in this snapshot");
        }
        long size = source.size();
        int chunkSize = store.options().chunkSize();
        int count = FixedIndex.chunkCount(size, chunkSize);
        FixedIndex previous = null;
        String fullReadReason = "";
        if (base != null) {
            try {
                previous = usableBase(base, filename, size, chunkSize);
            } catch (BaseUnusable e) {
                fullReadReason = e.getMessage();
                log.info("Backup of {} in {} reads everything: {}", archive, snapshot, fullReadReason);
            }
        }
        CryptKey key = store.key();
        byte[][] digests = new byte[count][];
        AtomicLong bytesRead = new AtomicLong();
        AtomicLong bytesStored = new AtomicLong();
        AtomicInteger chunksRead = new AtomicInteger();
        AtomicInteger reused = new AtomicInteger();
        AtomicInteger zeros = new AtomicInteger();
        AtomicInteger fresh = new AtomicInteger();
        byte[] zeroDigest;
        try (ChunkCodec codec = new ChunkCodec(key, false)) {
            zeroDigest = codec.digest(new byte[chunkSize], 0, chunkSize);
        }
        FixedIndex base0 = previous;
        ChunkStore chunks = store.chunks();
        Parallel.forEach("backup-" + archive, count, store.options().threads(), () -> new Worker(key, store.options().compress(), chunkSize),
                (worker, i) -> {
                    long start = (long) i * chunkSize;
                    int len = (int) Math.min(chunkSize, size - start);
                    if (base0 != null && !base0Dirty(base, start, start + len)) {
                        byte[] digest = base0.digest(i);
                        if (chunks.touch(digest)) {
                            digests[i] = digest;
                            reused.incrementAndGet();
                            return;
                        }
                        log.warn("Chunk {} of {} is missing from the datastore: reading it again", HEX.formatHex(digest), archive);
                    }
                    ByteBuffer buffer = ByteBuffer.wrap(worker.buffer, 0, len);
                    source.read(start, buffer);
                    bytesRead.addAndGet(len);
                    chunksRead.incrementAndGet();
                    byte[] digest;
                    boolean zero = len == chunkSize && Arrays.mismatch(worker.buffer, 0, len, worker.zeros, 0, len) == -1;
                    if (zero) {
                        digest = zeroDigest;
                        zeros.incrementAndGet();
                    } else {
                        digest = worker.codec.digest(worker.buffer, 0, len);
                    }
                    digests[i] = digest;
                    if (chunks.exists(digest) && chunks.touch(digest)) {
                        return;
                    }
                    byte[] blob = worker.codec.encode(worker.buffer, 0, len, digest);
                    if (chunks.insert(digest, blob)) {
                        fresh.incrementAndGet();
                        bytesStored.addAndGet(blob.length);
                        newBuckets.add(ChunkStore.bucket(digest));
                    }
                });
        FixedIndex index = new FixedIndex(size, chunkSize, digests);
        index.write(tmpDir.resolve(filename));
        String csum = HEX.formatHex(index.csum());
        files.add(new Manifest.FileEntry(filename, size, csum, key == null ? Manifest.CryptMode.NONE : Manifest.CryptMode.ENCRYPT));
        return new ImageBackupResult(archive, size, count, chunksRead.get(), reused.get(), zeros.get(), fresh.get(), bytesRead.get(),
                bytesStored.get(), csum, fullReadReason, Duration.ofNanos(System.nanoTime() - started));
    }

    private static boolean base0Dirty(IncrementalBase base, long start, long end) {
        return base.dirty().dirty(start, end);
    }

    private FixedIndex usableBase(IncrementalBase base, String filename, long size, int chunkSize) throws BaseUnusable, IOException {
        Path dir = base.previous().dir(store.path());
        if (!Files.exists(dir.resolve(Manifest.FILE))) {
            throw new BaseUnusable("previous snapshot " + base.previous() + " does not exist or is not complete");
        }
        Manifest manifest = Manifest.read(dir);
        String ours = store.key() == null ? "" : store.key().fingerprint();
        if (!manifest.keyFingerprint().orElse("").equals(ours)) {
            throw new BaseUnusable("previous snapshot " + base.previous() + " was written with another encryption key");
        }
        if (manifest.file(filename).isEmpty()) {
            throw new BaseUnusable("previous snapshot " + base.previous() + " has no archive " + filename);
        }
        ChunkIndex index = ChunkIndex.read(dir.resolve(filename));
        if (!(index instanceof FixedIndex fixed)) {
            throw new BaseUnusable("previous archive " + filename + " is not a fixed index");
        }
        if (!HEX.formatHex(fixed.csum()).equals(manifest.file(filename).get().csum())) {
            throw new BaseUnusable("previous archive " + filename + " does not match its manifest");
        }
        if (fixed.size() != size) {
            throw new BaseUnusable("image size changed from " + fixed.size() + " to " + size + " bytes");
        }
        if (fixed.chunkSize() != chunkSize) {
            throw new BaseUnusable("chunk size changed from " + fixed.chunkSize() + " to " + chunkSize);
        }
        return fixed;
    }

    /** What a file archive stored: its size, chunks, how many of them were new, and the bytes they took. */
    public record FileArchiveResult(String archive, long size, int chunks, int newChunks, long bytesStored, String csum) {}

    /**
     * Opens a file archive ({@code <archive>.didx}): the bytes written are cut by {@link FastCdc} into chunks that are
     * stored once in the datastore. Closing the stream writes the index; {@link FileArchive#result()} then tells what
     * was stored. An archive whose stream was {@link FileArchive#abort() aborted} is not part of the snapshot.
     */
    public FileArchive openFileArchive(String archive, FastCdc.Sizes sizes) {
        checkOpen();
        checkArchiveName(archive);
        String filename = archive + ".didx";
        if (files.stream().anyMatch(f -> f.filename().equals(filename))) {
            throw new IllegalArgumentException("archive '" + archive + "' is already in this snapshot");
        }
        return new FileArchive(archive, filename, new FastCdc(sizes));
    }

    /** A file archive being written; see {@link #openFileArchive}. */
    public final class FileArchive extends java.io.OutputStream {
        private final String archive;
        private final String filename;
        private final FastCdc chunker;
        private final ChunkCodec codec = new ChunkCodec(store.key(), store.options().compress());
        private final List<Long> ends = new ArrayList<>();
        private final List<byte[]> digests = new ArrayList<>();
        private byte[] buffer;
        private int filled;
        private long offset;
        private int fresh;
        private long bytesStored;
        private boolean closed;
        private FileArchiveResult result;

        private FileArchive(String archive, String filename, FastCdc chunker) {
            this.archive = archive;
            this.filename = filename;
            this.chunker = chunker;
            this.buffer = new byte[chunker.sizes().max() * 2];
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] data, int off, int len) throws IOException {
            if (closed) {
                throw new IOException("archive " + archive + " is closed");
            }
            while (len > 0) {
                int n = Math.min(len, buffer.length - filled);
                System.arraycopy(data, off, buffer, filled, n);
                filled += n;
                off += n;
                len -= n;
                cutFull();
            }
        }

        /** Emits chunks while a full maximum-sized window is buffered. */
        private void cutFull() throws IOException {
            int start = 0;
            int max = chunker.sizes().max();
            while (filled - start >= max) {
                int cut = chunker.cut(buffer, start, filled - start, false);
                store(start, cut);
                start += cut;
            }
            if (start > 0) {
                System.arraycopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
            }
        }

        private void store(int start, int len) throws IOException {
            byte[] digest = codec.digest(buffer, start, len);
            ChunkStore chunks = store.chunks();
            if (!(chunks.exists(digest) && chunks.touch(digest))) {
                byte[] blob = codec.encode(buffer, start, len, digest);
                if (chunks.insert(digest, blob)) {
                    fresh++;
                    bytesStored += blob.length;
                    newBuckets.add(ChunkStore.bucket(digest));
                }
            }
            offset += len;
            ends.add(offset);
            digests.add(digest);
        }

        /** Cuts the rest, writes the index and adds the archive to the snapshot. */
        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                int start = 0;
                while (filled - start > 0) {
                    int cut = chunker.cut(buffer, start, filled - start, true);
                    store(start, cut);
                    start += cut;
                }
                filled = 0;
                long[] endArray = ends.stream().mapToLong(Long::longValue).toArray();
                DynamicIndex index = new DynamicIndex(endArray, digests.toArray(new byte[0][]));
                checkOpen();
                index.write(tmpDir.resolve(filename));
                String csum = HEX.formatHex(index.csum());
                files.add(new Manifest.FileEntry(filename, index.size(), csum,
                        store.key() == null ? Manifest.CryptMode.NONE : Manifest.CryptMode.ENCRYPT));
                result = new FileArchiveResult(archive, index.size(), index.chunkCount(), fresh, bytesStored, csum);
            } finally {
                codec.close();
                buffer = null;
            }
        }

        /** Drops the archive: nothing of it goes into the snapshot (chunks already stored stay for GC). */
        public void abort() {
            if (!closed) {
                closed = true;
                codec.close();
                buffer = null;
            }
        }

        public FileArchiveResult result() {
            if (result == null) {
                throw new IllegalStateException("archive " + archive + " is not closed");
            }
            return result;
        }
    }

    /** Adds a small file (the guest configuration) as {@code <name>.blob}, encrypted when the datastore handle has a key. */
    public void addBlob(String name, byte[] data) throws IOException {
        checkOpen();
        checkArchiveName(name);
        String filename = name + ".blob";
        byte[] blob;
        try (ChunkCodec codec = new ChunkCodec(store.key(), store.options().compress())) {
            blob = codec.encode(data, 0, data.length, filename.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        Files.write(tmpDir.resolve(filename), blob);
        MessageDigest sha = FixedIndex.sha256();
        files.add(new Manifest.FileEntry(filename, data.length, HEX.formatHex(sha.digest(blob)),
                store.key() == null ? Manifest.CryptMode.NONE : Manifest.CryptMode.ENCRYPT));
    }

    /** Makes the snapshot durable and complete: chunk directories and files synced, manifest written, directory renamed. */
    public SnapshotId finish() throws IOException {
        checkOpen();
        for (int bucket : newBuckets) {
            store.chunks().syncBucket(bucket);
        }
        try (var entries = Files.newDirectoryStream(tmpDir)) {
            for (Path file : entries) {
                try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                    channel.force(true);
                }
            }
        }
        Manifest.create(snapshot, files, store.key()).write(tmpDir);
        try {
            Files.move(tmpDir, finalDir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            throw new FileAlreadyExistsException("snapshot " + snapshot + " already exists");
        }
        Datastore.syncDir(finalDir.getParent());
        finished = true;
        lock.close();
        log.info("Backup snapshot {} complete", snapshot);
        return snapshot;
    }

    /** Abandons an unfinished snapshot: its temp directory is removed now. */
    @Override
    public void close() throws IOException {
        if (finished) {
            return;
        }
        finished = true;
        try {
            FileTrees.deleteTree(tmpDir);
        } finally {
            lock.close();
        }
    }

    private void checkOpen() {
        if (finished) {
            throw new IllegalStateException("backup of " + snapshot + " is already finished or abandoned");
        }
    }

    private static void checkArchiveName(String name) {
        if (!ARCHIVE.matcher(name).matches()) {
            throw new IllegalArgumentException("archive name '" + name + "' is not valid");
        }
    }

    private static final class BaseUnusable extends Exception {
        BaseUnusable(String message) {
            super(message);
        }
    }

    private static final class Worker implements AutoCloseable {
        final ChunkCodec codec;
        final byte[] buffer;
        final byte[] zeros;

        Worker(CryptKey key, boolean compress, int chunkSize) {
            this.codec = new ChunkCodec(key, compress);
            this.buffer = new byte[chunkSize];
            this.zeros = new byte[chunkSize];
        }

        @Override
        public void close() {
            codec.close();
        }
    }
}
