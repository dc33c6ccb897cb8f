package org.corral.backup.datastore;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** Runs work items 0..n-1 on a few platform threads; the first failure stops the rest and is rethrown. */
final class Parallel {
    interface Work<S> {
        void run(S state, int item) throws IOException;
    }

    interface StateFactory<S> {
        S create();
    }

    private Parallel() {}

    static <S extends AutoCloseable> void forEach(String name, int items, int threads, StateFactory<S> states, Work<S> work)
            throws IOException {
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        int n = Math.max(1, Math.min(threads, items));
        for (int t = 0; t < n; t++) {
            workers.add(Thread.ofPlatform().name(name + "-" + t).start(() -> {
                try (S state = states.create()) {
                    int item;
                    while (failure.get() == null && (item = next.getAndIncrement()) < items) {
                        work.run(state, item);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        try {
            for (Thread worker : workers) {
                worker.join();
            }
        } catch (InterruptedException e) {
            failure.compareAndSet(null, e);
            Thread.currentThread().interrupt();
            for (Thread worker : workers) {
                worker.interrupt();
            }
        }
        Throwable e = failure.get();
        if (e == null) {
            return;
        }
        switch (e) {
            case IOException io -> throw io;
            case UncheckedIOException io -> throw io.getCause();
            case InterruptedException ie -> throw new InterruptedIOException(name + " interrupted");
            case RuntimeException re -> throw re;
            case Error error -> throw error;
            default -> throw new IOException(name + " failed: " + e.getMessage(), e);
        }
    }
}
