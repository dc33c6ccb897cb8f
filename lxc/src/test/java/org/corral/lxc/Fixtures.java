package org.corral.lxc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.UUID;
import java.util.stream.Stream;
import org.corral.core.fixture.FixtureCache;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.corral.lxc.template.BusyboxTemplate;

/** Shared pieces of the integration tests: the cached busybox template, loop btrfs, bridges, work dirs. */
public final class Fixtures {
    private static final Duration TIMEOUT = Duration.ofMinutes(1);

    private Fixtures() {}

    /** The busybox template, built once per machine into the fixture cache. */
    public static Path busyboxTemplate() {
        return FixtureCache.obtain("lxc", dir -> {
            try (Stream<Path> list = Files.list(dir)) {
                return list.filter(p -> p.getFileName().toString().matches("busybox-.*-corral_1_amd64\\.tar\\.gz")).findFirst();
            }
        }, dir -> new BusyboxTemplate().build(dir));
    }

    /** A work directory every user can traverse: an unprivileged container's root must reach its rootfs. */
    public static Path workDir(String prefix) throws IOException {
        Path dir = Path.of("/var/tmp", prefix + "-" + UUID.randomUUID().toString().substring(0, 8));
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    /** A btrfs file system on a loop file, mounted at {@code mountPoint}; closing unmounts and detaches it. */
    public static final class BtrfsLoop implements AutoCloseable {
        private final Path image;
        private final Path mountPoint;
        private final String device;

        public BtrfsLoop(Path dir, long sizeBytes) throws IOException {
            this.image = dir.resolve("btrfs.img");
            this.mountPoint = dir.resolve("btrfs");
            Files.createDirectories(mountPoint);
            ProcessRunner.of("truncate", "-s", Long.toString(sizeBytes), image.toString()).timeout(TIMEOUT).run().check();
            this.device = ProcessRunner.of("losetup", "--find", "--show", image.toString()).timeout(TIMEOUT).run().check().stdout().trim();
            try {
                ProcessRunner.of("mkfs.btrfs", "-q", "-f", device).timeout(TIMEOUT).run().check();
                ProcessRunner.of("mount", device, mountPoint.toString()).timeout(TIMEOUT).run().check();
                Files.setPosixFilePermissions(mountPoint, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (RuntimeException | IOException e) {
                ProcessRunner.of("losetup", "-d", device).timeout(TIMEOUT).run();
                throw e;
            }
        }

        public Path mountPoint() {
            return mountPoint;
        }

        @Override
        public void close() throws IOException {
            ProcessResult umount = ProcessRunner.of("umount", mountPoint.toString()).timeout(TIMEOUT).run();
            if (!umount.ok()) {
                ProcessRunner.of("umount", "-l", mountPoint.toString()).timeout(TIMEOUT).run();
            }
            ProcessRunner.of("losetup", "-d", device).timeout(TIMEOUT).run();
            Files.deleteIfExists(image);
        }
    }

    /** A Linux bridge with an address, for containers' net0; closing deletes it. */
    public static final class TestBridge implements AutoCloseable {
        private final String name;

        public TestBridge(String name, String cidr) {
            this.name = name;
            ProcessRunner.of("ip", "link", "del", name).timeout(TIMEOUT).run();
            ProcessRunner.of("ip", "link", "add", name, "type", "bridge").timeout(TIMEOUT).run().check();
            ProcessRunner.of("ip", "addr", "add", cidr, "dev", name).timeout(TIMEOUT).run().check();
            ProcessRunner.of("ip", "link", "set", name, "up").timeout(TIMEOUT).run().check();
        }

        public String name() {
            return name;
        }

        @Override
        public void close() {
            ProcessRunner.of("ip", "link", "del", name).timeout(TIMEOUT).run();
        }
    }
}
