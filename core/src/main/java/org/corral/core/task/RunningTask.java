package org.corral.core.task;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A started task: the context its body sees, and the state the manager needs to stop and end it. */
final class RunningTask implements TaskContext {
    private static final Logger logger = LoggerFactory.getLogger(RunningTask.class);
    private final Upid upid;
    private final TaskLog.Writer log;
    private final AtomicInteger warnings = new AtomicInteger();
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean stopRequested;
    private Thread thread; // guarded by this
    private boolean ending; // guarded by this
    private final Set<Runnable> stopActions = new LinkedHashSet<>(); // guarded by this

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

    @Override
    public StopHook onStop(Runnable action) {
        requireNonNull(action, "action is null");
        synchronized (this) {
            if (!stopRequested) {
                stopActions.add(action);
                return () -> {
                    synchronized (this) {
                        stopActions.remove(action);
                    }
                };
            }
        }
        runQuietly(action);
        return () -> { };
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

    /**
     * Flags the task, interrupts its thread and runs its stop actions; false once the task is
     * ending and can no longer be stopped.
     */
    boolean requestStop() {
        List<Runnable> actions;
        synchronized (this) {
            if (ending) {
                return false;
            }
            stopRequested = true;
            if (thread != null) {
                thread.interrupt();
            }
            actions = new ArrayList<>(stopActions);
            stopActions.clear();
        }
        // outside the lock: an action may take a moment (killing a process tree)
        actions.forEach(RunningTask::runQuietly);
        return true;
    }

    private static void runQuietly(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            logger.warn("A stop action failed", e);
        }
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
