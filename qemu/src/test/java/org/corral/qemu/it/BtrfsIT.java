package org.corral.qemu.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.corral.core.io.FileTrees;
import org.corral.core.process.ProcessRunner;
import org.corral.qemu.config.VmConfig;
import org.corral.storage.StorageConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * VMs on a btrfs storage (a loop file, mounted for this class and always unmounted): snapshots
 * with RAM are btrfs snapshots plus a state volume, linked clones are btrfs snapshots of the
 * template's base volume.
 */
class BtrfsIT {
    static final Duration BOOT = Duration.ofSeconds(90);
    static Path base;
    static Path mount;
    static String loop;
    static boolean mounted;

    @BeforeAll
    static void mountBtrfs() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root for loop devices and mounts");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/mkfs.btrfs")) || Files.isExecutable(Path.of("/sbin/mkfs.btrfs")),
                "mkfs.btrfs is not installed");
        base = Files.createTempDirectory(Path.of("/tmp"), "cqbtrfs");
        Path image = base.resolve("btrfs.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(4L << 30);
        }
        loop = ProcessRunner.of("losetup", "--find", "--show", image.toString()).output().strip();
        ProcessRunner.of("mkfs.btrfs", "-q", loop).output();
        mount = base.resolve("mnt");
        Files.createDirectories(mount);
        ProcessRunner.of("mount", loop, mount.toString()).output();
        mounted = true;
    }

    @AfterAll
    static void unmountBtrfs() throws Exception {
        try {
            if (mounted) {
                try {
                    ProcessRunner.of("umount", mount.toString()).output();
                } catch (RuntimeException e) {
                    // something still holds it open: detach it lazily rather than leave it mounted
                    ProcessRunner.of("umount", "-l", mount.toString()).output();
                }
            }
        } finally {
            try {
                if (loop != null) {
                    ProcessRunner.of("losetup", "-d", loop).output();
                }
            } finally {
                if (base != null) {
                    FileTrees.deleteTree(base);
                }
            }
        }
    }

    static int tick(String line) {
        return SnapshotIT.tick(line);
    }

    @Test
    void snapshotsAndLinkedClonesUseBtrfsSnapshots() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            node.storage().updateConfig(cfg -> cfg.with(new StorageConfig("btrfs", "fast", Map.of("path", mount.toString(),
                    "content", "images,rootdir"))));
            ApiClient api = new ApiClient(node.service());
            Map<String, String> params = new java.util.LinkedHashMap<>(node.guestVm());
            params.put("scsi0", "fast:1");
            node.createVm(api, 100, params);
            assertThat(node.service().configs().load(100).config().drives().get("scsi0").file()).isEqualTo("fast:100/vm-100-disk-0.raw");
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            int before = tick(node.serialLine(100, "CORRAL-GUEST-READY", BOOT));

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/snapshot", Map.of("snapname", "warm", "vmstate", "1")),
                    Duration.ofSeconds(120));
            assertThat(Files.isDirectory(mount.resolve("images/100/vm-100-disk-0@warm"))).isTrue();
            int later = before;
            while (later < before + 15) {
                later = tick(node.serialLine(100, "CORRAL-GUEST-READY", BOOT));
            }
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/snapshot/warm/rollback", Map.of()), Duration.ofSeconds(120));
            int resumed = tick(node.serialLine(100, "CORRAL-GUEST-READY", BOOT));
            assertThat(resumed).isLessThan(later).isGreaterThanOrEqualTo(before);
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/stop", Map.of()), Duration.ofSeconds(30));
            node.requireOk((String) api.delete("/nodes/pve1/qemu/100/snapshot/warm", Map.of()), Duration.ofSeconds(60));
            assertThat(Files.exists(mount.resolve("images/100/vm-100-disk-0@warm"))).isFalse();
            String marker = node.firstSector("fast:100/vm-100-disk-0.raw");
            assertThat(marker).startsWith(GuestImage.DISK_MARKER);

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/template", Map.of()), Duration.ofSeconds(30));
            String baseVolume = node.service().configs().load(100).config().drives().get("scsi0").file();
            assertThat(baseVolume).isEqualTo("fast:100/base-100-disk-0.raw");
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/clone", Map.of("newid", "101")), Duration.ofSeconds(60));
            VmConfig clone = node.service().configs().load(101).config();
            String cloneVolume = clone.drives().get("scsi0").file();
            assertThat(cloneVolume).startsWith("fast:").contains("101").contains("vm-101-disk-0");
            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/start", Map.of()), BOOT);
            assertThat(node.serialLine(101, "CORRAL-PREVIOUS", BOOT)).contains(marker);
            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/stop", Map.of()), Duration.ofSeconds(30));

            node.requireOk((String) api.delete("/nodes/pve1/qemu/101", Map.of("purge", "1")), Duration.ofSeconds(30));
            node.requireOk((String) api.delete("/nodes/pve1/qemu/100", Map.of("purge", "1")), Duration.ofSeconds(30));
            try (Stream<Path> left = Files.walk(mount.resolve("images"))) {
                assertThat(left.filter(Files::isRegularFile).toList()).isEmpty();
            }
            assertThat(node.storageFiles()).isEmpty();
        }
    }
}
