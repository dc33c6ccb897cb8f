package org.corral.backup.datastore;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.corral.core.error.Conflict;
import org.corral.core.io.FileTrees;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mark and sweep. Safety rests on one invariant: every writer stamps each chunk it counts on (new or reused) with
 * the current time, under the chunk's bucket lock, after its own start. So with
 * {@code cutoff = min(gc start, oldest live writer start) - grace}:
 * <ol>
 *   <li>abandoned temp directories (writer lock free) are removed; live writers' start times are taken;</li>
 *   <li>every chunk of every complete snapshot is stamped (mark);</li>
 *   <li>each bucket is swept under its lock: a chunk whose stamp is older than the cutoff was neither marked nor
 *       touched by any live or later writer, and is deleted.</li>
 * </ol>
 * A kill at any point leaves only a store that the next run collects; nothing referenced is ever deleted. An index
 * that cannot be read stops the run before the sweep, since what it references is unknown.
 */
final class GarbageCollector {
    private static final Logger log = LoggerFactory.getLogger(GarbageCollector.class);
    private static final Pattern CHUNK = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern BUCKET = Pattern.compile("[0-9a-f]{4}");
    private static final long TMP_AGE_MILLIS = 3_600_000;

    private final Datastore store;

    GarbageCollector(Datastore store) {
        this.store = store;
    }

