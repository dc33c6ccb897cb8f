package org.corral.qemu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs host commands ({@code ip}, {@code qemu-img}, {@code xorriso}) and fails with their error output. */
public final class Exec {
    private final Duration timeout;

    public Exec(Duration timeout) {
        this.timeout = timeout;
    }

    public static Exec standard() {
        return new Exec(Duration.ofMinutes(30));
    }

    /** Runs {@code command} and answers its standard output; a non-zero exit throws with standard error. */
    public String run(List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("unable to run " + command.get(0) + ": " + e.getMessage(), e);
        }
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()),
                r -> Thread.ofVirtual().start(r));
        String out = read(process.getInputStream());
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new CommandFailed(command, -1, "timeout after " + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CommandFailed(command, -1, "interrupted");
        }
        if (process.exitValue() != 0) {
            throw new CommandFailed(command, process.exitValue(), err.join().strip());
        }
        return out;
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** A command exited with an error. */
    public static final class CommandFailed extends RuntimeException {
        private final int exitCode;

        public CommandFailed(List<String> command, int exitCode, String stderr) {
            super("command '" + String.join(" ", command) + "' failed: " + (exitCode >= 0 ? "exit code " + exitCode : "")
                    + (stderr.isEmpty() ? "" : (exitCode >= 0 ? ": " : "") + stderr));
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }
}
