package org.corral.core.process;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.corral.core.task.TaskContext;
import org.corral.core.task.TaskStoppedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one host program to its end: argv without a shell, standard output and error read at
 * the same time on their own threads (so neither pipe fills up and stalls the child), a time
 * limit that holds even when a grandchild keeps the pipes open, and a kill that reaches the
 * whole process tree. The child starts in its own session ({@code setsid}), so that processes
 * it leaves behind, even orphaned ones, are found and killed with it: SIGTERM first, SIGKILL
 * after a short grace. Tied to a task with {@link #task}, stopping the task kills the tree.
 * Every host tool in Corral runs through here; configure it, then {@link #run()} it once.
 */
public final class ProcessRunner {
    private static final Logger log = LoggerFactory.getLogger(ProcessRunner.class);
    /** How long a program may run unless {@link #timeout} says otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);
    /** Captured output beyond this many bytes per stream is dropped (and flagged). */
    public static final int DEFAULT_CAP = 16 << 20;
    /** How long a program has between SIGTERM and SIGKILL. */
    public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(1);
    // the end of each stream is kept apart from the capped capture, for error messages
    private static final int TAIL_BYTES = 8192;
    // a stdin source that blocks is not ours to wait for
    private static final Duration FEEDER_WAIT = Duration.ofSeconds(5);
    private static final Duration REAP_WAIT = Duration.ofSeconds(10);
    private static final List<String> SEARCH_PATH = List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");
    private static final Optional<String> SETSID = SEARCH_PATH.stream().map(d -> Path.of(d, "setsid"))
            .filter(Files::isExecutable).map(Path::toString).findFirst();

    private final List<String> command;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private Duration timeout = DEFAULT_TIMEOUT;
    private Duration killGrace = DEFAULT_KILL_GRACE;
    private int cap = DEFAULT_CAP;
    private Path directory;
    private byte[] stdinBytes;
    private InputStream stdinStream;
    private OutputStream stdoutSink;
    private Consumer<String> stdoutLines;
    private TaskContext task;

    private ProcessRunner(List<String> command) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("command is empty");
        }
        this.command = List.copyOf(command);
        // fixed locale so that tool output parses the same everywhere
        environment.put("LC_ALL", "C");
    }

    public static ProcessRunner of(String... command) {
        return new ProcessRunner(List.of(command));
    }

    public static ProcessRunner of(List<String> command) {
        return new ProcessRunner(command);
    }

    public ProcessRunner timeout(Duration value) {
        this.timeout = requireNonNull(value, "value is null");
        return this;
    }

    /** Time between SIGTERM and SIGKILL when the tree is killed; zero sends SIGKILL at once. */
    public ProcessRunner killGrace(Duration value) {
        this.killGrace = requireNonNull(value, "value is null");
        return this;
    }

    /** Bytes of standard output and of standard error kept in the result. */
    public ProcessRunner cap(int bytes) {
        this.cap = bytes;
        return this;
    }

    public ProcessRunner directory(Path dir) {
        this.directory = requireNonNull(dir, "dir is null");
        return this;
    }

    /** Adds to (or overrides in) the daemon's environment; {@code LC_ALL=C} is set unless overridden. */
    public ProcessRunner env(String name, String value) {
        environment.put(requireNonNull(name, "name is null"), requireNonNull(value, "value is null"));
        return this;
    }

    /** Feeds {@code bytes} to the program's standard input, then closes it; without stdin it reads /dev/null. */
    public ProcessRunner stdin(byte[] bytes) {
        this.stdinBytes = requireNonNull(bytes, "bytes is null").clone();
        this.stdinStream = null;
        return this;
    }

    /** Copies {@code in} (left open, it is the caller's) to the program's standard input, then closes that. */
    public ProcessRunner stdin(InputStream in) {
        this.stdinStream = requireNonNull(in, "in is null");
        this.stdinBytes = null;
        return this;
    }

    /** Streams standard output to {@code out} (left open) instead of capturing it; a write error kills the program. */
    public ProcessRunner stdout(OutputStream out) {
        this.stdoutSink = requireNonNull(out, "out is null");
        this.stdoutLines = null;
        return this;
    }

    /** Hands each line of standard output ({@code \n} or {@code \r} ends one) to {@code lines} as it comes, instead of capturing it. */
    public ProcessRunner stdoutLines(Consumer<String> lines) {
        this.stdoutLines = requireNonNull(lines, "lines is null");
        this.stdoutSink = null;
        return this;
    }

    /** Ties the program to {@code ctx}: stopping the task kills the program's tree, and {@link #run()} throws {@link TaskStoppedException}. */
    public ProcessRunner task(TaskContext ctx) {
        this.task = requireNonNull(ctx, "ctx is null");
        return this;
    }

    public List<String> command() {
        return command;
    }

    /** Runs the program and answers its standard output; a failure throws {@link ProcessException} with its error text. */
    public String output() {
        return run().check().stdout();
    }

    /**
     * Runs the program to its end or its time limit and answers what it left, whatever its exit
     * code. Throws {@link ProcessException} when it cannot start or the calling thread is
     * interrupted (the tree is killed then), {@link TaskStoppedException} when its task was
     * stopped, and UncheckedIOException when the {@link #stdout(OutputStream)} target failed.
     */
    public ProcessResult run() {
        if (task != null) {
            task.checkStopped();
        }
        List<String> argv = new ArrayList<>();
        // its own session, so that every process it starts can be found and killed with it
        SETSID.ifPresent(setsid -> argv.addAll(List.of(setsid, "--wait")));
        argv.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(argv);
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        builder.environment().putAll(environment);
        if (stdinBytes == null && stdinStream == null) {
            builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        Process process;
        try {
            checkExecutable(builder.environment().get("PATH"));
            process = builder.start();
        } catch (IOException e) {
            throw new ProcessException("could not run " + command.getFirst() + ": " + e.getMessage(), e);
        }
        log.debug("Started {} as pid {}", command, process.pid());
        Tree tree = new Tree(process, SETSID.isPresent(), killGrace);
        Drain out = new Drain(process.getInputStream(), cap, stdoutSink, stdoutLines, tree);
        Drain err = new Drain(process.getErrorStream(), cap, null, null, tree);
        Thread outThread = Thread.ofVirtual().name("stdout of " + process.pid()).start(out);
        Thread errThread = Thread.ofVirtual().name("stderr of " + process.pid()).start(err);
        Thread feeder = stdinBytes == null && stdinStream == null ? null : Thread.ofVirtual().start(feed(process));
        TaskContext.StopHook hook = task == null ? () -> { } : task.onStop(() -> Thread.ofVirtual().start(tree::kill));
        boolean timedOut = false;
        boolean interrupted = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                timedOut = true;
            } else if (!joinUntil(deadline, outThread, errThread) || !tree.awaitSessionEnd(deadline)) {
                // it exited, but something it started still runs (and may hold its output open: the JDK
                // closes our end of the pipes when the child exits unless a read is under way, so
                // end-of-file alone can't tell)
                timedOut = true;
            }
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            hook.close();
        }
        if (timedOut || interrupted) {
            log.debug("Killing {} (pid {}): {}", command.getFirst(), process.pid(), interrupted ? "interrupted" : "timed out");
            interrupted |= tree.kill();
        }
        // the pipes close once the tree is gone; a holder outside it must not keep us forever
        interrupted |= joinQuietly(outThread, REAP_WAIT);
        interrupted |= joinQuietly(errThread, REAP_WAIT);
        if (feeder != null) {
            interrupted |= joinQuietly(feeder, FEEDER_WAIT);
        }
        int exitCode = exitCode(process);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (task != null && task.isStopped()) {
            throw new TaskStoppedException();
        }
        if (interrupted) {
            throw new ProcessException(command.getFirst() + " was interrupted", null);
        }
        if (out.sinkFailure != null) {
            throw new UncheckedIOException("could not pass on the output of " + command.getFirst(), out.sinkFailure);
        }
        String errText = err.tail();
        ProcessResult result = new ProcessResult(command, exitCode, out.captured(), err.captured(), out.truncated || err.truncated,
                timedOut, timeout, errText.isBlank() ? out.tail() : errText);
        if (!result.ok()) {
            log.debug("{}", result.describeFailure());
        }
        return result;
    }

    /** Fails as starting would without setsid in front: setsid only reports a missing program as exit code 127. */
    private void checkExecutable(String path) throws IOException {
        String program = command.getFirst();
        if (program.contains("/")) {
            if (!Files.isExecutable(directory == null || program.startsWith("/") ? Path.of(program) : directory.resolve(program))) {
                throw new IOException("no such executable file");
            }
            return;
        }
        if (path == null || Arrays.stream(path.split(":")).filter(d -> !d.isEmpty())
                .noneMatch(d -> Files.isExecutable(Path.of(d, program)))) {
            throw new IOException("not found in PATH");
        }
    }

    private Runnable feed(Process process) {
        byte[] bytes = stdinBytes;
        InputStream source = stdinStream;
        return () -> {
            try (OutputStream sink = process.getOutputStream()) {
                if (bytes != null) {
                    sink.write(bytes);
                } else {
                    source.transferTo(sink);
                }
            } catch (IOException e) {
                // the program closed its input early; its exit code tells why
                log.debug("{} stopped reading its input: {}", command.getFirst(), e.getMessage());
            }
        };
    }

    private static int exitCode(Process process) {
        boolean interrupted = false;
        while (true) {
            try {
                int code = process.waitFor();
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                return code;
            } catch (InterruptedException e) {
                // the tree is dead by now; only the reaping is left
                interrupted = true;
            }
        }
    }

    /** Waits for every thread until {@code deadline} (System.nanoTime); false if one still runs then. */
    private static boolean joinUntil(long deadline, Thread... threads) throws InterruptedException {
        for (Thread thread : threads) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !thread.join(Duration.ofNanos(left))) {
                return false;
            }
        }
        return true;
    }

    /** Joins for up to {@code wait}, ignoring interrupts; answers whether one came (to be restored). */
    private static boolean joinQuietly(Thread thread, Duration wait) {
        boolean interrupted = false;
        long deadline = System.nanoTime() + wait.toNanos();
        while (thread.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                log.debug("{} still runs; leaving it", thread.getName());
                break;
            }
            try {
                thread.join(Duration.ofNanos(left));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        return interrupted;
    }

    /** Whether a program is on this host (an absolute path, or in the standard directories). */
    public static boolean available(String program) {
        if (program.startsWith("/")) {
            return Files.isExecutable(Path.of(program));
        }
        return SEARCH_PATH.stream().anyMatch(d -> Files.isExecutable(Path.of(d, program)));
    }

    /** The child and everything it started: its descendants and, when it leads a session, every member of that session. */
    record Tree(Process process, boolean session, Duration grace) {

        /** SIGTERM to the tree, SIGKILL to what is left after the grace; answers whether the thread was interrupted meanwhile. */
        boolean kill() {
            Set<ProcessHandle> first = Set.of();
            boolean interrupted = false;
            if (grace.isPositive()) {
                first = members();
                first.forEach(ProcessHandle::destroy);
                interrupted = awaitGone(first, grace);
            }
            Set<ProcessHandle> rest = members();
            first.stream().filter(Tree::running).forEach(rest::add);
            if (!rest.isEmpty()) {
                log.debug("Killing {} processes of pid {} that outlived SIGTERM", rest.size(), process.pid());
                rest.forEach(ProcessHandle::destroyForcibly);
                interrupted |= awaitGone(rest, REAP_WAIT);
            }
            return interrupted;
        }

        Set<ProcessHandle> members() {
            Set<ProcessHandle> members = new LinkedHashSet<>();
            // descendants first: once the child is gone its orphans no longer show as its descendants
            process.descendants().forEach(members::add);
            sessionMembers().forEach(members::add);
            if (process.isAlive()) {
                members.add(process.toHandle());
            }
            return members;
        }

        /** The processes of the child's session, when it leads one. */
        private List<ProcessHandle> sessionMembers() {
            // once the child is gone and reaped its number is free: a new process may hold it and lead
            // a session of its own, which is not ours to kill (orphans of ours keep the number taken)
            boolean numberReused = !process.isAlive() && ProcessHandle.of(process.pid()).isPresent();
            if (!session || numberReused) {
                return List.of();
            }
            long sid = process.pid();
            return ProcessHandle.allProcesses().filter(p -> p.pid() != ProcessHandle.current().pid() && sessionOf(p.pid()) == sid)
                    .toList();
        }

        /** After the child exited: waits until nothing of its session runs; false when the deadline came first. */
        boolean awaitSessionEnd(long deadline) throws InterruptedException {
            while (sessionMembers().stream().anyMatch(Tree::running)) {
                if (System.nanoTime() - deadline >= 0) {
                    return false;
                }
                Thread.sleep(10);
            }
            return true;
        }

        private static boolean awaitGone(Set<ProcessHandle> processes, Duration wait) {
            boolean interrupted = false;
            long deadline = System.nanoTime() + wait.toNanos();
            while (processes.stream().anyMatch(Tree::running) && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            return interrupted;
        }

        /** Alive and not a zombie: a dead orphan waits for init to reap it, which is not ours to wait for. */
        static boolean running(ProcessHandle process) {
            return process.isAlive() && stat(process.pid()).filter(fields -> !fields[0].equals("Z")).isPresent();
        }

        /** The session id from /proc/PID/stat, -1 when the process is gone. */
        static long sessionOf(long pid) {
            return stat(pid).map(fields -> Long.parseLong(fields[3])).orElse(-1L);
        }

        /** The fields of /proc/PID/stat after "pid (comm) ": state ppid pgrp session ... */
        private static Optional<String[]> stat(long pid) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
                return Optional.of(stat.substring(stat.lastIndexOf(')') + 2).split(" ", 5));
            } catch (IOException | RuntimeException e) {
                return Optional.empty();
            }
        }
    }

    /** Reads one stream to its end: captured up to a cap, or passed on; its last bytes are kept for error messages. */
    private static final class Drain implements Runnable {
        private final InputStream in;
        private final int cap;
        private final OutputStream sink;
        private final Consumer<String> lines;
        private final Tree tree;
        private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private final byte[] tail = new byte[TAIL_BYTES];
        private long total;
        private volatile boolean truncated;
        private volatile IOException sinkFailure;

        Drain(InputStream in, int cap, OutputStream sink, Consumer<String> lines, Tree tree) {
            this.in = in;
            this.cap = cap;
            this.sink = sink;
            this.lines = lines;
            this.tree = tree;
        }

        @Override
        public void run() {
            byte[] buffer = new byte[65536];
            try (in) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    keepTail(buffer, n);
                    if (sinkFailure != null) {
                        continue;
                    }
                    if (sink != null) {
                        try {
                            sink.write(buffer, 0, n);
                        } catch (IOException e) {
                            sinkFailure = e;
                            // nobody takes its output any more: a program blocked on a full pipe must not linger
                            Thread.ofVirtual().start(tree::kill);
                        }
                    } else if (lines != null) {
                        split(buffer, n);
                    } else {
                        capture(buffer, n);
                    }
                }
                if (lines != null && line.size() > 0) {
                    lines.accept(line.toString(UTF_8));
                }
            } catch (IOException e) {
                // the stream ends when the program does
            }
        }

        private void capture(byte[] buffer, int n) {
            int room = cap - captured.size();
            if (room > 0) {
                captured.write(buffer, 0, Math.min(room, n));
            }
            if (n > room) {
                truncated = true;
            }
        }

        private void split(byte[] buffer, int n) {
            for (int i = 0; i < n; i++) {
                byte b = buffer[i];
                if (b == '\n' || b == '\r') {
                    if (line.size() > 0) {
                        lines.accept(line.toString(UTF_8));
                        line.reset();
                    }
                } else if (line.size() < cap) {
                    line.write(b);
                }
            }
        }

        private synchronized void keepTail(byte[] buffer, int n) {
            int start = Math.max(0, n - TAIL_BYTES);
            total += start;
            for (int i = start; i < n; i++) {
                tail[(int) (total++ % TAIL_BYTES)] = buffer[i];
            }
        }

        synchronized String tail() {
            int size = (int) Math.min(total, TAIL_BYTES);
            byte[] ordered = new byte[size];
            for (int i = 0; i < size; i++) {
                ordered[i] = tail[(int) ((total - size + i) % TAIL_BYTES)];
            }
            String text = new String(ordered, UTF_8);
            // a tail that starts mid-line starts after that line
            return total > TAIL_BYTES && text.indexOf('\n') >= 0 ? text.substring(text.indexOf('\n') + 1) : text;
        }

        String captured() {
            return captured.toString(UTF_8);
        }
    }
}
