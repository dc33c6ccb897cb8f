package org.corral.backup.vzdump;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;

/** Passes bytes on at no more than {@code bytesPerSecond} (0: no limit), counting them. */
final class Throttle extends FilterOutputStream {
    private final long bytesPerSecond;
    private final long started = System.nanoTime();
    private long bytes;

    Throttle(OutputStream out, long bytesPerSecond) {
        super(out);
        this.bytesPerSecond = bytesPerSecond;
    }

    long bytes() {
        return bytes;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int done = 0;
        while (done < len) {
            // pieces of at most a tenth of a second's worth keep the rate smooth
            int piece = bytesPerSecond == 0 ? len - done : (int) Math.min(len - done, Math.max(4096, bytesPerSecond / 10));
            out.write(b, off + done, piece);
            done += piece;
            bytes += piece;
            if (bytesPerSecond > 0) {
                long due = started + bytes * 1_000_000_000L / bytesPerSecond;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    try {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while limiting bandwidth");
                    }
                }
            }
        }
    }
}
