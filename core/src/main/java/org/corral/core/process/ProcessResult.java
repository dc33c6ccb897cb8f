package org.corral.core.process;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a finished program left: its exit code, its captured output (empty when it was streamed
 * elsewhere), whether output was cut at the cap and whether it was killed at its time limit.
 * {@code errorTail} is the end of its standard error, else of its standard output: what
 * {@link #describeFailure()} quotes.
 */
public record ProcessResult(List<String> command, int exitCode, String stdout, String stderr, boolean truncated, boolean timedOut,
        Duration timeout, String errorTail) {
    /** Lines of the child's own error text a failure message quotes. */
    static final int ERROR_LINES = 3;

    public ProcessResult {
        command = List.copyOf(command);
        requireNonNull(stdout, "stdout is null");
        requireNonNull(stderr, "stderr is null");
        requireNonNull(timeout, "timeout is null");
        requireNonNull(errorTail, "errorTail is null");
    }

    /** Exited 0 within its time limit. */
    public boolean ok() {
        return exitCode == 0 && !timedOut;
    }

    /** This result if it is {@link #ok()}; else throws {@link ProcessException} with the program's own error text. */
    public ProcessResult check() {
        if (!ok()) {
            throw new ProcessException(this);
        }
        return this;
    }

    /** The program's file name, as messages name it. */
    public String program() {
        return Path.of(command.getFirst()).getFileName().toString();
    }

    /**
     * One line: {@code tar failed (exit code 2): tar: ./dev/null: Cannot mknod: Operation not permitted; ...}
     * with the last lines of the child's error text, or {@code ... timed out after 60 s}.
     */
    public String describeFailure() {
        String what = timedOut ? program() + " timed out after " + timeout.toSeconds() + " s"
                : program() + " failed (exit code " + exitCode + ")";
        String detail = lastLines(errorTail, ERROR_LINES);
        return detail.isEmpty() ? what : what + ": " + detail;
    }

    /** The last {@code count} non-blank lines of {@code text}, joined with "; ". */
    static String lastLines(String text, int count) {
        List<String> lines = new ArrayList<>();
        for (String line : text.split("[\\r\\n]+")) {
            String cleaned = line.replaceAll("\\p{Cntrl}", " ").strip();
            if (!cleaned.isEmpty()) {
                lines.add(cleaned);
            }
        }
        return String.join("; ", lines.subList(Math.max(0, lines.size() - count), lines.size()));
    }
}
