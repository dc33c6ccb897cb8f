package org.corral.backup.datastore;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The lock a backup writer holds for its whole run: {@code <group>/.lock-<token>-<start millis>}, created and
 * fcntl-locked before the writer's {@code .tmp-<time>~<token>} directory exists, so anyone can tell a running
 * writer (lock held; its start time bounds what GC may sweep) from one killed mid-way (lock free).
 *
 * <p>Tokens held by this JVM are kept in a set: probing a lock file this process holds would close a descriptor of
 * it, and POSIX then drops the process's lock.
 */
final class WriterLocks {
    private static final Set<String> HELD = new HashSet<>();

    private WriterLocks() {}

    static String newToken() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
    }

    static Held acquire(Path groupDir, String token, long startMillis) throws IOException {
        synchronized (HELD) {
            HELD.add(token);
        }
        Path file = groupDir.resolve(".lock-" + token + "-" + startMillis);
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            FileLock lock = channel.lock();
            return new Held(token, file, channel, lock);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            Files.deleteIfExists(file);
            release(token);
            throw e;
        }
    }

    private static void release(String token) {
        synchronized (HELD) {
            HELD.remove(token);
        }
    }

    /** The start time of the writer holding {@code token}'s lock, or empty when no live writer holds it. */
    static OptionalLong liveWriterStart(Path groupDir, String token) throws IOException {
        Path file = null;
        long start = 0;
        try (var files = Files.newDirectoryStream(groupDir, ".lock-" + token + "-*")) {
            for (Path candidate : files) {
                file = candidate;
                start = Long.parseLong(candidate.getFileName().toString().substring((".lock-" + token + "-").length()));
            }
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
        if (file == null) {
            return OptionalLong.empty();
        }
        synchronized (HELD) {
            if (HELD.contains(token)) {
                return OptionalLong.of(start);
            }
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return OptionalLong.of(start);
            }
            lock.release();
            return OptionalLong.empty();
        } catch (OverlappingFileLockException e) {
            return OptionalLong.of(start);
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
    }

    static final class Held implements AutoCloseable {
        private final String token;
        private final Path file;
        private final FileChannel channel;
        private final FileLock lock;

        private Held(String token, Path file, FileChannel channel, FileLock lock) {
            this.token = token;
            this.file = file;
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() throws IOException {
            try {
                Files.deleteIfExists(file);
                lock.release();
                channel.close();
            } finally {
                release(token);
            }
        }
    }
}
