package org.corral.server;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a node's daemon and starts it again, in this process and on the same port, whenever it
 * asks to ({@link CorralDaemon#restartRequested()}): a cluster join replaces the node's config
 * store, and every module is built again on the new one.
 */
public final class DaemonRunner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DaemonRunner.class);
    private static final Duration RETRY = Duration.ofSeconds(5);

    private final CorralDaemon.Options options;
    private final Object lifecycle = new Object();
    private final Thread supervisor;
    private CorralDaemon current; // guarded by lifecycle
    private boolean closed; // guarded by lifecycle

    private DaemonRunner(CorralDaemon.Options options, CorralDaemon first) {
        this.options = options;
        this.current = first;
        this.supervisor = Thread.ofPlatform().name("daemon-runner-" + options.nodeName()).daemon().unstarted(this::supervise);
    }

    public static DaemonRunner start(CorralDaemon.Options options) throws Exception {
        requireNonNull(options, "options is null");
        DaemonRunner runner = new DaemonRunner(options, CorralDaemon.start(options));
        runner.supervisor.start();
        return runner;
    }

    /** The daemon running now; a different object after each restart. */
    public CorralDaemon current() {
        synchronized (lifecycle) {
            return current;
        }
    }

    /** Waits until the daemon running is no longer {@code previous} and returns the new one. */
    public CorralDaemon awaitRestart(CorralDaemon previous, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lifecycle) {
            while (current == previous || current == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("node " + options.nodeName() + " did not restart within " + timeout);
                }
                lifecycle.wait(Math.max(1, left / 1_000_000));
            }
            return current;
        }
    }

    private void supervise() {
        while (true) {
            CorralDaemon running;
            synchronized (lifecycle) {
                running = current;
            }
            try {
                running.restartRequested().get();
            } catch (InterruptedException e) {
                return;
            } catch (ExecutionException e) {
                // never completed exceptionally
            }
            int port = running.port();
            synchronized (lifecycle) {
                if (closed) {
                    return;
                }
                log.info("Restarting node {} on its new config store", options.nodeName());
                running.close();
                current = null;
                CorralDaemon.Options same = new CorralDaemon.Options(options.nodeName(), options.dataDir(), options.bind(), port,
                        options.adminPassword(), options.enforceFirewall());
                while (current == null && !closed) {
                    try {
                        current = CorralDaemon.start(same);
                    } catch (Exception e) {
                        log.error("Node {} failed to restart, trying again in {}", options.nodeName(), RETRY, e);
                        try {
                            lifecycle.wait(RETRY.toMillis());
                        } catch (InterruptedException interrupted) {
                            return;
                        }
                    }
                }
                lifecycle.notifyAll();
            }
        }
    }

    @Override
    public void close() {
        synchronized (lifecycle) {
            closed = true;
            if (current != null) {
                current.close();
            }
            lifecycle.notifyAll();
        }
        supervisor.interrupt();
    }
}
