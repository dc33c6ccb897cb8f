package org.corral.core.task;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A task's log file: plain text lines, the last one {@code TASK OK}, {@code TASK WARNINGS: N} or
 * {@code TASK ERROR: MESSAGE} once the task ended, as Proxmox writes them.
 *
 * <p>All I/O goes through {@code java.io} streams, not NIO channels: a stop interrupts the task's
 * thread, and an interrupt closes a {@code FileChannel} under the writer.
 */
final class TaskLog {
    static final String LAST_OK = "TASK OK";
    static final String LAST_WARNINGS = "TASK WARNINGS: ";
    static final String LAST_ERROR = "TASK ERROR: ";

    private static final Pattern FINAL_LINE = Pattern.compile("TASK OK|TASK (WARNINGS: \\d+)|TASK ERROR: (.+)");
    private static final Pattern NEWLINE = Pattern.compile("\r\n|\r|\n");
    // enough to hold the final line of any log, as Proxmox's upid_read_status reads it
    private static final int TAIL_BYTES = 4096;
    private static final String NO_CONTENT = "no content";

    private TaskLog() {}

    /** Creates a new log file, failing with {@link java.nio.file.FileAlreadyExistsException} if it exists. */
    static Writer create(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
        } else {
            Files.createFile(file);
        }
        return new Writer(new FileOutputStream(file.toFile(), true));
    }

    /**
     * Reads lines {@code start+1 .. start+limit} ({@code limit} 0: to the end) and counts all
     * complete lines; a line still being written is left out. An empty log answers one line
     * {@code no content}, as Proxmox does for the ExtJS store.
     */
    static LogPage read(Path file, int start, int limit) throws IOException {
        List<LogLine> lines = new ArrayList<>();
        int count = 0;
        try (InputStream in = new FileInputStream(file.toFile())) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int read;
            while ((read = in.read(buffer)) != -1) {
                for (int i = 0; i < read; i++) {
                    byte b = buffer[i];
                    boolean wanted = count >= start && (limit == 0 || count < (long) start + limit);
                    if (b != '\n') {
                        if (wanted) {
                            line.write(b);
                        }
                        continue;
                    }
                    count++;
                    if (wanted) {
                        lines.add(new LogLine(count, line.toString(UTF_8)));
                    }
                    line.reset();
                }
            }
        }
        if (count == 0) {
            return new LogPage(List.of(new LogLine(1, NO_CONTENT)), 1);
        }
        return new LogPage(lines, count);
    }

    /** The exit status that the last complete line of a log records, if it is a final line. */
    static Optional<String> finalStatus(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            int size = (int) Math.min(length, TAIL_BYTES);
            byte[] tail = new byte[size];
            raf.seek(length - size);
            raf.readFully(tail);
            String text = new String(tail, UTF_8);
            // a line without its newline was cut off mid-write
            if (!text.endsWith("\n")) {
                return Optional.empty();
            }
            text = text.substring(0, text.length() - 1);
            Matcher last = FINAL_LINE.matcher(text.substring(text.lastIndexOf('\n') + 1));
            if (!last.matches()) {
                return Optional.empty();
            }
            if (last.group(1) != null) {
                return Optional.of(last.group(1));
            }
            return Optional.of(last.group(2) != null ? last.group(2) : TaskManager.OK);
        }
    }

    /** Appends a final line to the log of a task that can no longer write it, creating the file if needed. */
    static void appendFinalLine(Path file, String line) throws IOException {
        Files.createDirectories(file.getParent());
        boolean needsNewline = false;
        if (Files.exists(file) && Files.size(file) > 0) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
                raf.seek(raf.length() - 1);
                needsNewline = raf.read() != '\n';
            }
        }
        try (FileOutputStream out = new FileOutputStream(file.toFile(), true)) {
            out.write(((needsNewline ? "\n" : "") + line + "\n").getBytes(UTF_8));
            out.getFD().sync();
        }
    }

    /** Appends lines to an open log; one {@code write} per line so readers never see half of one. */
    static final class Writer {
        private final FileOutputStream out;
        private boolean closed;

        private Writer(FileOutputStream out) {
            this.out = requireNonNull(out, "out is null");
        }

        synchronized void append(String text) throws IOException {
            requireNonNull(text, "text is null");
            if (closed) {
                return;
            }
            // a trailing newline ends the last line, it does not add an empty one
            String body = text.endsWith("\n") ? text.substring(0, text.length() - (text.endsWith("\r\n") ? 2 : 1)) : text;
            for (String line : NEWLINE.split(body, -1)) {
                out.write((line + "\n").getBytes(UTF_8));
            }
        }

        /** Writes the final line and closes; later appends are dropped. The index, synced, keeps the status. */
        synchronized void finish(String lastLine) throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try (out) {
                out.write((lastLine + "\n").getBytes(UTF_8));
            }
        }

        /** Closes without a final line, for a task that never started. */
        synchronized void abandon() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                out.close();
            } catch (IOException e) {
                // nothing was written that could be lost
            }
        }
    }
}
