package org.corral.core.task;

/** What a running task body sees of its task: its UPID, its log and whether it was asked to stop. */
public interface TaskContext {
    Upid upid();

    /** Appends a line to the task log, where readers see it at once; newlines start further lines. */
    void log(String line);

    /** Appends {@link String#format(String, Object...) formatted} text to the task log. */
    void log(String format, Object... args);

    /** Logs {@code WARN: line} and counts it; a task with warnings ends with {@code WARNINGS: N}. */
    void warn(String line);

    /** Logs formatted text as a warning, see {@link #warn(String)}. */
    void warn(String format, Object... args);

    /** Warnings logged so far. */
    int warnings();

    /** Whether someone asked the task to stop; the thread is interrupted as well. */
    boolean isStopped();

    /** Throws {@link TaskStoppedException} once someone asked the task to stop. */
    void checkStopped();

    /**
     * Runs {@code action} when someone asks the task to stop (at once if they did already), on the
     * stopper's thread; closing the answer forgets it. A body's helper threads and child processes
     * do not see the task thread's interrupt, this reaches them. A context that is never stopped
     * keeps this default, which registers nothing.
     */
    default StopHook onStop(Runnable action) {
        return () -> { };
    }

    /** A registered stop action; closing it forgets the action. */
    @FunctionalInterface
    interface StopHook extends AutoCloseable {
        @Override
        void close();
    }
}