    GcResult run(Duration grace) throws IOException {
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace period must not be negative");
        }
        Path lockFile = store.path().resolve(".gc.lock");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new Conflict("garbage collection is already running on " + store.path());
            }
            try {
                return collect(grace);
            } finally {
                lock.release();
            }
        }
    }

    private GcResult collect(Duration grace) throws IOException {
        long started = System.nanoTime();
        long gcStart = System.currentTimeMillis();
        long oldestWriter = gcStart;
        int partialRemoved = 0;
        List<SnapshotId> complete = new ArrayList<>();
        for (String type : SnapshotId.TYPES) {
            for (Path groupDir : Datastore.sortedChildren(store.path().resolve(type))) {
                List<Path> children = Datastore.sortedChildren(groupDir);
                for (Path child : children) {
                    String name = child.getFileName().toString();
                    if (name.startsWith(Datastore.TMP_PREFIX)) {
                        int tilde = name.lastIndexOf('~');
                        OptionalLong live = tilde < 0 ? OptionalLong.empty()
                                : WriterLocks.liveWriterStart(groupDir, name.substring(tilde + 1));
                        if (live.isPresent()) {
                            oldestWriter = Math.min(oldestWriter, live.getAsLong());
                        } else {
                            log.info("Removing partial snapshot {}", child);
                            FileTrees.deleteTree(child);
                            if (tilde >= 0) {
                                deleteLock(groupDir, name.substring(tilde + 1));
                            }
                            partialRemoved++;
                        }
                    } else if (name.startsWith(".lock-")) {
                        // a lock with no directory: its writer died before creating one, or finished; a minute's
                        // margin leaves alone a writer that has created its lock file and not yet locked it
                        String[] parts = name.split("-");
                        if (parts.length == 3 && parts[2].matches("[0-9]+") && Long.parseLong(parts[2]) < gcStart - 60_000
                                && WriterLocks.liveWriterStart(groupDir, parts[1]).isEmpty()
                                && children.stream().noneMatch(c -> c.getFileName().toString().endsWith("~" + parts[1]))) {
                            Files.deleteIfExists(child);
                        }
                    } else if (!name.startsWith(".")) {
                        try {
                            complete.add(new SnapshotId(type, groupDir.getFileName().toString(), Instant.parse(name)));
                        } catch (RuntimeException e) {
                            log.warn("Ignoring {}: not a snapshot directory", child);
                        }
                    }
                }
                // live writers whose lock exists but whose directory is not there yet also bound the cutoff.
                // This second look also finds the snapshots of writers that finished after the first listing: a
                // writer renames its directory before it releases its lock, so one found not live above has
                // either died or left a complete snapshot that is listed now (else the chunks it reused, stamped
                // before this run's start, would be swept once their older snapshot is deleted)
                for (Path child : Datastore.sortedChildren(groupDir)) {
                    String name = child.getFileName().toString();
                    if (!name.startsWith(".")) {
                        try {
                            SnapshotId finished = new SnapshotId(type, groupDir.getFileName().toString(), Instant.parse(name));
                            if (!complete.contains(finished)) {
                                complete.add(finished);
                            }
                        } catch (RuntimeException e) {
                            // not a snapshot directory: warned about above
                        }
                    }
                    if (name.startsWith(".lock-")) {
                        String[] parts = name.split("-");
                        if (parts.length == 3) {
                            OptionalLong live = WriterLocks.liveWriterStart(groupDir, parts[1]);
                            if (live.isPresent()) {
                                oldestWriter = Math.min(oldestWriter, live.getAsLong());
                            }
                        }
                    }
                }
            }
        }
        long cutoff = Math.min(gcStart, oldestWriter) - grace.toMillis();

        ChunkStore chunks = store.chunks();
        long marked = 0;
        int snapshotsMarked = 0;
        List<String> missing = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        for (SnapshotId snapshot : complete) {
            Path dir = snapshot.dir(store.path());
            List<Path> indexes = new ArrayList<>();
            try (var files = Files.newDirectoryStream(dir, "*.{fidx,didx}")) {
                files.forEach(indexes::add);
            } catch (NoSuchFileException e) {
                continue; // deleted since the scan: its chunks need no mark
            }
            if (!Files.exists(dir.resolve(Manifest.FILE))) {
                continue;
            }
            for (Path file : indexes) {
                ChunkIndex index;
                try {
                    index = ChunkIndex.read(file);
                } catch (NoSuchFileException e) {
                    continue;
                } catch (IOException e) {
                    throw new IOException("garbage collection stopped before sweeping: cannot read " + file + ": " + e.getMessage(), e);
                }
                for (int i = 0; i < index.chunkCount(); i++) {
                    if (chunks.mark(index.digest(i))) {
                        marked++;
                    } else {
                        missing.add(hex.formatHex(index.digest(i)));
                    }
                }
            }
            snapshotsMarked++;
        }

        long removed = 0;
        long removedBytes = 0;
        long kept = 0;
        long keptBytes = 0;
        for (Path bucketDir : Datastore.sortedChildren(chunks.base())) {
            String bucketName = bucketDir.getFileName().toString();
            if (!BUCKET.matcher(bucketName).matches()) {
                continue;
            }
            int bucket = Integer.parseInt(bucketName, 16);
            try (BucketLocks.Held held = chunks.lockBucket(bucket)) {
                for (Path file : Datastore.sortedChildren(bucketDir)) {
                    String name = file.getFileName().toString();
                    BasicFileAttributes attributes;
                    try {
                        attributes = Files.readAttributes(file, BasicFileAttributes.class);
                    } catch (NoSuchFileException e) {
                        continue;
                    }
                    long stamp = ChunkStore.stampMillis(attributes);
                    boolean chunk = CHUNK.matcher(name).matches();
                    // a temp file carries only the kernel's coarse mtime and may belong to a writer that started
                    // after this run: leave it an hour before calling it a crashed writer's leftover
                    boolean leftover = (name.contains(".tmp_") && stamp < cutoff - TMP_AGE_MILLIS)
                            || (name.endsWith(".bad") && stamp < cutoff && Files.exists(bucketDir.resolve(name.substring(0, 64))));
                    if ((chunk && stamp < cutoff) || leftover) {
                        Files.deleteIfExists(file);
                        if (chunk) {
                            removed++;
                            removedBytes += attributes.size();
                        }
                    } else if (chunk) {
                        kept++;
                        keptBytes += attributes.size();
                    }
                }
            }
        }
        log.info("Garbage collection of {}: {} snapshots marked, {} chunks removed ({} bytes), {} kept, {} missing",
                store.path(), snapshotsMarked, removed, removedBytes, kept, missing.size());
        return new GcResult(snapshotsMarked, partialRemoved, marked, missing, removed, removedBytes, kept, keptBytes,
                Instant.ofEpochMilli(cutoff), Duration.ofNanos(System.nanoTime() - started));
    }

    private static void deleteLock(Path groupDir, String token) throws IOException {
        try (var files = Files.newDirectoryStream(groupDir, ".lock-" + token + "-*")) {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
        }
    }
}
