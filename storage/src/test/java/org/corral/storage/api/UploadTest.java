package org.corral.storage.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.corral.core.api.HttpVerb;
import org.corral.core.api.Upload;
import org.corral.core.error.Conflict;
import org.corral.core.error.ParameterError;
import org.corral.storage.Sizes;
import org.corral.storage.StorageException;
import org.corral.storage.TestStorage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /nodes/{node}/storage/{storage}/upload}, through the dispatcher with a streamed file. */
class UploadTest {
    @TempDir
    Path dir;

    private TestStorage storage;
    private Path isoDir;

    @BeforeEach
    void start() {
        storage = new TestStorage(dir);
        storage.service().initialize();
        storage.service().state("local");
        isoDir = storage.node().dataDir().resolve("storage/local/template/iso");
    }

    @AfterEach
    void stop() {
        storage.close();
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static Upload file(String name, byte[] data) {
        return new Upload(name, "application/octet-stream", new ByteArrayInputStream(data));
    }

    @Test
    void uploadWithMatchingChecksumStoresTheNormalisedFile() throws Exception {
        byte[] data = "an iso image".getBytes(StandardCharsets.UTF_8);

        Object upid = storage.upload("local", Map.of("content", "iso", "checksum", sha256(data), "checksum-algorithm", "sha256"),
                file("My Image (1).iso", data));

        assertThat(isoDir.resolve("My_Image__1_.iso")).hasBinaryContent(data);
        assertThat(upid).asString().startsWith("UPID:pve1:").contains(":imgcopy::root@pam:");
        assertThat(storage.await((String) upid).exitstatus()).contains("OK");
        assertThat(storage.log((String) upid)).contains("checksum verified", "file size is: " + data.length);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> isos = (List<Map<String, Object>>) storage.call(HttpVerb.GET, "/nodes/pve1/storage/local/content",
                Map.of("content", "iso"));
        assertThat(isos).extracting(v -> v.get("volid")).containsExactly("local:iso/My_Image__1_.iso");
    }

    @Test
    void wrongChecksumDeletesTheFileAndNamesBothSums() throws Exception {
        byte[] data = "tampered".getBytes(StandardCharsets.UTF_8);
        String wrong = "0".repeat(64);
        String actual = sha256(data);

        assertThatThrownBy(() -> storage.upload("local", Map.of("content", "iso", "checksum", wrong, "checksum-algorithm", "sha256"),
                file("debian.iso", data)))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors())
                        .containsEntry("checksum", "checksum mismatch: got '" + actual + "' != expect '" + wrong + "'"));
        assertThat(isoDir).isEmptyDirectory();
    }

    @Test
    void everyChecksumAlgorithmIsAccepted() throws Exception {
        byte[] data = "x".repeat(1000).getBytes(StandardCharsets.UTF_8);
        Map<String, String> algorithms = Map.of("md5", "MD5", "sha1", "SHA-1", "sha224", "SHA-224", "sha384", "SHA-384", "sha512", "SHA-512");
        for (var entry : algorithms.entrySet()) {
            String sum = HexFormat.of().formatHex(MessageDigest.getInstance(entry.getValue()).digest(data)).toUpperCase(java.util.Locale.ROOT);
            storage.upload("local", Map.of("content", "iso", "checksum", sum, "checksum-algorithm", entry.getKey()),
                    file(entry.getKey() + ".iso", data));
        }
        assertThat(isoDir.toFile().list()).hasSize(5);
    }

    @Test
    void aBrokenStreamLeavesNoPartialFile() {
        InputStream breaking = new InputStream() {
            private int served;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (served > 4 * Sizes.MIB) {
                    throw new IOException("connection reset by peer");
                }
                served += len;
                return len;
            }
        };

        assertThatThrownBy(() -> storage.upload("local", Map.of("content", "iso"), new Upload("big.iso", "application/octet-stream", breaking)))
                .isInstanceOf(StorageException.class).hasMessageContaining("connection reset by peer");
        assertThat(isoDir).isEmptyDirectory();
    }

    @Test
    void existingFileIsNotOverwritten() throws Exception {
        Files.writeString(isoDir.resolve("same.iso"), "original");

        assertThatThrownBy(() -> storage.upload("local", Map.of("content", "iso"), file("same.iso", new byte[10])))
                .isInstanceOf(Conflict.class);
        assertThat(isoDir.resolve("same.iso")).hasContent("original");
        assertThat(isoDir.toFile().list()).containsExactly("same.iso");
    }

    @Test
    void templatesAndImportsGoToTheirDirectories() throws Exception {
        storage.upload("local", Map.of("content", "vztmpl"), file("debian-12-standard_12.7-1_amd64.tar.zst", new byte[16]));
        storage.upload("local", Map.of("content", "import"), file("appliance.ova", new byte[16]));

        Path local = storage.node().dataDir().resolve("storage/local");
        assertThat(local.resolve("template/cache/debian-12-standard_12.7-1_amd64.tar.zst")).exists();
        assertThat(local.resolve("import/appliance.ova")).exists();
        assertThatThrownBy(() -> storage.upload("local", Map.of("content", "vztmpl"), file("debian.iso", new byte[1])))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsEntry("filename", "wrong file extension"));
    }

    @Test
    void checksumNeedsItsAlgorithmAndAStorageMustHoldTheContent() throws Exception {
        assertThatThrownBy(() -> storage.upload("local", Map.of("content", "iso", "checksum", "abcdef12"), file("a.iso", new byte[1])))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("checksum-algorithm"));
        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "vmonly", "type", "dir", "path", dir.resolve("vmonly").toString(),
                "content", "images"));
        assertThatThrownBy(() -> storage.upload("vmonly", Map.of("content", "iso"), file("a.iso", new byte[1])))
                .hasMessageContaining("does not support content type 'iso'");
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/nodes/pve1/storage/local/upload", Map.of("content", "iso")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors().get("filename")).contains("no file uploaded"));
    }

    /** Bytes made on the fly, so that neither the test nor the handler ever holds the file. */
    private static final class GeneratedStream extends InputStream {
        private final long size;
        private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        private long position;
        private long nextSample;
        private long maxHeap;

        GeneratedStream(long size) {
            this.size = size;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - position);
            for (int i = 0; i < n; i++) {
                long p = position + i;
                b[off + i] = (byte) (p * 31 + (p >>> 20));
            }
            position += n;
            if (position >= nextSample) {
                maxHeap = Math.max(maxHeap, memory.getHeapMemoryUsage().getUsed());
                nextSample += 16 * Sizes.MIB;
            }
            return n;
        }
    }

    @Test
    void oneGibUploadIsStreamedWithoutGrowingTheHeap() throws Exception {
        long size = Sizes.GIB;
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        try (GeneratedStream source = new GeneratedStream(size)) {
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = source.read(buffer, 0, buffer.length)) > 0) {
                expected.update(buffer, 0, n);
            }
        }
        String checksum = HexFormat.of().formatHex(expected.digest());
        System.gc();
        long before = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        GeneratedStream stream = new GeneratedStream(size);

        storage.upload("local", Map.of("content", "iso", "checksum", checksum, "checksum-algorithm", "sha256"),
                new Upload("big.iso", "application/octet-stream", stream));

        Path stored = isoDir.resolve("big.iso");
        try {
            assertThat(Files.size(stored)).isEqualTo(size);
            assertThat(stream.maxHeap - before).as("heap growth while streaming 1 GiB").isLessThan(256 * Sizes.MIB);
        } finally {
            Files.deleteIfExists(stored);
        }
    }
}
