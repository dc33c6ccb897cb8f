package org.corral.backup.datastore;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Exclusive locks on the 65536 chunk buckets of one chunk store, held for microseconds by writers (check, insert,
 * touch) and by the garbage collector's sweep (stat, delete). Across processes each bucket is one byte of
 * {@code .chunks/.lock} under an fcntl lock, released by the kernel if the holder is killed. Inside the JVM a stripe
 * of ReentrantLocks orders threads first, since the JVM refuses overlapping file locks from its own threads.
 *
 * <p>POSIX drops every fcntl lock a process holds on a file when any descriptor of that file is closed, and the JVM
 * refuses a second overlapping lock: both are per-process facts, so one instance per lock file is shared by the JVM
 * through a reference-counted table (the one static here, mirroring a kernel-wide resource).
 */
final class BucketLocks implements AutoCloseable {
    static final int BUCKETS = 1 << 16;
    private static final int STRIPES = 1024;
    private static final Map<Path, BucketLocks> OPEN = new HashMap<>();

    private final Path file;
    private final FileChannel channel;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private int references;

    private BucketLocks(Path file) throws IOException {
        this.file = file;
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    static BucketLocks open(Path file) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        synchronized (OPEN) {
            BucketLocks locks = OPEN.get(key);
            if (locks == null) {
                locks = new BucketLocks(key);
                OPEN.put(key, locks);
            }
            locks.references++;
            return locks;
        }
    }

    /** Holds bucket {@code bucket} until the returned handle is closed. */
    Held lock(int bucket) throws IOException {
        ReentrantLock stripe = stripes[bucket % STRIPES];
        stripe.lock();
        // an interrupt during a blocking lock would close the shared channel and drop every lock: defer it
        boolean interrupted = Thread.interrupted();
        try {
            FileLock lock = channel.lock(bucket, 1, false);
            return new Held(stripe, lock, interrupted);
        } catch (IOException | RuntimeException e) {
            stripe.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (e instanceof java.nio.channels.ClosedByInterruptException) {
                throw new InterruptedIOException("interrupted while locking chunk bucket");
            }
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (OPEN) {
            if (--references == 0) {
                OPEN.remove(file);
                channel.close();
            }
        }
    }

    static final class Held implements AutoCloseable {
        private final ReentrantLock stripe;
        private final FileLock lock;
        private final boolean interrupted;

        private Held(ReentrantLock stripe, FileLock lock, boolean interrupted) {
            this.stripe = stripe;
            this.lock = lock;
            this.interrupted = interrupted;
        }

        @Override
        public void close() throws IOException {
            try {
                lock.release();
            } finally {
                stripe.unlock();
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
