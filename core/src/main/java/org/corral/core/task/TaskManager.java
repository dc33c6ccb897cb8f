package org.corral.core.task;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.node.Node;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a node's worker tasks the way Proxmox VE does: each task gets a UPID at once, runs on its
 * own virtual thread whether or not anybody waits for it, and writes a log that readers can follow
 * while it runs. Files live under {@code <node.localDir()>/tasks} in Proxmox's layout:
 * {@code <X>/<UPID>} for each log (X: last hex digit of the start time), {@code index} for ended
 * tasks ({@code UPID ENDTIME_HEX STATUS}) and {@code active} for running ones (one UPID a line).
 * Both lists are replaced atomically on every change.
 *
 * <p>On construction, tasks that an earlier run left in {@code active} are recorded as ended, since
 * nothing runs them any more. One manager owns a node's task directory at a time.
 */
public final class TaskManager implements AutoCloseable {
    static final String OK = "OK";
    static final String INTERRUPTED = "interrupted by signal";
    static final String UNEXPECTED = "unexpected status";
    static final String DAEMON_RESTARTED = UNEXPECTED + " - daemon restarted while task was running";

    private static final Logger log = LoggerFactory.getLogger(TaskManager.class);
    private static final Pattern INDEX_LINE = Pattern.compile("(\\S+) ([0-9A-Fa-f]{8}) (\\S.*)");
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(10);
    private static final int MAX_START_ATTEMPTS = 1000;

    private final Node node;
    private final InstantSource clock;
    private final Path tasksDir;
    private final Path indexFile;
    private final Path activeFile;
    private final long pid;
    private final long pstartBase;
    private final AtomicLong sequence;

    private final ReentrantLock stateLock = new ReentrantLock();
    private final Map<Upid, RunningTask> running = new LinkedHashMap<>(); // guarded by stateLock
    // running tasks plus ended ones whose end is not on disk yet: what close and awaitCompletion wait for
    private final Map<Upid, RunningTask> live = new LinkedHashMap<>(); // guarded by stateLock
    private final Map<Upid, Ended> ended = new LinkedHashMap<>(); // guarded by stateLock, in index order
    private final TaskIndex endedIndex = new TaskIndex(); // guarded by stateLock, the ended tasks in listing order
    private final StringBuilder indexText = new StringBuilder(); // guarded by stateLock
    private long indexChanges; // guarded by stateLock
    private long activeChanges; // guarded by stateLock
    private boolean closed; // guarded by stateLock

    // taken before stateLock, never while holding it
    private final ReentrantLock persistLock = new ReentrantLock();
    private long writtenIndexChanges; // guarded by persistLock
    private long writtenActiveChanges; // guarded by persistLock

    public TaskManager(Node node) {
        this(node, InstantSource.system());
    }

    /** A manager whose start and end times come from {@code clock}. */
    public TaskManager(Node node, InstantSource clock) {
        this.node = requireNonNull(node, "node is null");
        this.clock = requireNonNull(clock, "clock is null");
        Upid.checkNodeName(node.name());
        this.tasksDir = node.localDir().resolve("tasks");
        this.indexFile = tasksDir.resolve("index");
        this.activeFile = tasksDir.resolve("active");
        this.pid = ProcessHandle.current().pid();
        this.pstartBase = ProcessStart.ticks();
        try {
            Files.createDirectories(tasksDir);
            recover();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the task state in " + tasksDir, e);
        }
        this.sequence = new AtomicLong(firstFreeSequence());
    }

