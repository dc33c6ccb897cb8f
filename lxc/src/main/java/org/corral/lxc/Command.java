package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One external program run to completion with a time limit, its output captured up to a cap.
 * The lxc tools, tar and btrfs all run through here; nothing runs through a shell.
 */
public final class Command {
    /** Output beyond this many bytes per stream is dropped (and flagged). */
    public static final int DEFAULT_CAP = 1 << 20;

    /** What a finished program left. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr, boolean truncated, boolean timedOut) {
        public boolean ok() {
            return exitCode == 0 && !timedOut;
        }

        /** Throws {@link CommandException} with the program's error output unless it exited 0. */
        public Result check() {
            if (!ok()) {
                throw new CommandException(this);
            }
            return this;
        }

        public String describeFailure() {
            String program = Path.of(command.getFirst()).getFileName().toString();
            if (timedOut) {
                return program + " timed out";
            }
            String detail = stderr.isBlank() ? stdout.strip() : stderr.strip();
            String last = detail.lines().reduce((a, b) -> b).orElse("");
            return program + " failed (exit code " + exitCode + ")" + (last.isEmpty() ? "" : ": " + last);
        }
    }

    /** A program that failed; the message has its last error line. */
    public static final class CommandException extends RuntimeException {
        private final transient Result result;

        public CommandException(Result result) {
            super(result.describeFailure());
            this.result = result;
        }

        public Result result() {
            return result;
        }
    }

    private final List<String> command;
    private Duration timeout = Duration.ofMinutes(10);
    private int cap = DEFAULT_CAP;
    private InputStream stdin;
    private Path directory;
    private final Map<String, String> environment = new LinkedHashMap<>();

    private Command(List<String> command) {
        this.command = List.copyOf(command);
    }

    public static Command of(String... command) {
        return new Command(List.of(command));
    }

    public static Command of(List<String> command) {
        return new Command(command);
    }

    public Command timeout(Duration value) {
        this.timeout = requireNonNull(value, "value is null");
        return this;
    }

    public Command cap(int bytes) {
        this.cap = bytes;
        return this;
    }

    /** Feeds {@code in} to the program's standard input (and closes it after). */
    public Command stdin(InputStream in) {
        this.stdin = requireNonNull(in, "in is null");
        return this;
    }

    public Command directory(Path dir) {
        this.directory = requireNonNull(dir, "dir is null");
        return this;
    }

    public Command env(String name, String value) {
        environment.put(name, value);
        return this;
    }

    public List<String> command() {
        return command;
    }

    public Result run() {
        ProcessBuilder builder = new ProcessBuilder(command);
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        builder.environment().putAll(environment);
        if (stdin == null) {
            builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not run " + command.getFirst() + ": " + e.getMessage(), e);
        }
        Capture out = new Capture(process.getInputStream(), cap);
        Capture err = new Capture(process.getErrorStream(), cap);
        Thread outThread = Thread.ofVirtual().start(out);
        Thread errThread = Thread.ofVirtual().start(err);
        Optional<Thread> feeder = Optional.empty();
        if (stdin != null) {
            InputStream source = stdin;
            feeder = Optional.of(Thread.ofVirtual().start(() -> {
                try (OutputStream sink = process.getOutputStream(); source) {
                    source.transferTo(sink);
                } catch (IOException e) {
                    // the program closed its input early; its exit code tells why
                }
            }));
        }
        boolean finished;
        try {
            finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor();
            }
            outThread.join();
            errThread.join();
            if (feeder.isPresent()) {
                feeder.get().join(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command.getFirst(), e);
        }
        return new Result(command, process.exitValue(), out.text(), err.text(), out.truncated || err.truncated, !finished);
    }

    private static final class Capture implements Runnable {
        private final InputStream in;
        private final int cap;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private volatile boolean truncated;

        Capture(InputStream in, int cap) {
            this.in = in;
            this.cap = cap;
        }

        @Override
        public void run() {
            byte[] buffer = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    int room = cap - bytes.size();
                    if (room > 0) {
                        bytes.write(buffer, 0, Math.min(room, n));
                    }
                    if (n > room) {
                        truncated = true;
                    }
                }
            } catch (IOException e) {
                // the stream ends when the program does
            }
        }

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    private static final List<String> SEARCH_PATH = List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");

    /** Whether a program is on this host (an absolute path, or in the standard directories). */
    public static boolean available(String program) {
        if (program.startsWith("/")) {
            return Files.isExecutable(Path.of(program));
        }
        return SEARCH_PATH.stream().anyMatch(d -> Files.isExecutable(Path.of(d, program)));
    }
}
