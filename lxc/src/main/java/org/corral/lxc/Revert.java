package org.corral.lxc;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Undo steps of a multi-step change (Incus's {@code revert}): each step registers its undo right
 * after it succeeds; closing without {@link #success()} runs them newest first, so a failed
 * create leaves no volume and no config behind.
 */
public final class Revert implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Revert.class);

    /** An undo step. */
    @FunctionalInterface
    public interface Step {
        void run() throws Exception;
    }

    private final Deque<Step> steps = new ArrayDeque<>();
    private boolean done;

    public void add(Step undo) {
        steps.push(undo);
    }

    public void success() {
        done = true;
    }

    @Override
    public void close() {
        if (done) {
            return;
        }
        while (!steps.isEmpty()) {
            try {
                steps.pop().run();
            } catch (Exception e) {
                log.warn("Undo step failed: {}", e.getMessage(), e);
            }
        }
    }
}
