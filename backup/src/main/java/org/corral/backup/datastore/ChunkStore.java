package org.corral.backup.datastore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Content-addressed chunk files under {@code <datastore>/.chunks/<first 4 hex digits>/<64 hex digits>}.
 * A chunk file is written once (temp file, fsync, rename) and never rewritten. Every insert or reuse stamps the
 * file's access time with the current time under its bucket lock; the garbage collector deletes only files whose
 * stamps are older than its cutoff, under the same lock, so a chunk a writer has just counted on cannot vanish.
 */
public final class ChunkStore implements AutoCloseable {
    static final String DIR = ".chunks";
    private static final HexFormat HEX = HexFormat.of();

    private final Path base;
    private final BucketLocks locks;

    ChunkStore(Path datastore) throws IOException {
        this.base = datastore.resolve(DIR);
        Files.createDirectories(base);
        this.locks = BucketLocks.open(base.resolve(".lock"));
    }

    Path base() {
        return base;
    }

    static int bucket(byte[] digest) {
        return ((digest[0] & 0xff) << 8) | (digest[1] & 0xff);
    }

    static String bucketName(int bucket) {
        return String.format("%04x", bucket);
    }

    Path bucketDir(int bucket) {
        return base.resolve(bucketName(bucket));
    }

    Path path(byte[] digest) {
        return bucketDir(bucket(digest)).resolve(HEX.formatHex(digest));
    }

    BucketLocks.Held lockBucket(int bucket) throws IOException {
        return locks.lock(bucket);
    }

    /**
     * Stores a blob under {@code digest} unless that chunk is already there; either way its stamp is renewed.
     *
     * @return true when the chunk was new
     */
    boolean insert(byte[] digest, byte[] blob) throws IOException {
        Path target = path(digest);
        if (Files.exists(target) && touch(digest)) {
            return false;
        }
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(target.getFileName() + ".tmp_" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(blob);
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            out.force(false);
        }
        try (BucketLocks.Held held = lockBucket(bucket(digest))) {
            if (Files.exists(target)) {
                Files.delete(tmp);
                stamp(target);
                return false;
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            stamp(target);
            return true;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /**
     * Renews the stamp of a chunk a writer reuses without having its data.
     *
     * @return false when the chunk is not there (the caller must store it)
     */
    boolean touch(byte[] digest) throws IOException {
        Path target = path(digest);
        try (BucketLocks.Held held = lockBucket(bucket(digest))) {
            stamp(target);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** Stamps without the bucket lock: for the garbage collector's mark phase, which runs before its own sweep. */
    boolean mark(byte[] digest) throws IOException {
        try {
            stamp(path(digest));
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    byte[] read(byte[] digest) throws IOException {
        return Files.readAllBytes(path(digest));
    }

    boolean exists(byte[] digest) {
        return Files.exists(path(digest));
    }

    /** Moves a damaged chunk aside as {@code <digest>.bad} so the next backup that has its data stores it again. */
    void quarantine(byte[] digest) throws IOException {
        Path target = path(digest);
        try (BucketLocks.Held held = lockBucket(bucket(digest))) {
            if (Files.exists(target)) {
                Files.move(target, target.resolveSibling(target.getFileName() + ".bad"), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }

    /** fsyncs a bucket directory so the renames into it survive a power cut. */
    void syncBucket(int bucket) throws IOException {
        Path dir = bucketDir(bucket);
        if (Files.isDirectory(dir)) {
            try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
                channel.force(true);
            }
        }
    }

    static long stampMillis(BasicFileAttributes attributes) {
        return Math.max(attributes.lastAccessTime().toMillis(), attributes.lastModifiedTime().toMillis());
    }

    // an explicit time from the JVM's clock, not the kernel's coarse file clock, and not subject to relatime/noatime
    private static void stamp(Path target) throws IOException {
        Files.getFileAttributeView(target, BasicFileAttributeView.class)
                .setTimes(null, FileTime.fromMillis(System.currentTimeMillis()), null);
    }

    @Override
    public void close() throws IOException {
        locks.close();
    }

}
