package org.corral.backup.datastore;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.corral.backup.FileImageSource;
import org.corral.backup.FileRestoreSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a backup and of a garbage collection, each in a child JVM at random moments, and a GC in a child
 * process running against a backup in this one. Afterwards every complete snapshot verifies, nothing referenced is
 * missing, partial snapshots are never listed as complete, and the next GC cleans them up.
 */
class KillIT {
    private static final int CHUNK = 256 * 1024;
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

    @TempDir
    Path dir;

    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void killChildren() throws InterruptedException {
        for (Process child : children) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Process child(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), DatastoreChild.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        children.add(process);
        return process;
    }

    private static void awaitLine(Process process, String line) throws Exception {
        BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream()));
        String got = CompletableFuture.supplyAsync(() -> {
            try {
                return reader.readLine();
            } catch (IOException e) {
                return null;
            }
        }).get(30, TimeUnit.SECONDS);
        assertThat(got).as("child's first line").isEqualTo(line);
    }

    private static void kill9(Process process) throws InterruptedException {
        process.destroyForcibly(); // SIGKILL on Linux
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(137);
    }

    private static void backup(Datastore store, String id, Instant time, Path image) throws IOException {
        try (BackupWriter writer = store.startBackup("vm", id, time); FileImageSource source = new FileImageSource(image)) {
            writer.backupImage("drive-scsi0.img", source);
            writer.finish();
        }
    }

    private void assertEveryCompleteSnapshotIsWhole(Datastore store) throws IOException {
        List<SnapshotInfo> snapshots = store.listSnapshots();
        for (SnapshotInfo info : snapshots) {
            if (!info.complete()) {
                assertThat(info.verifyState()).isEmpty();
                assertThat(java.nio.file.Files.exists(info.id().dir(store.path()).resolve(Manifest.FILE))).isFalse();
            }
        }
        List<VerifyResult> results = store.verifyAll();
        assertThat(results).hasSize((int) snapshots.stream().filter(SnapshotInfo::complete).count());
        assertThat(results).allSatisfy(r -> assertThat(r.errors()).as(r.snapshot().toString()).isEmpty());
    }

    @Test
    void killNineDuringBackupAndGcNeverLosesAReferencedChunk() throws Exception {
        Random random = new Random(42);
        Path a = TestImages.mixed(dir.resolve("a.raw"), 16L << 20, CHUNK, 1);
        Path b = TestImages.mixed(dir.resolve("b.raw"), 16L << 20, CHUNK, 2);
        Path c = TestImages.random(dir.resolve("c.raw"), 32L << 20, 3);
        DatastoreOptions options = DatastoreOptions.defaults().withChunkSize(CHUNK);
        try (Datastore store = Datastore.create(dir.resolve("store"), null, options)) {
            backup(store, "100", T0, a);
            backup(store, "100", T0.plusSeconds(60), b);

            // backups killed at random moments
            int partials = 0;
            for (int round = 0; round < 3; round++) {
                Process child = child("backup", store.path().toString(), c.toString(), Integer.toString(CHUNK),
                        Long.toString(T0.plusSeconds(3600L * (round + 1)).getEpochSecond()));
                awaitLine(child, "backup-started");
                Thread.sleep(100 + random.nextInt(700));
                kill9(child);
                partials = (int) store.listSnapshots().stream().filter(s -> !s.complete()).count();
                assertThat(store.listSnapshots()).filteredOn(s -> !s.complete()).allSatisfy(s -> assertThat(s.inProgress()).isFalse());
                assertEveryCompleteSnapshotIsWhole(store);
            }
            assertThat(partials).as("some kill hit a backup in progress").isPositive();

            // garbage collections killed at random moments, with garbage to sweep each time
            for (int round = 0; round < 3; round++) {
                backup(store, "300", T0.plusSeconds(round), TestImages.random(dir.resolve("g.raw"), 8L << 20, 100 + round));
                store.deleteSnapshot(new SnapshotId("vm", "300", T0.plusSeconds(round)));
                Process child = child("gc", store.path().toString());
                awaitLine(child, "gc-started");
                Thread.sleep(20 + random.nextInt(300));
                kill9(child);
                assertEveryCompleteSnapshotIsWhole(store);
            }

            // a GC in another process running the whole time a backup is written here
            Process gc = child("gc", store.path().toString());
            awaitLine(gc, "gc-started");
            Path d = TestImages.mixed(dir.resolve("d.raw"), 16L << 20, CHUNK, 4);
            backup(store, "100", T0.plusSeconds(120), d);
            backup(store, "100", T0.plusSeconds(180), a);
            kill9(gc);
            assertEveryCompleteSnapshotIsWhole(store);

            // the next GC removes the partial snapshots and still loses nothing
            GcResult result = store.garbageCollect(Duration.ZERO);
            // (the killed GCs may have removed some already)
            assertThat(result.partialSnapshotsRemoved()).isBetween(0, partials);
            assertThat(result.missingChunks()).isEmpty();
            assertThat(store.listSnapshots()).allSatisfy(s -> assertThat(s.complete()).isTrue());
            assertEveryCompleteSnapshotIsWhole(store);
            for (SnapshotInfo info : store.listSnapshots()) {
                Path expected = switch (info.id().id() + "@" + info.id().time()) {
                    case "100@2026-12-01T10:00:00Z", "100@2026-12-01T10:03:00Z" -> a;
                    case "100@2026-12-01T10:01:00Z" -> b;
                    case "100@2026-12-01T10:02:00Z" -> d;
                    default -> c;
                };
                Path target = dir.resolve("restored.raw");
                try (FileRestoreSink sink = new FileRestoreSink(target)) {
                    store.restoreImage(info.id(), "drive-scsi0.img", sink);
                }
                assertThat(TestImages.sha256(target)).as(info.id().toString()).isEqualTo(TestImages.sha256(expected));
            }
        }
    }
}
