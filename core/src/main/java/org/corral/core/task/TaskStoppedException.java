package org.corral.core.task;

/** Thrown by {@link TaskContext#checkStopped()} when the task was asked to stop. */
public final class TaskStoppedException extends RuntimeException {
    public TaskStoppedException() {
        super(TaskManager.INTERRUPTED);
    }
}
