package org.corral.backup.vzdump;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskContext;
import org.corral.core.task.Upid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The system tar and compressors write what restore and extractconfig read back. */
class TarArchiveIT {
    @TempDir
    Path dir;

    private static final TaskContext CTX = new TaskContext() {
        @Override
        public Upid upid() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void log(String line) {}

        @Override
        public void log(String format, Object... args) {}

        @Override
        public void warn(String line) {}

        @Override
        public void warn(String format, Object... args) {}

        @Override
        public int warnings() {
            return 0;
        }

        @Override
        public boolean isStopped() {
            return false;
        }

        @Override
        public void checkStopped() {}
    };

    @Test
    void anUnprivilegedTreeIsStoredWithTheContainersOwnIdsAndItsConfigFirst() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root/etc"));
        Files.writeString(root.resolve("hostname"), "ct\n");
        Files.createDirectories(dir.resolve("root/tmp"));
        Files.writeString(dir.resolve("root/tmp/scratch"), "left out");
        for (Path p : new Path[] {dir.resolve("root"), root, root.resolve("hostname")}) {
            Files.setAttribute(p, "unix:uid", 100_000, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", 100_000, LinkOption.NOFOLLOW_LINKS);
        }
        Files.setAttribute(root.resolve("hostname"), "unix:uid", 100_033, LinkOption.NOFOLLOW_LINKS);
        for (Compression compression : Compression.values()) {
            Path work = Files.createDirectories(dir.resolve("work-" + compression));
            Path archive = dir.resolve("vzdump-lxc-100-2026_01_01-00_00_00.tar" + compression.suffix());
            TarArchive.Written written = TarArchive.create(dir.resolve("root"), "hostname: ct\n", 100_000, true, compression, 1, 0,
                    archive, work, CTX);
            assertThat(written.totals()).startsWith("Total bytes written: ");
            assertThat(TarArchive.readConfig(archive)).isEqualTo("hostname: ct\n");
            String decompress = compression == Compression.NONE ? "cat" : String.join(" ", compression.decompressCommand());
            String listing = ProcessRunner.of("sh", "-c", decompress + " < '" + archive + "' | tar tvf - --numeric-owner").run().check().stdout();
            assertThat(listing.lines().findFirst().orElseThrow()).endsWith("./etc/vzdump/pct.conf");
            assertThat(listing).containsPattern("33/0 .* \\./etc/hostname").doesNotContain("./tmp/scratch").contains("./tmp/");
            Files.delete(archive);
        }
    }
}
