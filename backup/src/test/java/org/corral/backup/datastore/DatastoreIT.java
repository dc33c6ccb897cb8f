package org.corral.backup.datastore;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.corral.backup.FileImageSource;
import org.corral.backup.FileRestoreSink;
import org.corral.core.error.Conflict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The datastore against real files in temporary directories. */
class DatastoreIT {
    // few chunks per test: each new chunk costs an fsync, slow on a busy disk
    private static final int SMALL_CHUNK = 256 * 1024;
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

    @TempDir
    Path dir;

    private Datastore create(CryptKey key, int chunkSize) throws IOException {
        return Datastore.create(dir.resolve("store"), key, DatastoreOptions.defaults().withChunkSize(chunkSize));
    }

    private static ImageBackupResult backup(Datastore store, Instant time, Path image, BackupWriter.IncrementalBase base) throws IOException {
        try (BackupWriter writer = store.startBackup("vm", "100", time); FileImageSource source = new FileImageSource(image)) {
            ImageBackupResult result = writer.backupImage("drive-scsi0.img", source, base);
            writer.addBlob("qemu-server.conf", "memory: 512\nscsi0: local:100/vm-100-disk-0.raw\n".getBytes(UTF_8));
            writer.finish();
            return result;
        }
    }

    private String restore(Datastore store, Instant time, String name) throws IOException {
        Path target = dir.resolve(name);
        try (FileRestoreSink sink = new FileRestoreSink(target)) {
            store.restoreImage(new SnapshotId("vm", "100", time), "drive-scsi0.img", sink);
        }
        return TestImages.sha256(target);
    }

    @Test
    void sameDataTwiceStoresNoNewChunks() throws Exception {
        Path image = TestImages.mixed(dir.resolve("disk.raw"), 24L << 20, SMALL_CHUNK, 1);
        try (Datastore store = create(null, SMALL_CHUNK)) {
            ImageBackupResult first = backup(store, T0, image, null);
            long chunkFiles = TestImages.countChunkFiles(store.path());
            assertThat(first.newChunks()).isPositive().isEqualTo((int) chunkFiles);
            assertThat(first.zeroChunks()).isPositive();
            // repeated and zero blocks are stored once: fewer distinct chunks than chunks
            assertThat(chunkFiles).isLessThan(first.chunks());

            ImageBackupResult second = backup(store, T0.plusSeconds(60), image, null);
            assertThat(second.newChunks()).isZero();
            assertThat(second.bytesStored()).isZero();
            assertThat(second.bytesRead()).isEqualTo(24L << 20);
            assertThat(second.csum()).isEqualTo(first.csum());
            assertThat(TestImages.countChunkFiles(store.path())).isEqualTo(chunkFiles);

            assertThat(restore(store, T0, "r1.raw")).isEqualTo(TestImages.sha256(image));
            assertThat(restore(store, T0.plusSeconds(60), "r2.raw")).isEqualTo(TestImages.sha256(image));
            assertThat(store.listSnapshots()).extracting(SnapshotInfo::complete).containsExactly(true, true);
            assertThat(new String(store.readBlob(new SnapshotId("vm", "100", T0), "qemu-server.conf"), UTF_8)).startsWith("memory: 512");
        }
    }

