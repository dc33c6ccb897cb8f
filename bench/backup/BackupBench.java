import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.corral.backup.FileImageSource;
import org.corral.backup.FileRestoreSink;
import org.corral.backup.datastore.BackupWriter;
import org.corral.backup.datastore.CryptKey;
import org.corral.backup.datastore.Datastore;
import org.corral.backup.datastore.DatastoreOptions;
import org.corral.backup.datastore.DirtyMap;
import org.corral.backup.datastore.ImageBackupResult;
import org.corral.backup.datastore.SnapshotId;
import org.corral.backup.datastore.VerifyResult;

/**
 * Corral's datastore against restic and borg on the same inputs: a generated image (regions of 1-8 MiB, each random,
 * zero or a repeat of an earlier region) and a copy with 5% of it rewritten in scattered 64 KiB-1 MiB pieces.
 * All three encrypt and compress (ours: AES-256-GCM + zstd level 1, restic: repo v2 with compression auto,
 * borg: repokey + its default lz4) and all three read every byte (restic --force, borg --files-cache=disabled,
 * ours without a dirty bitmap, plus one extra line with a bitmap). Restore times include flushing the restored file.
 * Usage: BackupBench [WORKDIR, default /var/tmp/corral-backup-bench] [SIZE_GIB, default 4]
 */
public final class BackupBench {
    private static final long MIB = 1 << 20;
    private static final String PASSWORD = "corral-bench-password";

