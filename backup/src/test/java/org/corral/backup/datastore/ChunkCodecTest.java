package org.corral.backup.datastore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkCodecTest {
    private static byte[] text(int size) {
        byte[] data = new byte[size];
        byte[] word = "the quick brown fox jumps over the lazy dog ".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < size; i++) {
            data[i] = word[i % word.length];
        }
        return data;
    }

    @Test
    void plainChunkIsCompressedAndRoundTrips() throws Exception {
        byte[] data = text(1 << 20);
        try (ChunkCodec codec = new ChunkCodec(null, true)) {
            byte[] digest = codec.digest(data, 0, data.length);
            assertThat(digest).isEqualTo(FixedIndex.sha256().digest(data));
            byte[] blob = codec.encode(data, 0, data.length, digest);
            assertThat(blob.length).isLessThan(data.length / 10);
            assertThat(codec.decode(blob, digest)).isEqualTo(data);
        }
    }

    @Test
    void randomChunkIsStoredUncompressed() throws Exception {
        byte[] data = new byte[256 * 1024];
        new Random(1).nextBytes(data);
        try (ChunkCodec codec = new ChunkCodec(null, true)) {
            byte[] blob = codec.encode(data, 0, data.length, codec.digest(data, 0, data.length));
            assertThat(blob.length).isEqualTo(ChunkCodec.HEADER + data.length);
            assertThat((char) blob[7]).isEqualTo('U');
            assertThat(codec.decode(blob, new byte[0])).isEqualTo(data);
        }
    }

    @Test
    void encryptedChunkHidesPlaintextAndDigest() throws Exception {
        byte[] data = new byte[300_000];
        new Random(2).nextBytes(data);
        byte[] marker = "CORRAL-PLAINTEXT-MARKER".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(marker, 0, data, 1000, marker.length);
        CryptKey key = CryptKey.generate();
        try (ChunkCodec codec = new ChunkCodec(key, true)) {
            byte[] digest = codec.digest(data, 0, data.length);
            assertThat(digest).isNotEqualTo(FixedIndex.sha256().digest(data));
            byte[] blob = codec.encode(data, 0, data.length, digest);
            assertThat(indexOf(blob, marker)).isEqualTo(-1);
            assertThat(codec.decode(blob, digest)).isEqualTo(data);

            // another chunk's name as additional data fails authentication
            byte[] other = digest.clone();
            other[0] ^= 1;
            assertThatThrownBy(() -> codec.decode(blob, other)).isInstanceOf(CorruptBlobException.class).hasMessageContaining("authentication");
        }
        try (ChunkCodec keyless = new ChunkCodec(null, true)) {
            assertThatThrownBy(() -> keyless.decode(new ChunkCodec(key, false).encode(data, 0, 10, new byte[0]), new byte[0]))
                    .hasMessageContaining("no encryption key");
        }
        try (ChunkCodec wrong = new ChunkCodec(CryptKey.generate(), true); ChunkCodec right = new ChunkCodec(key, true)) {
            byte[] blob = right.encode(data, 0, data.length, new byte[0]);
            assertThatThrownBy(() -> wrong.decode(blob, new byte[0])).hasMessageContaining("authentication failed");
        }
    }

    @Test
    void flippedBitIsDetectedByCrc() throws Exception {
        byte[] data = text(100_000);
        try (ChunkCodec codec = new ChunkCodec(null, true)) {
            byte[] blob = codec.encode(data, 0, data.length, new byte[0]);
            blob[blob.length / 2] ^= 0x10;
            assertThat(codec.crcOk(blob)).isFalse();
            assertThatThrownBy(() -> codec.decode(blob, new byte[0])).hasMessageContaining("checksum");
        }
    }

    @Test
    void keyFileRoundTripsAndKeepsItsFingerprint(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("encryption-key");
        CryptKey created = CryptKey.create(file);
        CryptKey loaded = CryptKey.load(file);
        assertThat(loaded.fingerprint()).isEqualTo(created.fingerprint()).matches("([0-9a-f]{2}:){7}[0-9a-f]{2}");
        assertThat(java.nio.file.Files.getPosixFilePermissions(file)).extracting(Object::toString)
                .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
        assertThatThrownBy(() -> CryptKey.create(file)).hasMessageContaining("already exists");
        java.nio.file.Files.writeString(file, "{\"kdf\":\"none\",\"key\":\"AAAA\"}");
        assertThatThrownBy(() -> CryptKey.load(file)).hasMessageContaining("must hold 32 bytes");
    }

    @Test
    void indexesRoundTripAndRejectTampering(@TempDir Path dir) throws Exception {
        byte[][] digests = new byte[3][];
        for (int i = 0; i < 3; i++) {
            digests[i] = new byte[32];
            Arrays.fill(digests[i], (byte) i);
        }
        FixedIndex fixed = new FixedIndex(2 * 4096 + 100, 4096, digests);
        fixed.write(dir.resolve("a.fidx"));
        ChunkIndex read = ChunkIndex.read(dir.resolve("a.fidx"));
        assertThat(read).isInstanceOf(FixedIndex.class);
        assertThat(read.csum()).isEqualTo(fixed.csum());
        assertThat(read.chunkEnd(2)).isEqualTo(2 * 4096 + 100);

        DynamicIndex dynamic = new DynamicIndex(new long[] {10, 25, 70}, digests);
        dynamic.write(dir.resolve("b.didx"));
        ChunkIndex readDynamic = ChunkIndex.read(dir.resolve("b.didx"));
        assertThat(readDynamic.chunkStart(1)).isEqualTo(10);
        assertThat(readDynamic.size()).isEqualTo(70);
        assertThat(readDynamic.digest(2)).isEqualTo(digests[2]);

        byte[] bytes = java.nio.file.Files.readAllBytes(dir.resolve("a.fidx"));
        bytes[ChunkIndex.HEADER + 5] ^= 1;
        java.nio.file.Files.write(dir.resolve("a.fidx"), bytes);
        assertThatThrownBy(() -> ChunkIndex.read(dir.resolve("a.fidx"))).hasMessageContaining("checksum");
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