    /**
     * Starts {@code body} as a task of {@code type} on object {@code id} (may be empty) for
     * {@code user} and answers its UPID at once; the task is on record in {@code active} by then.
     */
    public Upid start(String type, String id, String user, TaskBody body) {
        requireNonNull(type, "type is null");
        requireNonNull(id, "id is null");
        requireNonNull(user, "user is null");
        requireNonNull(body, "body is null");
        checkOpen();
        RunningTask task = newTask(type, id, user);
        Upid upid = task.upid();
        Thread thread = Thread.ofVirtual().name("task " + upid).unstarted(() -> run(task, body));
        task.attach(thread);
        boolean accepted;
        stateLock.lock();
        try {
            accepted = !closed;
            if (accepted) {
                running.put(upid, task);
                live.put(upid, task);
                activeChanges++;
            }
        } finally {
            stateLock.unlock();
        }
        if (!accepted) {
            task.logWriter().abandon();
            deleteQuietly(logFile(upid));
            throw closedError();
        }
        try {
            persist();
        } catch (IOException e) {
            stateLock.lock();
            try {
                running.remove(upid);
                live.remove(upid);
                activeChanges++;
            } finally {
                stateLock.unlock();
            }
            task.logWriter().abandon();
            deleteQuietly(logFile(upid));
            task.done().countDown();
            throw new UncheckedIOException("could not record the start of task " + upid, e);
        }
        thread.start();
        log.debug("Started task {}", upid);
        return upid;
    }

    /**
     * Asks a running task to stop: flags it and interrupts its thread. It ends with
     * {@code interrupted by signal}. Stopping an ended task does nothing.
     */
    public void stop(Upid upid) {
        requireNonNull(upid, "upid is null");
        RunningTask task;
        stateLock.lock();
        try {
            task = running.get(upid);
            if (task == null && !ended.containsKey(upid)) {
                throw noSuchTask(upid);
            }
        } finally {
            stateLock.unlock();
        }
        if (task != null && task.requestStop()) {
            log.info("Stopping task {}", upid);
        }
    }