    record Row(String tool, Map<String, Double> seconds, Map<String, Long> bytes) {}

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args.length > 0 ? args[0] : "/var/tmp/corral-backup-bench");
        long size = (long) ((args.length > 1 ? Double.parseDouble(args[1]) : 4) * (1L << 30)) / 65536 * 65536;
        deleteTree(work);
        Files.createDirectories(work);
        try {
            run(work, size);
        } finally {
            deleteTree(work);
        }
    }

    private static void run(Path work, long size) throws Exception {
        Path image1 = work.resolve("image1.raw");
        Path image2 = work.resolve("image2.raw");
        long t = System.nanoTime();
        List<long[]> changed = generate(image1, image2, size);
        System.out.printf("generated %s and a 5%%-changed copy in %.1f s (%d changed ranges)%n", human(size), secs(t), changed.size());
        String sum2 = sha256(image2);

        List<Row> rows = new ArrayList<>();
        rows.add(ours(work, image1, image2, changed, sum2, size));
        rows.add(restic(work, image1, image2, sum2));
        rows.add(borg(work, image1, image2, sum2));
        report(rows, size);
    }

    private static Row ours(Path work, Path image1, Path image2, List<long[]> changed, String sum2, long size) throws Exception {
        Map<String, Double> s = new LinkedHashMap<>();
        Map<String, Long> b = new LinkedHashMap<>();
        Path storePath = work.resolve("corral-store");
        CryptKey key = CryptKey.create(work.resolve("encryption-key"));
        DatastoreOptions options = DatastoreOptions.defaults();
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        try (Datastore store = Datastore.create(storePath, key, options)) {
            s.put("first", timeBackup(store, t0, image1, null));
            b.put("first", du(storePath));
            s.put("unchanged", timeBackup(store, t0.plusSeconds(60), image1, null));
            s.put("changed", timeBackup(store, t0.plusSeconds(120), image2, null));
            b.put("changed", du(storePath));
            DirtyMap dirty = DirtyMap.ofRanges(65536, changed.toArray(long[][]::new));
            long t = System.nanoTime();
            ImageBackupResult incremental;
            try (BackupWriter writer = store.startBackup("vm", "100", t0.plusSeconds(180)); FileImageSource source = new FileImageSource(image2)) {
                incremental = writer.backupImage("drive-scsi0.img", source, new BackupWriter.IncrementalBase(new SnapshotId("vm", "100", t0.plusSeconds(60)), dirty));
                writer.finish();
            }
            s.put("changed+bitmap", secs(t));
            System.out.printf("corral: incremental with bitmap read %s of %s (%.1f%%), stored %d new chunks%n", human(incremental.bytesRead()),
                    human(size), 100.0 * incremental.bytesRead() / size, incremental.newChunks());
            Path target = work.resolve("restore-corral.raw");
            t = System.nanoTime();
            try (FileRestoreSink sink = new FileRestoreSink(target)) {
                store.restoreImage(new SnapshotId("vm", "100", t0.plusSeconds(120)), "drive-scsi0.img", sink);
            }
            s.put("restore", secs(t));
            check("corral", target, sum2);
            t = System.nanoTime();
            List<VerifyResult> verify = store.verifyAll();
            s.put("verify", secs(t));
            if (!verify.stream().allMatch(VerifyResult::ok)) {
                throw new IllegalStateException("corral verify failed: " + verify);
            }
        }
        return new Row("corral", s, b);
    }

    private static double timeBackup(Datastore store, Instant time, Path image, BackupWriter.IncrementalBase base) throws IOException {
        long t = System.nanoTime();
        try (BackupWriter writer = store.startBackup("vm", "100", time); FileImageSource source = new FileImageSource(image)) {
            writer.backupImage("drive-scsi0.img", source, base);
            writer.finish();
        }
        return secs(t);
    }

    private static Row restic(Path work, Path image1, Path image2, String sum2) throws Exception {
        Map<String, Double> s = new LinkedHashMap<>();
        Map<String, Long> b = new LinkedHashMap<>();
        Path repo = work.resolve("restic-repo");
        Map<String, String> env = Map.of("RESTIC_PASSWORD", PASSWORD, "RESTIC_CACHE_DIR", work.resolve("restic-cache").toString());
        exec(env, work, "restic", "-r", repo.toString(), "init", "--repository-version", "2");
        s.put("first", timed(env, work, "restic", "-r", repo.toString(), "backup", "--force", "--compression", "auto", "--tag", "one", image1.toString()));
        b.put("first", du(repo));
        s.put("unchanged", timed(env, work, "restic", "-r", repo.toString(), "backup", "--force", "--compression", "auto", "--tag", "one", image1.toString()));
        s.put("changed", timed(env, work, "restic", "-r", repo.toString(), "backup", "--force", "--compression", "auto", "--tag", "two", image2.toString()));
        b.put("changed", du(repo));
        Path target = work.resolve("restore-restic");
        long t = System.nanoTime();
        exec(env, work, "restic", "-r", repo.toString(), "restore", "latest", "--tag", "two", "--target", target.toString());
        Path restored = target.resolve(image2.toString().substring(1));
        flush(restored);
        s.put("restore", secs(t));
        check("restic", restored, sum2);
        deleteTree(target);
        s.put("verify", timed(env, work, "restic", "-r", repo.toString(), "check", "--read-data"));
        return new Row("restic", s, b);
    }

    private static Row borg(Path work, Path image1, Path image2, String sum2) throws Exception {
        Map<String, Double> s = new LinkedHashMap<>();
        Map<String, Long> b = new LinkedHashMap<>();
        Path repo = work.resolve("borg-repo");
        Map<String, String> env = Map.of("BORG_PASSPHRASE", PASSWORD, "BORG_BASE_DIR", work.resolve("borg-base").toString(),
                "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes");
        exec(env, work, "borg", "init", "-e", "repokey", repo.toString());
        s.put("first", timed(env, work, "borg", "create", "--files-cache=disabled", repo + "::one", image1.toString()));
        b.put("first", du(repo));
        s.put("unchanged", timed(env, work, "borg", "create", "--files-cache=disabled", repo + "::one-again", image1.toString()));
        s.put("changed", timed(env, work, "borg", "create", "--files-cache=disabled", repo + "::two", image2.toString()));
        b.put("changed", du(repo));
        Path target = work.resolve("restore-borg");
        Files.createDirectories(target);
        long t = System.nanoTime();
        exec(env, target, "borg", "extract", repo + "::two");
        Path restored = target.resolve(image2.toString().substring(1));
        flush(restored);
        s.put("restore", secs(t));
        check("borg", restored, sum2);
        deleteTree(target);
        s.put("verify", timed(env, work, "borg", "check", "--verify-data", repo.toString()));
        return new Row("borg", s, b);
    }

    private static void report(List<Row> rows, long size) {
        Row restic = rows.stream().filter(r -> r.tool().equals("restic")).findFirst().orElseThrow();
        System.out.println();
        System.out.printf("input: %s image, then a copy with 5%% changed; times in seconds (MB/s of the image), ratio = restic time / tool time (>1 is faster)%n", human(size));
        System.out.printf("%-8s %-16s %10s %10s %8s%n", "tool", "step", "seconds", "MB/s", "vs restic");
        for (Row row : rows) {
            for (var e : row.seconds().entrySet()) {
                Double base = restic.seconds().get(e.getKey());
                System.out.printf("%-8s %-16s %10.1f %10.0f %8s%n", row.tool(), e.getKey(), e.getValue(), size / 1e6 / e.getValue(),
                        base == null ? "-" : String.format("%.2fx", base / e.getValue()));
            }
        }
        System.out.println();
        System.out.printf("%-8s %-16s %12s %12s%n", "tool", "stored after", "bytes", "vs restic");
        for (Row row : rows) {
            for (var e : row.bytes().entrySet()) {
                System.out.printf("%-8s %-16s %12s %11.2fx%n", row.tool(), e.getKey(), human(e.getValue()),
                        (double) e.getValue() / restic.bytes().get(e.getKey()));
            }
        }
    }

    /** Regions of 1-8 MiB (64 KiB aligned): 55% random, 25% zero, 20% a repeat of one of 8 earlier random regions. */
    private static List<long[]> generate(Path image1, Path image2, long size) throws IOException {
        SplittableRandom random = new SplittableRandom(2026);
        List<byte[]> seen = new ArrayList<>();
        try (FileChannel out = FileChannel.open(image1, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            long at = 0;
            while (at < size) {
                int len = (int) Math.min(size - at, (1 + random.nextInt(128)) * 65536L);
                int kind = random.nextInt(100);
                byte[] region;
                if (kind < 55 || (kind >= 80 && seen.isEmpty())) {
                    region = randomBytes(random, len);
                    if (seen.size() < 8 && len >= MIB) {
                        seen.add(region);
                    }
                } else if (kind < 80) {
                    region = null;
                } else {
                    byte[] source = seen.get(random.nextInt(seen.size()));
                    region = new byte[len];
                    for (int i = 0; i < len; i += source.length) {
                        System.arraycopy(source, 0, region, i, Math.min(source.length, len - i));
                    }
                }
                if (region != null) {
                    write(out, ByteBuffer.wrap(region), at);
                }
                at += len;
            }
            if (out.size() < size) {
                out.write(ByteBuffer.allocate(1), size - 1);
            }
        }
        Files.copy(image1, image2, StandardCopyOption.REPLACE_EXISTING);
        List<long[]> changed = new ArrayList<>();
        long budget = size / 20;
        try (FileChannel out = FileChannel.open(image2, StandardOpenOption.WRITE)) {
            while (budget > 0) {
                int len = (int) Math.min(budget, (1 + random.nextInt(16)) * 65536L);
                long offset = random.nextLong(size / 65536 - 16) * 65536;
                write(out, ByteBuffer.wrap(randomBytes(random, len)), offset);
                changed.add(new long[] {offset, len});
                budget -= len;
            }
        }
        return changed;
    }

    private static byte[] randomBytes(SplittableRandom random, int len) {
        ByteBuffer buffer = ByteBuffer.allocate(len);
        while (buffer.remaining() >= 8) {
            buffer.putLong(random.nextLong());
        }
        return buffer.array();
    }

    private static void write(FileChannel out, ByteBuffer buffer, long at) throws IOException {
        while (buffer.hasRemaining()) {
            at += out.write(buffer, at);
        }
    }

    private static double timed(Map<String, String> env, Path dir, String... command) throws Exception {
        long t = System.nanoTime();
        exec(env, dir, command);
        return secs(t);
    }

    private static void exec(Map<String, String> env, Path dir, String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        builder.environment().putAll(env);
        Path log = Files.createTempFile("bench-", ".log");
        builder.redirectOutput(log.toFile());
        int rc = builder.start().waitFor();
        if (rc != 0) {
            String output = Files.readString(log);
            Files.delete(log);
            throw new IllegalStateException(String.join(" ", command) + " failed with " + rc + ":\n" + output);
        }
        Files.delete(log);
    }

    private static void check(String tool, Path restored, String expected) throws IOException {
        String got = sha256(restored);
        if (!got.equals(expected)) {
            throw new IllegalStateException(tool + " restored a different image: " + got + " != " + expected);
        }
        Files.delete(restored);
    }

    private static void flush(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    private static String sha256(Path file) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (FileChannel in = FileChannel.open(file)) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(4 << 20);
                while (in.read(buffer.clear()) > 0) {
                    sha.update(buffer.flip());
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long du(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    private static double secs(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos).toNanos() / 1e9;
    }

    private static String human(long bytes) {
        return bytes >= (1L << 30) ? String.format("%.2f GiB", bytes / (double) (1L << 30)) : String.format("%.1f MiB", bytes / (double) MIB);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted((a, b) -> b.compareTo(a)).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
