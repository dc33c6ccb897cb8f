package org.corral.backup.datastore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

/** Seeded test images: a mix of random, zero and repeated blocks, and helpers to change and checksum them. */
final class TestImages {
    private TestImages() {}

    /** Writes {@code size} bytes: per block, random (60%), zeros (20%) or a copy of one fixed block (20%). */
    static Path mixed(Path file, long size, int blockSize, long seed) throws IOException {
        Random random = new Random(seed);
        byte[] repeated = new byte[blockSize];
        random.nextBytes(repeated);
        byte[] block = new byte[blockSize];
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long at = 0; at < size; at += block.length) {
                int len = (int) Math.min(block.length, size - at);
                int kind = random.nextInt(10);
                ByteBuffer buffer;
                if (kind < 6) {
                    random.nextBytes(block);
                    buffer = ByteBuffer.wrap(block, 0, len);
                } else if (kind < 8) {
                    buffer = ByteBuffer.allocate(len);
                } else {
                    buffer = ByteBuffer.wrap(repeated, 0, len);
                }
                out.write(buffer, at);
            }
        }
        return file;
    }

    static Path random(Path file, long size, long seed) throws IOException {
        Random random = new Random(seed);
        byte[] block = new byte[65536];
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long at = 0; at < size; at += block.length) {
                random.nextBytes(block);
                out.write(ByteBuffer.wrap(block, 0, (int) Math.min(block.length, size - at)), at);
            }
        }
        return file;
    }

    /** Overwrites {@code length} bytes at {@code offset} with seeded random data. */
    static void overwrite(Path file, long offset, int length, long seed) throws IOException {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.wrap(data), offset);
        }
    }

    static String sha256(Path file) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 20];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    sha.update(buffer, 0, n);
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static long countChunkFiles(Path store) throws IOException {
        try (var files = Files.walk(store.resolve(".chunks"))) {
            return files.filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}")).count();
        }
    }
}
