package org.corral.backup.datastore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FastCdcTest {
    private static final FastCdc.Sizes SMALL = new FastCdc.Sizes(2048, 8192, 32768);

    @TempDir
    Path dir;

    private static List<Integer> lengths(FastCdc cdc, byte[] data) {
        List<Integer> out = new ArrayList<>();
        int at = 0;
        while (at < data.length) {
            int left = data.length - at;
            int n = cdc.cut(data, at, left, left < cdc.sizes().max());
            out.add(n);
            at += n;
        }
        return out;
    }

    private static List<Long> ends(List<Integer> lengths) {
        List<Long> out = new ArrayList<>();
        long at = 0;
        for (int n : lengths) {
            at += n;
            out.add(at);
        }
        return out;
    }

    @Test
    void chunkSizesStayWithinBoundsAndAverageNearTheTarget() {
        byte[] data = new byte[4 << 20];
        new Random(1).nextBytes(data);
        List<Integer> lengths = lengths(new FastCdc(SMALL), data);
        assertThat(lengths.stream().mapToLong(Integer::longValue).sum()).isEqualTo(data.length);
        for (int n : lengths.subList(0, lengths.size() - 1)) {
            assertThat(n).isBetween(SMALL.min(), SMALL.max());
        }
        double avg = (double) data.length / lengths.size();
        assertThat(avg).isBetween(SMALL.avg() * 0.5, SMALL.avg() * 2.0);
        // content-defined, not fixed: the sizes vary
        assertThat(new HashSet<>(lengths)).hasSizeGreaterThan(lengths.size() / 2);
    }

    @Test
    void insertingBytesAtTheFrontShiftsOnlyTheFirstChunks() {
        byte[] data = new byte[2 << 20];
        new Random(2).nextBytes(data);
        byte[] shifted = new byte[data.length + 100];
        new Random(3).nextBytes(shifted);
        System.arraycopy(data, 0, shifted, 100, data.length);
        FastCdc cdc = new FastCdc(SMALL);
        List<Long> before = ends(lengths(cdc, data));
        List<Long> after = ends(lengths(cdc, shifted)).stream().map(e -> e - 100).toList();
        Set<Long> common = new HashSet<>(before);
        common.retainAll(after);
        // every boundary but the first few is found again, 100 bytes later
        assertThat(common.size()).isGreaterThanOrEqualTo(before.size() - 3);
        assertThat(before.size()).isGreaterThan(100);
        // a fixed chunker would share none
        assertThat(before.subList(before.size() - 10, before.size())).isSubsetOf(after);
    }

    @Test
    void noDataCutsShortOnlyAtTheEnd() {
        FastCdc cdc = new FastCdc(SMALL);
        byte[] zeros = new byte[100_000];
        // no cut point in zeros: every chunk is max size but the last
        assertThat(lengths(cdc, zeros)).containsExactly(32768, 32768, 32768, 100_000 - 3 * 32768);
        assertThatThrownBy(() -> cdc.cut(zeros, 0, 1000, false)).hasMessageContaining("need 32768 bytes");
    }

    @Test
    void badSizesAreRefused() {
        assertThatThrownBy(() -> new FastCdc.Sizes(1024, 3000, 8192)).hasMessageContaining("not a power of two");
        assertThatThrownBy(() -> new FastCdc.Sizes(8192, 4096, 16384)).hasMessageContaining("min <= avg <= max");
        assertThatThrownBy(() -> new FastCdc.Sizes(16, 4096, 16384)).hasMessageContaining("below 64");
    }

    @Test
    void fileArchiveRoundTripsAndASecondBackupStoresOnlyChangedChunks() throws IOException {
        byte[] data = new byte[1 << 20];
        new Random(4).nextBytes(data);
        try (Datastore store = Datastore.create(dir.resolve("store"), null, DatastoreOptions.defaults())) {
            Instant t0 = Instant.parse("2026-11-01T10:00:00Z");
            BackupWriter.FileArchiveResult first = backup(store, t0, data);
            assertThat(first.size()).isEqualTo(data.length);
            assertThat(first.chunks()).isGreaterThan(20);
            assertThat(first.newChunks()).isEqualTo(first.chunks());
            BackupWriter.FileArchiveResult same = backup(store, t0.plusSeconds(60), data);
            assertThat(same.newChunks()).isZero();
            assertThat(same.csum()).isEqualTo(first.csum());
            byte[] changed = new byte[data.length + 10];
            System.arraycopy(data, 0, changed, 10, data.length);
            BackupWriter.FileArchiveResult front = backup(store, t0.plusSeconds(120), changed);
            assertThat(front.newChunks()).isBetween(1, 3);

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long size = store.restoreFile(SnapshotId.parse("ct/100/2026-11-01T10:02:00Z"), "root.pxar", out);
            assertThat(size).isEqualTo(changed.length);
            assertThat(Arrays.equals(out.toByteArray(), changed)).isTrue();
            assertThat(new String(store.readBlob(SnapshotId.parse("ct/100/2026-11-01T10:02:00Z"), "pct.conf"))).isEqualTo("arch: amd64\n");
            assertThatThrownBy(() -> store.restoreFile(SnapshotId.parse("ct/100/2026-11-01T10:02:00Z"), "other.pxar", out))
                    .hasMessageContaining("has no file archive 'other.pxar'");

            // GC and verify read dynamic indexes: dropping the older snapshots frees only chunks nothing else uses
            store.deleteSnapshot(SnapshotId.parse("ct/100/2026-11-01T10:00:00Z"));
            store.deleteSnapshot(SnapshotId.parse("ct/100/2026-11-01T10:01:00Z"));
            GcResult gc = store.garbageCollect(java.time.Duration.ZERO);
            assertThat(gc.snapshotsMarked()).isEqualTo(1);
            assertThat(gc.missingChunks()).isEmpty();
            assertThat(gc.chunksRemoved()).isPositive();
            assertThat(store.verifyAll()).singleElement().satisfies(v -> assertThat(v.ok()).isTrue());
            ByteArrayOutputStream again = new ByteArrayOutputStream();
            store.restoreFile(SnapshotId.parse("ct/100/2026-11-01T10:02:00Z"), "root.pxar", again);
            assertThat(Arrays.equals(again.toByteArray(), changed)).isTrue();
        }
    }

    private static BackupWriter.FileArchiveResult backup(Datastore store, Instant time, byte[] data) throws IOException {
        try (BackupWriter writer = store.startBackup("ct", "100", time)) {
            writer.addBlob("pct.conf", "arch: amd64\n".getBytes());
            BackupWriter.FileArchive archive = writer.openFileArchive("root.pxar", SMALL);
            for (int at = 0; at < data.length; at += 7000) {
                archive.write(data, at, Math.min(7000, data.length - at));
            }
            archive.close();
            writer.finish();
            return archive.result();
        }
    }
}
