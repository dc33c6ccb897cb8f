package org.corral.backup.vzdump;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.Arrays;

/**
 * A bounded in-memory pipe between two threads that, unlike the JDK's piped streams, does not
 * depend on which threads wrote or read: closing the sink ends the source's stream.
 */
final class BytePipe {
    private static final byte[] END = new byte[0];
    private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(16);
    private volatile boolean readerGone;

    OutputStream sink() {
        return new OutputStream() {
            private boolean closed;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (closed || readerGone) {
                    throw new IOException("pipe closed");
                }
                if (len > 0) {
                    put(Arrays.copyOfRange(b, off, off + len));
                }
            }

            @Override
            public void close() throws IOException {
                if (!closed) {
                    closed = true;
                    put(END);
                }
            }

            private void put(byte[] chunk) throws IOException {
                try {
                    while (!queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
                        if (readerGone) {
                            throw new IOException("pipe reader gone");
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted writing to pipe");
                }
            }
        };
    }

    InputStream source() {
        return new InputStream() {
            private byte[] current;
            private int pos;
            private boolean ended;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                while (!ended && (current == null || pos >= current.length)) {
                    try {
                        current = queue.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted reading from pipe");
                    }
                    pos = 0;
                    if (current == END) {
                        ended = true;
                    }
                }
                if (ended) {
                    return -1;
                }
                int n = Math.min(len, current.length - pos);
                System.arraycopy(current, pos, b, off, n);
                pos += n;
                return n;
            }

            @Override
            public void close() {
                readerGone = true;
                queue.clear();
            }
        };
    }
}