    /** The task's state as {@code GET /nodes/{node}/tasks/{upid}/status} answers it. */
    public TaskStatus status(Upid upid) {
        requireNonNull(upid, "upid is null");
        stateLock.lock();
        try {
            if (running.containsKey(upid)) {
                return TaskStatus.of(upid, Optional.empty(), Optional.empty());
            }
            Ended end = ended.get(upid);
            if (end == null) {
                throw noSuchTask(upid);
            }
            return TaskStatus.of(upid, Optional.of(end.status()), Optional.of(end.endTime()));
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * Lines {@code start+1 .. start+limit} of the task's log (Proxmox: {@code start} is a 0-based
     * offset, {@code limit} 0 reads to the end) and the number of lines so far.
     */
    public LogPage log(Upid upid, int start, int limit) {
        requireNonNull(upid, "upid is null");
        if (start < 0) {
            throw new ParameterError("start", "value must have a minimum value of 0");
        }
        if (limit < 0) {
            throw new ParameterError("limit", "value must have a minimum value of 0");
        }
        checkKnown(upid);
        try {
            return TaskLog.read(logFile(upid), start, limit);
        } catch (NoSuchFileException e) {
            return new LogPage(List.of(new LogLine(1, "unable to open file - No such file or directory")), 1);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the log of task " + upid, e);
        }
    }

    /** Tasks that pass {@code filter}, newest first, as {@code GET /nodes/{node}/tasks} lists them. */
    public TaskPage list(TaskFilter filter) {
        requireNonNull(filter, "filter is null");
        TaskFilter.Source source = filter.sourceOrDefault();
        List<TaskEntry> runningEntries = new ArrayList<>();
        stateLock.lock();
        try {
            if (source.includesRunning()) {
                running.keySet().forEach(upid -> runningEntries.add(TaskEntry.of(upid, Optional.empty(), Optional.empty())));
            }
            if (!source.includesFinished()) {
                return new TaskIndex().page(filter, runningEntries);
            }
            return endedIndex.page(filter, runningEntries);
        } finally {
            stateLock.unlock();
        }
    }

    /**
     * The same answer as {@link #list}, computed the plain way: every task sorted, then filtered
     * and paged. For tests that check the index against it.
     */
    TaskPage listByFullScan(TaskFilter filter) {
        TaskFilter.Source source = filter.sourceOrDefault();
        List<TaskEntry> candidates = new ArrayList<>();
        stateLock.lock();
        try {
            if (source.includesRunning()) {
                running.keySet().forEach(upid -> candidates.add(TaskEntry.of(upid, Optional.empty(), Optional.empty())));
            }
            if (source.includesFinished()) {
                ended.values().forEach(end -> candidates.add(end.entry()));
            }
        } finally {
            stateLock.unlock();
        }
        candidates.sort(TaskIndex.ORDER);
        int start = filter.startOrDefault();
        int limit = filter.limitOrDefault();
        List<TaskEntry> page = new ArrayList<>();
        int total = 0;
        for (TaskEntry entry : candidates) {
            if (!filter.matches(entry)) {
                continue;
            }
            total++;
            if (total > start && page.size() < limit) {
                page.add(entry);
            }
        }
        return new TaskPage(page, total);
    }

    /**
     * Waits up to {@code timeout} for the task to end and answers its status then, which is still
     * {@code running} if it did not end in time.
     */
    public TaskStatus awaitCompletion(Upid upid, Duration timeout) {
        requireNonNull(upid, "upid is null");
        requireNonNull(timeout, "timeout is null");
        RunningTask task;
        stateLock.lock();
        try {
            task = live.get(upid);
        } finally {
            stateLock.unlock();
        }
        if (task != null) {
            try {
                task.done().await(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return status(upid);
    }

    /**
     * Refuses new tasks and stops the running ones; a task that ignores the interrupt for ten
     * seconds is recorded as interrupted all the same (its thread is left to end on its own).
     */
    @Override
    public void close() {
        List<RunningTask> tasks;
        stateLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            tasks = List.copyOf(live.values());
        } finally {
            stateLock.unlock();
        }
        tasks.forEach(RunningTask::requestStop);
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        boolean interrupted = false;
        for (RunningTask task : tasks) {
            try {
                task.done().await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
                break;
            }
        }
        for (RunningTask task : tasks) {
            if (task.done().getCount() == 0) {
                continue;
            }
            if (task.claimEnd()) {
                log.warn("Task {} did not stop within {}; recording it as interrupted", task.upid(), CLOSE_GRACE);
                end(task, Outcome.interrupted());
            } else if (!interrupted) {
                // its own thread is recording its end right now
                try {
                    task.done().await(CLOSE_GRACE.toNanos(), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        log.debug("Closed the task manager of node {}", node.name());
    }

    private void run(RunningTask task, TaskBody body) {
        Throwable failure = null;
        try {
            // a stop that came before the thread ran
            task.checkStopped();
            body.run(task);
        } catch (Throwable e) {
            failure = e;
        }
        if (!task.claimEnd()) {
            return;
        }
        // an interrupt that raced with the end of the body must not disturb the bookkeeping
        Thread.interrupted();
        Outcome outcome = Outcome.of(task, failure);
        if (failure instanceof Error) {
            log.error("Task {} failed", task.upid(), failure);
        } else if (failure != null && !outcome.exitStatus().equals(INTERRUPTED)) {
            // the task log has the message already; the stack only helps a developer
            log.info("Task {} failed: {}", task.upid(), outcome.exitStatus());
            log.debug("Task {} failed", task.upid(), failure);
        }
        end(task, outcome);
    }

    private void end(RunningTask task, Outcome outcome) {
        Upid upid = task.upid();
        try {
            task.logWriter().finish(outcome.lastLine());
        } catch (IOException e) {
            log.warn("Could not write the end of the log of task {}", upid, e);
        }
        long endTime = clock.instant().getEpochSecond();
        stateLock.lock();
        try {
            running.remove(upid);
            activeChanges++;
            addEnded(new Ended(upid, endTime, outcome.exitStatus()));
        } finally {
            stateLock.unlock();
        }
        try {
            persist();
        } catch (IOException e) {
            log.error("Could not record the end of task {}", upid, e);
        } finally {
            stateLock.lock();
            try {
                live.remove(upid);
            } finally {
                stateLock.unlock();
            }
            task.done().countDown();
        }
        log.debug("Task {} ended: {}", upid, outcome.exitStatus());
    }

    private RunningTask newTask(String type, String id, String user) {
        long startTime = clock.instant().getEpochSecond();
        for (int attempt = 0; attempt < MAX_START_ATTEMPTS; attempt++) {
            Upid upid = new Upid(node.name(), pid, pstartBase + sequence.getAndIncrement(), startTime, type, id, user);
            stateLock.lock();
            try {
                if (running.containsKey(upid) || ended.containsKey(upid)) {
                    continue;
                }
            } finally {
                stateLock.unlock();
            }
            try {
                return new RunningTask(upid, TaskLog.create(logFile(upid)));
            } catch (FileAlreadyExistsException e) {
                log.debug("Task log {} exists already, trying the next UPID", upid);
            } catch (IOException e) {
                throw new UncheckedIOException("could not create the log of task " + upid, e);
            }
        }
        throw new IllegalStateException("found no free UPID in " + MAX_START_ATTEMPTS + " attempts");
    }

    private void recover() throws IOException {
        for (String line : readLines(indexFile)) {
            Matcher matcher = INDEX_LINE.matcher(line);
            Optional<Upid> upid = matcher.matches() ? parseUpid(matcher.group(1)) : Optional.empty();
            if (upid.isEmpty()) {
                log.warn("Ignoring malformed line in {}: {}", indexFile, line);
                continue;
            }
            ended.put(upid.get(), new Ended(upid.get(), Long.parseLong(matcher.group(2), 16), matcher.group(3)));
        }
        List<String> active = readLines(activeFile);
        for (String line : active) {
            Optional<Upid> upid = parseUpid(line.strip().split("\\s+", 2)[0]);
            if (upid.isEmpty()) {
                log.warn("Ignoring malformed line in {}: {}", activeFile, line);
                continue;
            }
            // ended after the index was written but before active was
            if (ended.containsKey(upid.get())) {
                continue;
            }
            Ended end = recoverAbandoned(upid.get());
            ended.put(end.upid(), end);
            log.warn("Task {} was running when the daemon stopped; recorded it as ended: {}", end.upid(), end.status());
        }
        ended.values().forEach(end -> {
            indexText.append(end.indexLine());
            endedIndex.add(end.entry());
        });
        if (!active.isEmpty()) {
            indexChanges++;
            activeChanges++;
            persist();
        }
    }

    /** Takes the exit status from the log if the task wrote its last line, else ends the log with the reason. */
    private Ended recoverAbandoned(Upid upid) throws IOException {
        Path file = logFile(upid);
        Optional<String> written = TaskLog.finalStatus(file);
        if (written.isPresent()) {
            return new Ended(upid, Files.getLastModifiedTime(file).toInstant().getEpochSecond(), written.get());
        }
        TaskLog.appendFinalLine(file, TaskLog.LAST_ERROR + DAEMON_RESTARTED);
        return new Ended(upid, clock.instant().getEpochSecond(), DAEMON_RESTARTED);
    }

    private long firstFreeSequence() {
        stateLock.lock();
        try {
            return ended.keySet().stream()
                    .filter(upid -> upid.pid() == pid && upid.pstart() >= pstartBase)
                    .mapToLong(upid -> upid.pstart() - pstartBase + 1)
                    .max()
                    .orElse(0);
        } finally {
            stateLock.unlock();
        }
    }

    private void addEnded(Ended end) {
        ended.put(end.upid(), end);
        endedIndex.add(end.entry());
        indexText.append(end.indexLine());
        indexChanges++;
    }

    /**
     * Writes {@code index} and {@code active} if they changed. Concurrent callers share one write:
     * whoever holds the lock writes the newest state for all that waited.
     */
    private void persist() throws IOException {
        persistLock.lock();
        try {
            String index = null;
            String active = null;
            long indexVersion;
            long activeVersion;
            stateLock.lock();
            try {
                indexVersion = indexChanges;
                activeVersion = activeChanges;
                if (indexVersion != writtenIndexChanges) {
                    index = indexText.toString();
                }
                if (activeVersion != writtenActiveChanges) {
                    StringBuilder text = new StringBuilder();
                    running.keySet().forEach(upid -> text.append(upid.format()).append('\n'));
                    active = text.toString();
                }
            } finally {
                stateLock.unlock();
            }
            // index first: a task found in both after a crash has ended
            if (index != null) {
                writeAtomically(indexFile, index);
                writtenIndexChanges = indexVersion;
            }
            if (active != null) {
                writeAtomically(activeFile, active);
                writtenActiveChanges = activeVersion;
            }
        } finally {
            persistLock.unlock();
        }
    }

    private void writeAtomically(Path target, String text) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        // java.io, not a FileChannel: an interrupt would close a channel mid-write
        try (FileOutputStream out = new FileOutputStream(temp.toFile())) {
            out.write(text.getBytes(UTF_8));
            out.getFD().sync();
        }
        // no directory fsync: the rename is atomic, and losing the newest rename to a power cut
        // only loses what recovery rebuilds from the task logs
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private List<String> readLines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        return new String(Files.readAllBytes(file), UTF_8).lines().filter(line -> !line.isBlank()).toList();
    }

    private static Optional<Upid> parseUpid(String text) {
        try {
            return Optional.of(Upid.parse(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private Path logFile(Upid upid) {
        return tasksDir.resolve(String.format(Locale.ROOT, "%X", upid.startTime() & 0xF)).resolve(upid.format());
    }

    private void checkKnown(Upid upid) {
        stateLock.lock();
        try {
            if (!running.containsKey(upid) && !ended.containsKey(upid)) {
                throw noSuchTask(upid);
            }
        } finally {
            stateLock.unlock();
        }
    }

    private void checkOpen() {
        stateLock.lock();
        try {
            if (closed) {
                throw closedError();
            }
        } finally {
            stateLock.unlock();
        }
    }

    private IllegalStateException closedError() {
        return new IllegalStateException("the task manager of node " + node.name() + " is closed");
    }

    private static NotFound noSuchTask(Upid upid) {
        return new NotFound("no such task '" + upid + "'");
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.debug("Could not delete {}", file, e);
        }
    }

    /** An ended task as the index records it. */
    private record Ended(Upid upid, long endTime, String status) {
        String indexLine() {
            return String.format(Locale.ROOT, "%s %08X %s", upid, endTime, status) + "\n";
        }

        TaskEntry entry() {
            return TaskEntry.of(upid, Optional.of(status), Optional.of(endTime));
        }
    }

    /** How a task ended: its exit status and the last line of its log. */
    private record Outcome(String exitStatus, String lastLine) {
        static Outcome interrupted() {
            return new Outcome(INTERRUPTED, TaskLog.LAST_ERROR + INTERRUPTED);
        }

        static Outcome of(RunningTask task, Throwable failure) {
            if (task.isStopped() || failure instanceof InterruptedException) {
                return interrupted();
            }
            if (failure != null) {
                String message = firstLine(failure);
                return new Outcome(message, TaskLog.LAST_ERROR + message);
            }
            int warnings = task.warnings();
            if (warnings > 0) {
                return new Outcome("WARNINGS: " + warnings, TaskLog.LAST_WARNINGS + warnings);
            }
            return new Outcome(OK, TaskLog.LAST_OK);
        }

        /** The first non-blank line of the message, which Proxmox keeps as exit status. */
        private static String firstLine(Throwable failure) {
            String message = failure.getMessage();
            if (message != null) {
                for (String line : message.split("\\R")) {
                    String cleaned = line.replaceAll("\\p{Cntrl}", " ").strip();
                    if (!cleaned.isEmpty()) {
                        return cleaned;
                    }
                }
            }
            return failure.getClass().getName();
        }
    }

    /** The start of this process in clock ticks since boot, Proxmox's PSTART. */
    private static final class ProcessStart {
        private ProcessStart() {}

        static long ticks() {
            try {
                String stat = Files.readString(Path.of("/proc/self/stat"));
                // fields after the parenthesised command name start at field 3; starttime is field 22
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return Long.parseLong(fields[19]);
            } catch (IOException | RuntimeException e) {
                return ProcessHandle.current().info().startInstant()
                        .map(instant -> instant.getEpochSecond() & 0xFFF_FFFFL)
                        .orElse(0L);
            }
        }
    }
}
