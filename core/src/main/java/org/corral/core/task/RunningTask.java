package org.corral.core.task;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** A started task: the context its body sees, and the state the manager needs to stop and end it. */
final class RunningTask implements TaskContext {
    private final Upid upid;
    private final TaskLog.Writer log;
    private final AtomicInteger warnings = new AtomicInteger();
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean stopRequested;
    private Thread thread; // guarded by this
    private boolean ending; // guarded by this

    RunningTask(Upid upid, TaskLog.Writer log) {
        this.upid = requireNonNull(upid, "upid is null");
        this.log = requireNonNull(log, "log is null");
    }

    @Override
    public Upid upid() {
        return upid;
    }

    @Override
    public void log(String line) {
        try {
            log.append(line);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the log of task " + upid, e);
        }
    }

    @Override
    public void log(String format, Object... args) {
        log(String.format(Locale.ROOT, format, args));
    }

    @Override
    public void warn(String line) {
        warnings.incrementAndGet();
        log("WARN: " + line);
    }

    @Override
    public void warn(String format, Object... args) {
        warn(String.format(Locale.ROOT, format, args));
    }

    @Override
    public int warnings() {
        return warnings.get();
    }

    @Override
    public boolean isStopped() {
        return stopRequested;
    }

    @Override
    public void checkStopped() {
        if (stopRequested) {
            throw new TaskStoppedException();
        }
    }

    TaskLog.Writer logWriter() {
        return log;
    }

    CountDownLatch done() {
        return done;
    }

    synchronized void attach(Thread thread) {
        this.thread = requireNonNull(thread, "thread is null");
    }

    /** Flags the task and interrupts its thread; false once the task is ending and can no longer be stopped. */
    synchronized boolean requestStop() {
        if (ending) {
            return false;
        }
        stopRequested = true;
        if (thread != null) {
            thread.interrupt();
        }
        return true;
    }

    /** Claims the right to record the task's end; exactly one caller (its thread or close) gets it. */
    synchronized boolean claimEnd() {
        if (ending) {
            return false;
        }
        ending = true;
        return true;
    }
}
