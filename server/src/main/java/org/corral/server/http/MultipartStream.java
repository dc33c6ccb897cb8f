package org.corral.server.http;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a multipart/form-data body part by part straight from the connection, so an upload of
 * any size passes through a fixed buffer and is never held whole in memory or spooled twice.
 */
final class MultipartStream {
    private static final int BUFFER = 64 * 1024;
    private static final int MAX_HEADER = 16 * 1024;
    private static final Pattern NAME = Pattern.compile("(?i)\\bname=\"([^\"]*)\"");
    private static final Pattern FILENAME = Pattern.compile("(?i)\\bfilename=\"([^\"]*)\"");

    /** One part: its form field name, its file name if it is a file, and its bytes as a stream. */
    record Part(String name, Optional<String> filename, String contentType, InputStream body) {}

    private final InputStream in;
    private final byte[] delimiter;
    private final byte[] buffer = new byte[BUFFER];
    private int start;
    private int end;
    private boolean finished;
    private PartBody current;

    MultipartStream(InputStream in, String boundary) {
        this.in = requireNonNull(in, "in is null");
        this.delimiter = ("\r\n--" + requireNonNull(boundary, "boundary is null")).getBytes(StandardCharsets.ISO_8859_1);
    }

    static Optional<String> boundary(String contentType) {
        Matcher m = Pattern.compile("(?i)boundary=\"?([^\";]+)\"?").matcher(contentType);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** The next part, or empty after the last one. The previous part's body is skipped if unread. */
    Optional<Part> next() throws IOException {
        if (current == null) {
            // the first delimiter has no leading CRLF: pretend it had one
            skipPreamble();
        } else {
            current.transferTo(OutputStreamNull.INSTANCE);
        }
        if (finished) {
            return Optional.empty();
        }
        String dashes = readBytes(2);
        if (dashes.equals("--")) {
            finished = true;
            return Optional.empty();
        }
        if (!dashes.equals("\r\n")) {
            throw new IOException("malformed multipart body: expected CRLF after the boundary");
        }
        Map<String, String> headers = readHeaders();
        String disposition = headers.getOrDefault("content-disposition", "");
        Matcher name = NAME.matcher(disposition);
        if (!name.find()) {
            throw new IOException("malformed multipart body: a part has no name");
        }
        Matcher filename = FILENAME.matcher(disposition);
        current = new PartBody();
        return Optional.of(new Part(name.group(1), filename.find() ? Optional.of(filename.group(1)) : Optional.empty(),
                headers.getOrDefault("content-type", "application/octet-stream"), current));
    }

    private void skipPreamble() throws IOException {
        byte[] first = java.util.Arrays.copyOfRange(delimiter, 2, delimiter.length);
        while (true) {
            fill(first.length);
            int at = indexOf(first);
            if (at >= 0) {
                start = at + first.length;
                return;
            }
            if (end - start < first.length) {
                throw new IOException("malformed multipart body: no boundary");
            }
            start = end - first.length + 1;
        }
    }

    private Map<String, String> readHeaders() throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int total = 0;
        while (true) {
            int b = readByte();
            if (b < 0 || ++total > MAX_HEADER) {
                throw new IOException("malformed multipart body: part headers too long or cut off");
            }
            if (b == '\n') {
                String text = line.toString(StandardCharsets.UTF_8).stripTrailing();
                line.reset();
                if (text.isEmpty()) {
                    return headers;
                }
                int colon = text.indexOf(':');
                if (colon > 0) {
                    headers.put(text.substring(0, colon).trim().toLowerCase(Locale.ROOT), text.substring(colon + 1).trim());
                }
            } else {
                line.write(b);
            }
        }
    }

    private String readBytes(int n) throws IOException {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int b = readByte();
            if (b < 0) {
                throw new IOException("malformed multipart body: cut off");
            }
            out.append((char) b);
        }
        return out.toString();
    }

    private int readByte() throws IOException {
        fill(1);
        return start < end ? buffer[start++] & 0xff : -1;
    }

    /** Makes at least {@code wanted} bytes available unless the stream ends first. */
    private void fill(int wanted) throws IOException {
        if (end - start >= wanted) {
            return;
        }
        System.arraycopy(buffer, start, buffer, 0, end - start);
        end -= start;
        start = 0;
        while (end < wanted) {
            int n = in.read(buffer, end, buffer.length - end);
            if (n < 0) {
                return;
            }
            end += n;
        }
    }

    private int indexOf(byte[] pattern) {
        outer:
        for (int i = start; i <= end - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (buffer[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** One part's bytes: everything up to the next delimiter. */
    private final class PartBody extends InputStream {
        private boolean done;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] target, int offset, int length) throws IOException {
            if (done) {
                return -1;
            }
            if (length == 0) {
                return 0;
            }
            fill(delimiter.length);
            int at = indexOf(delimiter);
            int available;
            if (at >= 0) {
                available = at - start;
                if (available == 0) {
                    start += delimiter.length;
                    done = true;
                    return -1;
                }
            } else {
                if (end - start < delimiter.length) {
                    throw new IOException("malformed multipart body: cut off inside a part");
                }
                // the tail may be the start of a delimiter
                available = end - start - delimiter.length + 1;
            }
            int n = Math.min(length, available);
            System.arraycopy(buffer, start, target, offset, n);
            start += n;
            return n;
        }
    }

    private static final class OutputStreamNull extends java.io.OutputStream {
        static final OutputStreamNull INSTANCE = new OutputStreamNull();

        @Override
        public void write(int b) {}

        @Override
        public void write(byte[] b, int off, int len) {}
    }
}