    @Test
    void onePercentChangeReadsAndStoresAboutOnePercent() throws Exception {
        long size = 64L << 20;
        Path image = TestImages.random(dir.resolve("disk.raw"), size, 2);
        try (Datastore store = create(null, SMALL_CHUNK)) {
            backup(store, T0, image, null);
            long before = TestImages.countChunkFiles(store.path());
            // about 1% of the disk (3 of 256 chunks) in scattered writes, reported by a 64 KiB-granular dirty bitmap as QEMU does
            List<long[]> ranges = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                long offset = (i * 97L + 13) * SMALL_CHUNK + 4096;
                TestImages.overwrite(image, offset, 65536 - 8192, 100 + i);
                ranges.add(new long[] {offset, 65536 - 8192});
            }
            DirtyMap dirty = DirtyMap.ofRanges(65536, ranges.toArray(long[][]::new));
            ImageBackupResult incremental = backup(store, T0.plusSeconds(60), image,
                    new BackupWriter.IncrementalBase(new SnapshotId("vm", "100", T0), dirty));

            assertThat(incremental.fullReadReason()).isEmpty();
            assertThat(incremental.chunksRead()).isEqualTo(3);
            assertThat(incremental.bytesRead()).isEqualTo(3L * SMALL_CHUNK);
            assertThat((double) incremental.bytesRead() / size).isBetween(0.01, 0.012);
            assertThat(incremental.chunksReused()).isEqualTo(256 - 3);
            assertThat(incremental.newChunks()).isEqualTo(3);
            assertThat(TestImages.countChunkFiles(store.path()) - before).isEqualTo(3);
            assertThat(restore(store, T0.plusSeconds(60), "after.raw")).isEqualTo(TestImages.sha256(image));

            // a base that does not fit is not trusted: everything is read and the reason given
            Path bigger = TestImages.random(dir.resolve("bigger.raw"), size + SMALL_CHUNK, 2);
            ImageBackupResult resized = backup(store, T0.plusSeconds(120), bigger,
                    new BackupWriter.IncrementalBase(new SnapshotId("vm", "100", T0.plusSeconds(60)), dirty));
            assertThat(resized.fullReadReason()).contains("size changed");
            assertThat(resized.bytesRead()).isEqualTo(size + SMALL_CHUNK);
        }
    }

    @Test
    void defaultFourMibChunksRoundTripAnOddSizedImage() throws Exception {
        long size = (40L << 20) + 12345;
        Path image = TestImages.mixed(dir.resolve("disk.raw"), size, 1 << 20, 3);
        try (Datastore store = create(null, DatastoreOptions.DEFAULT_CHUNK_SIZE)) {
            ImageBackupResult result = backup(store, T0, image, null);
            assertThat(result.chunks()).isEqualTo(11);
            assertThat(restore(store, T0, "restored.raw")).isEqualTo(TestImages.sha256(image));
            assertThat(Files.size(dir.resolve("restored.raw"))).isEqualTo(size);
        }
    }

    @Test
    void encryptedChunksHideKnownPlaintextAndRestoreNeedsTheKey() throws Exception {
        byte[] pattern = "CORRAL-KNOWN-PLAINTEXT-PATTERN-0123456789abcdef".getBytes(UTF_8);
        Path image = dir.resolve("disk.raw");
        byte[] data = new byte[8 << 20];
        for (int i = 0; i + pattern.length <= data.length; i += pattern.length) {
            System.arraycopy(pattern, 0, data, i, pattern.length);
        }
        Files.write(image, data);
        CryptKey key = CryptKey.create(dir.resolve("encryption-key"));
        Path storePath;
        try (Datastore store = create(key, SMALL_CHUNK)) {
            storePath = store.path();
            backup(store, T0, image, null);
        }
        // neither chunks nor indexes nor the config blob carry the plaintext, and chunk names are not plain SHA-256
        byte[] firstChunkSha = FixedIndex.sha256().digest(java.util.Arrays.copyOf(data, SMALL_CHUNK));
        try (var files = Files.walk(storePath)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                byte[] content = Files.readAllBytes(file);
                assertThat(ChunkCodecTest.indexOf(content, pattern)).as(file.toString()).isEqualTo(-1);
                assertThat(ChunkCodecTest.indexOf(content, "memory: 512".getBytes(UTF_8))).as(file.toString()).isEqualTo(-1);
                assertThat(file.getFileName().toString()).isNotEqualTo(java.util.HexFormat.of().formatHex(firstChunkSha));
            }
        }
        SnapshotId snapshot = new SnapshotId("vm", "100", T0);
        try (Datastore keyless = Datastore.open(storePath, null, DatastoreOptions.defaults())) {
            assertThat(keyless.listSnapshots()).hasSize(1);
            assertThatThrownBy(() -> keyless.restoreImage(snapshot, "drive-scsi0.img", new FileRestoreSink(dir.resolve("nokey.raw"))))
                    .isInstanceOf(IOException.class)
                    .hasMessage("snapshot vm/100/2026-12-01T10:00:00Z is encrypted: restoring it needs the encryption key with fingerprint "
                            + key.fingerprint() + ", and none was given");
            // without the key verify can still check each chunk's CRC
            VerifyResult keylessVerify = keyless.verify(snapshot);
            assertThat(keylessVerify.ok()).isTrue();
            assertThat(keylessVerify.keyless()).isTrue();
        }
        try (Datastore wrong = Datastore.open(storePath, CryptKey.generate(), DatastoreOptions.defaults())) {
            assertThatThrownBy(() -> wrong.restoreImage(snapshot, "drive-scsi0.img", new FileRestoreSink(dir.resolve("wrong.raw"))))
                    .hasMessageContaining("is encrypted with the key " + key.fingerprint() + ", not with the given key");
        }
        try (Datastore withKey = Datastore.open(storePath, CryptKey.load(dir.resolve("encryption-key")), DatastoreOptions.defaults())) {
            Path target = dir.resolve("withkey.raw");
            try (FileRestoreSink sink = new FileRestoreSink(target)) {
                withKey.restoreImage(snapshot, "drive-scsi0.img", sink);
            }
            assertThat(Files.readAllBytes(target)).isEqualTo(data);
            assertThat(new String(withKey.readBlob(snapshot, "qemu-server.conf"), UTF_8)).startsWith("memory: 512");
            VerifyResult verify = withKey.verify(snapshot);
            assertThat(verify.ok()).isTrue();
            assertThat(verify.keyless()).isFalse();
        }
    }

    @Test
    void verifyDetectsACorruptChunkAndTheNextBackupHealsIt() throws Exception {
        Path image = TestImages.random(dir.resolve("disk.raw"), 4L << 20, 4);
        try (Datastore store = create(null, SMALL_CHUNK)) {
            backup(store, T0, image, null);
            SnapshotId snapshot = new SnapshotId("vm", "100", T0);
            ChunkIndex index = ChunkIndex.read(snapshot.dir(store.path()).resolve("drive-scsi0.img.fidx"));
            byte[] victim = index.digest(7);
            Path chunk = store.chunks().path(victim);
            byte[] blob = Files.readAllBytes(chunk);
            blob[blob.length / 2] ^= 0x01;
            Files.write(chunk, blob);

            assertThatThrownBy(() -> restore(store, T0, "bad.raw")).hasMessageContaining(java.util.HexFormat.of().formatHex(victim))
                    .hasMessageContaining("corrupt");
            VerifyResult result = store.verify(snapshot);
            assertThat(result.ok()).isFalse();
            assertThat(result.badChunks()).containsExactly(java.util.HexFormat.of().formatHex(victim));
            assertThat(store.manifest(snapshot).verifyState()).contains("failed");
            assertThat(store.listSnapshots().getFirst().verifyState()).contains("failed");
            assertThat(chunk).doesNotExist();
            assertThat(chunk.resolveSibling(chunk.getFileName() + ".bad")).exists();

            // the same data backed up again stores the chunk anew, and the old snapshot verifies again
            ImageBackupResult again = backup(store, T0.plusSeconds(60), image, null);
            assertThat(again.newChunks()).isEqualTo(1);
            assertThat(store.verify(snapshot).ok()).isTrue();
            assertThat(restore(store, T0, "good.raw")).isEqualTo(TestImages.sha256(image));
        }
    }

    @Test
    void gcRemovesOnlyWhatNoSnapshotReferences() throws Exception {
        Path a = TestImages.random(dir.resolve("a.raw"), 4L << 20, 5);
        Path b = TestImages.random(dir.resolve("b.raw"), 4L << 20, 6);
        try (Datastore store = create(null, SMALL_CHUNK)) {
            backup(store, T0, a, null);
            backup(store, T0.plusSeconds(60), b, null);
            long both = TestImages.countChunkFiles(store.path());
            assertThat(both).isEqualTo(32);

            GcResult nothing = store.garbageCollect(Duration.ZERO);
            assertThat(nothing.chunksRemoved()).isZero();
            assertThat(nothing.chunksMarked()).isEqualTo(32);

            SnapshotId first = new SnapshotId("vm", "100", T0);
            store.setProtected(first, true);
            assertThatThrownBy(() -> store.deleteSnapshot(first)).isInstanceOf(Conflict.class).hasMessageContaining("protected");
            store.setProtected(first, false);
            store.deleteSnapshot(first);

            // a day's grace keeps the just-unreferenced chunks, no grace removes them
            assertThat(store.garbageCollect(Duration.ofDays(1)).chunksRemoved()).isZero();
            GcResult gc = store.garbageCollect(Duration.ZERO);
            assertThat(gc.chunksRemoved()).isEqualTo(16);
            assertThat(gc.missingChunks()).isEmpty();
            assertThat(TestImages.countChunkFiles(store.path())).isEqualTo(16);
            assertThat(store.verifyAll()).allMatch(VerifyResult::ok).hasSize(1);
            assertThat(restore(store, T0.plusSeconds(60), "b2.raw")).isEqualTo(TestImages.sha256(b));
        }
    }

    @Test
    void snapshotBeingWrittenIsNotCompleteAndGcKeepsItsChunks() throws Exception {
        Path image = TestImages.random(dir.resolve("disk.raw"), 4L << 20, 7);
        try (Datastore store = create(null, SMALL_CHUNK)) {
            try (BackupWriter writer = store.startBackup("vm", "100", T0); FileImageSource source = new FileImageSource(image)) {
                writer.backupImage("drive-scsi0.img", source);
                assertThat(store.listSnapshots()).singleElement().satisfies(s -> {
                    assertThat(s.complete()).isFalse();
                    assertThat(s.inProgress()).isTrue();
                });
                assertThatThrownBy(() -> store.manifest(new SnapshotId("vm", "100", T0))).hasMessageContaining("not complete");
                GcResult gc = store.garbageCollect(Duration.ZERO);
                assertThat(gc.chunksRemoved()).isZero();
                assertThat(gc.partialSnapshotsRemoved()).isZero();
                writer.finish();
            }
            assertThat(store.listSnapshots()).singleElement().satisfies(s -> assertThat(s.complete()).isTrue());
            assertThat(store.verifyAll()).allMatch(VerifyResult::ok);

            // an abandoned writer leaves nothing behind
            try (BackupWriter writer = store.startBackup("vm", "100", T0.plusSeconds(60)); FileImageSource source = new FileImageSource(image)) {
                writer.backupImage("drive-scsi0.img", source);
            }
            assertThat(store.listSnapshots()).hasSize(1);
            assertThatThrownBy(() -> store.startBackup("vm", "100", T0)).hasMessageContaining("already exists");
        }
    }

    @Test
    void concurrentBackupsDeletesAndGcNeverLoseAReferencedChunk() throws Exception {
        Path image = TestImages.random(dir.resolve("disk.raw"), 8L << 20, 8);
        try (Datastore store = create(null, SMALL_CHUNK)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread gc = Thread.ofPlatform().start(() -> {
                try {
                    while (!stop.get()) {
                        store.garbageCollect(Duration.ZERO);
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            Instant time = T0;
            for (int round = 0; round < 12; round++) {
                // change a little each round, back up incrementally from the previous snapshot, drop the older one
                TestImages.overwrite(image, (round * 13L % 32) * SMALL_CHUNK, SMALL_CHUNK, round);
                DirtyMap dirty = DirtyMap.ofRanges(SMALL_CHUNK, new long[] {(round * 13L % 32) * SMALL_CHUNK, SMALL_CHUNK});
                BackupWriter.IncrementalBase base = round == 0 ? null : new BackupWriter.IncrementalBase(new SnapshotId("vm", "100", time), dirty);
                Instant next = time.plusSeconds(60);
                backup(store, next, image, base);
                if (round > 0) {
                    store.deleteSnapshot(new SnapshotId("vm", "100", time));
                }
                time = next;
            }
            stop.set(true);
            gc.join();
            assertThat(failure.get()).isNull();
            assertThat(store.verifyAll()).singleElement().satisfies(v -> assertThat(v.ok()).isTrue());
            assertThat(restore(store, time, "last.raw")).isEqualTo(TestImages.sha256(image));
        }
    }

    @Test
    void gcDuringAnIncrementalBackupKeepsTheChunksItReuses() throws Exception {
        Path image = TestImages.random(dir.resolve("disk.raw"), 4L << 20, 10);
        SnapshotId previous = new SnapshotId("vm", "100", T0);
        try (Datastore store = Datastore.create(dir.resolve("store"), null, DatastoreOptions.defaults().withChunkSize(SMALL_CHUNK).withThreads(1))) {
            backup(store, T0, image, null);
            TestImages.overwrite(image, 15L * SMALL_CHUNK, 1000, 11);
            DirtyMap lastChunk = DirtyMap.ofRanges(SMALL_CHUNK, new long[] {15L * SMALL_CHUNK, 1000});
            // one thread: the 15 clean chunks are reused first; reading the dirty last one then deletes the base
            // snapshot and collects garbage, so only the writer's own stamps protect the reused chunks
            AtomicReference<GcResult> gc = new AtomicReference<>();
            try (BackupWriter writer = store.startBackup("vm", "100", T0.plusSeconds(60)); FileImageSource file = new FileImageSource(image)) {
                org.corral.backup.ImageSource source = new org.corral.backup.ImageSource() {
                    @Override
                    public long size() {
                        return file.size();
                    }

                    @Override
                    public void read(long offset, java.nio.ByteBuffer dst) throws IOException {
                        if (gc.get() == null) {
                            store.deleteSnapshot(previous);
                            gc.set(store.garbageCollect(Duration.ZERO));
                        }
                        file.read(offset, dst);
                    }

                    @Override
                    public void close() {}
                };
                ImageBackupResult result = writer.backupImage("drive-scsi0.img", source, new BackupWriter.IncrementalBase(previous, lastChunk));
                assertThat(result.chunksReused()).isEqualTo(15);
                writer.finish();
            }
            assertThat(gc.get().chunksRemoved()).isEqualTo(1); // only the old version of the changed chunk
            assertThat(store.verifyAll()).singleElement().satisfies(v -> assertThat(v.errors()).isEmpty());
            assertThat(restore(store, T0.plusSeconds(60), "after.raw")).isEqualTo(TestImages.sha256(image));
        }
    }

    @Test
    void pruneRemovesWhatTheRulesDropAndKeepsProtected() throws Exception {
        Path image = TestImages.random(dir.resolve("disk.raw"), 1L << 20, 9);
        try (Datastore store = create(null, SMALL_CHUNK)) {
            for (int day = 0; day < 5; day++) {
                backup(store, T0.plus(Duration.ofDays(day)), image, null);
            }
            store.setProtected(new SnapshotId("vm", "100", T0), true);
            Prune.Options keep = new Prune.Options(2, null, null, null, null, null);
            List<Prune.Decision> simulated = store.prune("vm", "100", keep, true, ZoneOffset.UTC);
            assertThat(simulated).extracting(Prune.Decision::mark)
                    .containsExactly(Prune.Mark.KEEP, Prune.Mark.KEEP, Prune.Mark.REMOVE, Prune.Mark.REMOVE, Prune.Mark.PROTECTED);
            assertThat(store.listSnapshots()).hasSize(5);
            store.prune("vm", "100", keep, false, ZoneOffset.UTC);
            assertThat(store.listSnapshots()).extracting(s -> s.id().time())
                    .containsExactly(T0, T0.plus(Duration.ofDays(3)), T0.plus(Duration.ofDays(4)));
        }
    }
}
