package org.corral.backup.datastore;

/**
 * How a datastore handle works: zstd compression of chunks, fixed chunk size for images (4 MiB as Proxmox Backup
 * Server; smaller only for tests), and worker threads for backup, restore and verify.
 */
public record DatastoreOptions(boolean compress, int chunkSize, int threads) {
    public static final int DEFAULT_CHUNK_SIZE = 4 << 20;

    public DatastoreOptions {
        if (chunkSize < 4096 || chunkSize > (16 << 20) || Integer.bitCount(chunkSize) != 1) {
            throw new IllegalArgumentException("chunk size must be a power of two from 4 KiB to 16 MiB, got " + chunkSize);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1");
        }
    }

    public static DatastoreOptions defaults() {
        // twice the cores, at least 4: chunk writes wait on fsync, so threads overlap I/O with hashing and compression
        return new DatastoreOptions(true, DEFAULT_CHUNK_SIZE, Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
    }

    public DatastoreOptions withChunkSize(int size) {
        return new DatastoreOptions(compress, size, threads);
    }

    public DatastoreOptions withThreads(int count) {
        return new DatastoreOptions(compress, chunkSize, count);
    }

    public DatastoreOptions withCompress(boolean on) {
        return new DatastoreOptions(on, chunkSize, threads);
    }
}
