package org.corral.core.task;

/** The work of one task. It runs on its own virtual thread and reports progress through {@code ctx}. */
@FunctionalInterface
public interface TaskBody {
    /**
     * Does the work. Returning ends the task with {@code OK} (or {@code WARNINGS: N}); throwing ends it
     * with the exception's message as exit status.
     */
    void run(TaskContext ctx) throws Exception;
}
