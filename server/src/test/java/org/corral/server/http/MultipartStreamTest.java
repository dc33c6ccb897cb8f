package org.corral.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class MultipartStreamTest {
    private static final String BOUNDARY = "----corralBoundary42";

    private static byte[] body(byte[] file) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(("preamble\r\n--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\niso\r\n--" + BOUNDARY
                + "\r\nContent-Disposition: form-data; name=\"filename\"; filename=\"test.iso\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.write(file);
        out.write(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
        return out.toByteArray();
    }

    /** Hands out bytes in random small pieces, as a network connection does. */
    private static InputStream choppy(byte[] data, long seed) {
        Random random = new Random(seed);
        return new FilterInputStream(new ByteArrayInputStream(data)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.max(1, Math.min(len, random.nextInt(5000))));
            }
        };
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void fileBytesComeThroughExactlyWhateverTheReadSizes(long seed) throws IOException {
        Random random = new Random(seed);
        byte[] file = new byte[200_000 + random.nextInt(100_000)];
        random.nextBytes(file);
        // near-delimiters inside the data must not end the part
        byte[] trap = ("\r\n--" + BOUNDARY.substring(0, BOUNDARY.length() - 1)).getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(trap, 0, file, 1000, trap.length);
        System.arraycopy(trap, 0, file, file.length - trap.length, trap.length);
        MultipartStream parts = new MultipartStream(choppy(body(file), seed), BOUNDARY);
        MultipartStream.Part content = parts.next().orElseThrow();
        assertThat(content.name()).isEqualTo("content");
        assertThat(new String(content.body().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("iso");
        MultipartStream.Part upload = parts.next().orElseThrow();
        assertThat(upload.filename()).contains("test.iso");
        assertThat(upload.body().readAllBytes()).isEqualTo(file);
        assertThat(parts.next()).isEmpty();
    }

    @Test
    void truncatedBodyIsAnError() throws IOException {
        byte[] whole = body(new byte[10_000]);
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 30);
        MultipartStream parts = new MultipartStream(new ByteArrayInputStream(cut), BOUNDARY);
        parts.next();
        MultipartStream.Part upload = parts.next().orElseThrow();
        assertThatThrownBy(() -> upload.body().readAllBytes()).isInstanceOf(IOException.class).hasMessageContaining("cut off");
    }

    @Test
    void boundaryIsReadFromTheContentType() {
        assertThat(MultipartStream.boundary("multipart/form-data; boundary=abc123")).contains("abc123");
        assertThat(MultipartStream.boundary("multipart/form-data; boundary=\"a b\"")).contains("a b");
        assertThat(MultipartStream.boundary("multipart/form-data")).isEmpty();
    }
}
