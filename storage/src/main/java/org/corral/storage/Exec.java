package org.corral.storage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs the host's storage tools (qemu-img, btrfs, lvcreate ...) and turns a failure into a {@link StorageException}. */
public final class Exec {
    private static final Logger log = LoggerFactory.getLogger(Exec.class);
    private static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);
    private static final int MAX_ERROR = 4000;

    private Exec() {}

    /** Runs {@code command} and answers its standard output; a non-zero exit throws with its standard error. */
    public static String run(List<String> command) {
        return run(command, null, null);
    }

    /**
     * Runs {@code command} with {@code input} (may be null) piped to its standard input and its
     * standard output copied to {@code output} (null: collected and answered).
     */
    public static String run(List<String> command, InputStream input, OutputStream output) {
        log.debug("Running {}", command);
        ProcessBuilder builder = new ProcessBuilder(command);
        // fixed locale so that tool output parses the same everywhere
        builder.environment().put("LC_ALL", "C");
        if (input == null) {
            builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new StorageException("could not run " + command.get(0) + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Thread errors = Thread.ofVirtual().start(() -> copyQuietly(process.getErrorStream(), stderr));
        Thread feeder = null;
        if (input != null) {
            feeder = Thread.ofVirtual().start(() -> {
                try (OutputStream stdin = process.getOutputStream()) {
                    input.transferTo(stdin);
                } catch (IOException e) {
                    // the process ended early; its exit status says why
                    log.debug("{} stopped reading its input: {}", command.get(0), e.getMessage());
                }
            });
        }
        ByteArrayOutputStream collected = output == null ? new ByteArrayOutputStream() : null;
        try {
            try (InputStream stdout = process.getInputStream()) {
                stdout.transferTo(output == null ? collected : output);
            }
            if (!process.waitFor(DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new StorageException(command.get(0) + " did not finish within " + DEFAULT_TIMEOUT);
            }
            errors.join();
            if (feeder != null) {
                feeder.join();
            }
        } catch (IOException e) {
            process.destroyForcibly();
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new StorageException(command.get(0) + " was interrupted");
        }
        if (process.exitValue() != 0) {
            String text = stderr.toString(StandardCharsets.UTF_8).strip();
            if (text.isEmpty() && collected != null) {
                text = collected.toString(StandardCharsets.UTF_8).strip();
            }
            if (text.length() > MAX_ERROR) {
                text = text.substring(0, MAX_ERROR) + "...";
            }
            throw new StorageException("command '" + String.join(" ", command) + "' failed: exit code " + process.exitValue()
                    + (text.isEmpty() ? "" : ": " + text));
        }
        return collected == null ? "" : collected.toString(StandardCharsets.UTF_8);
    }

    private static void copyQuietly(InputStream in, OutputStream out) {
        try (in) {
            in.transferTo(out);
        } catch (IOException e) {
            log.debug("Could not read a tool's error output: {}", e.getMessage());
        }
    }
}
