package org.corral.storage.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.corral.core.error.ApiException;
import org.corral.core.process.ProcessRunner;
import org.corral.storage.ContentType;
import org.corral.storage.Sizes;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;
import org.corral.storage.TestStorage;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The btrfs storage on a real btrfs: a 1 GiB sparse file on a loop device, mounted for this class
 * and always unmounted, detached and deleted afterwards. Each test uses its own VMIDs.
 */
class BtrfsPluginIT {
    private static Path base;
    private static String loop;
    private static Path mount;
    private static boolean mounted;

    private TestStorage storage;
    private StorageService service;
    private Path nodeDir;

    @BeforeAll
    static void mountBtrfs() throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root for loop devices and mounts");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/mkfs.btrfs")) || Files.isExecutable(Path.of("/sbin/mkfs.btrfs")),
                "mkfs.btrfs is not installed");
        base = Files.createTempDirectory("corral-btrfs-it");
        Path image = base.resolve("btrfs.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(Sizes.GIB);
        }
        loop = ProcessRunner.of("losetup", "--find", "--show", image.toString()).output().strip();
        ProcessRunner.of("mkfs.btrfs", "-q", loop).output();
        mount = base.resolve("mnt");
        Files.createDirectories(mount);
        ProcessRunner.of("mount", loop, mount.toString()).output();
        mounted = true;
    }

    @AfterAll
    static void unmountBtrfs() throws IOException {
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
                    FilePluginBase.deleteTree(base);
                }
            }
        }
    }

    @BeforeEach
    void start(TestInfo test) throws IOException {
        nodeDir = Files.createTempDirectory(base, "node");
        storage = new TestStorage(nodeDir);
        service = storage.service();
        service.updateConfig(cfg -> cfg.with(new StorageConfig("btrfs", "fast", Map.of("path", mount.toString(),
                "content", "images,rootdir,iso"))));
    }

    @AfterEach
    void stop() {
        storage.close();
    }

    private Path path(String volid) {
        return service.path(volid).path().orElseThrow();
    }

    private static void writeRandom(Path file, long bytes, long seed) throws IOException {
        Random random = new Random(seed);
        byte[] chunk = new byte[(int) Sizes.MIB];
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
            for (long written = 0; written < bytes; written += chunk.length) {
                random.nextBytes(chunk);
                ByteBuffer buffer = ByteBuffer.wrap(chunk);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
            channel.force(true);
        }
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Test
    void storageIsActiveOnBtrfsAndReportsTheFileSystemSpace() {
        var state = service.state("fast");

        assertThat(state.active()).isTrue();
        assertThat(state.status().orElseThrow().total()).isBetween(512 * Sizes.MIB, Sizes.GIB);
    }

    @Test
    void vmDiskIsARawFileInItsOwnSubvolume() {
        String volid = service.alloc("fast", 100, Optional.empty(), Optional.empty(), 64 * Sizes.MIB);

        assertThat(volid).isEqualTo("fast:100/vm-100-disk-0.raw");
        assertThat(path(volid)).isEqualTo(mount.resolve("images/100/vm-100-disk-0/disk.raw")).hasSize(64 * Sizes.MIB);
        assertThat(Btrfs.isSubvolume(mount.resolve("images/100/vm-100-disk-0"))).isTrue();
        assertThat(service.list("fast", Optional.of(100), Optional.empty())).singleElement().satisfies(v -> {
            assertThat(v.volname()).isEqualTo("100/vm-100-disk-0.raw");
            assertThat(v.size()).isEqualTo(64 * Sizes.MIB);
            assertThat(v.used().orElseThrow()).isLessThan(Sizes.MIB);
        });
        service.free(volid);
    }

    @Test
    void containerSubvolumeQuotaStopsWritesPastItsSize() throws IOException {
        String volid = service.alloc("fast", 200, Optional.of(VolumeFormat.SUBVOL), Optional.empty(), 32 * Sizes.MIB);
        Path root = path(volid);

        assertThat(volid).isEqualTo("fast:200/subvol-200-disk-0.subvol");
        assertThat(service.path(volid).kind()).isEqualTo(VolumeLocation.Kind.DIRECTORY);
        writeRandom(root.resolve("fits"), 16 * Sizes.MIB, 1);
        assertThatThrownBy(() -> writeRandom(root.resolve("too-much"), 64 * Sizes.MIB, 2))
                .isInstanceOf(IOException.class).hasMessageContaining("quota");
        assertThat(service.info(volid).size()).isEqualTo(32 * Sizes.MIB);

        service.resize(volid, 128 * Sizes.MIB);
        Files.delete(root.resolve("too-much"));
        writeRandom(root.resolve("now-fits"), 64 * Sizes.MIB, 3);
        assertThat(service.info(volid).size()).isEqualTo(128 * Sizes.MIB);
        assertThatThrownBy(() -> service.resize(volid, 64 * Sizes.MIB)).isInstanceOf(ApiException.class).hasMessageContaining("shrinking");
        service.free(volid);
    }

    @Test
    void rawDiskGrowsOnResize() {
        String volid = service.alloc("fast", 101, Optional.of(VolumeFormat.RAW), Optional.empty(), 16 * Sizes.MIB);

        service.resize(volid, 40 * Sizes.MIB);

        assertThat(path(volid)).hasSize(40 * Sizes.MIB);
        assertThatThrownBy(() -> service.resize(volid, 8 * Sizes.MIB)).hasMessageContaining("shrinking");
        service.free(volid);
    }

    @Test
    void rollbackRestoresRawDiskContent() throws Exception {
        String volid = service.alloc("fast", 102, Optional.of(VolumeFormat.RAW), Optional.empty(), 8 * Sizes.MIB);
        writeRandom(path(volid), 8 * Sizes.MIB, 10);
        String before = sha256(path(volid));

        service.snapshot(volid, "snap1");
        writeRandom(path(volid), 8 * Sizes.MIB, 11);
        assertThat(sha256(path(volid))).isNotEqualTo(before);
        service.rollback(volid, "snap1");

        assertThat(sha256(path(volid))).isEqualTo(before);
        assertThat(service.path(volid, Optional.of("snap1")).path().orElseThrow())
                .isEqualTo(mount.resolve("images/102/vm-102-disk-0@snap1/disk.raw"));
        service.deleteSnapshot(volid, "snap1");
        assertThat(mount.resolve("images/102/vm-102-disk-0@snap1")).doesNotExist();
        service.free(volid);
    }

    @Test
    void rollbackRestoresContainerFilesAndKeepsTheQuota() throws Exception {
        String volid = service.alloc("fast", 201, Optional.of(VolumeFormat.SUBVOL), Optional.empty(), 64 * Sizes.MIB);
        Path root = path(volid);
        Files.writeString(root.resolve("etc-hostname"), "ct201\n");

        service.snapshot(volid, "clean");
        Files.writeString(root.resolve("etc-hostname"), "changed\n");
        Files.writeString(root.resolve("new-file"), "x");
        service.rollback(volid, "clean");

        assertThat(root.resolve("etc-hostname")).hasContent("ct201");
        assertThat(root.resolve("new-file")).doesNotExist();
        assertThat(service.info(volid).size()).isEqualTo(64 * Sizes.MIB);
        service.free(volid);
    }

    @Test
    void linkedCloneSharesTheBaseData() throws Exception {
        String vm = service.alloc("fast", 103, Optional.of(VolumeFormat.RAW), Optional.empty(), 32 * Sizes.MIB);
        writeRandom(path(vm), 32 * Sizes.MIB, 20);
        String checksum = sha256(path(vm));

        String baseVolume = service.createBase(vm);
        String clone = service.clone(baseVolume, 104, Optional.empty());

        assertThat(baseVolume).isEqualTo("fast:103/base-103-disk-0.raw");
        assertThat(clone).isEqualTo("fast:104/vm-104-disk-0.raw");
        assertThat(sha256(path(clone))).isEqualTo(checksum);
        String[] du = ProcessRunner.of("btrfs", "filesystem", "du", "-s", "--raw", mount.resolve("images/104/vm-104-disk-0").toString()).output()
                .lines().skip(1).findFirst().orElseThrow().trim().split("\\s+");
        assertThat(Long.parseLong(du[1])).as("exclusive bytes of the clone").isLessThan(Sizes.MIB);
        assertThat(Long.parseLong(du[2])).as("bytes shared with the base").isGreaterThanOrEqualTo(32 * Sizes.MIB);
        writeRandom(path(clone), Sizes.MIB, 21);
        assertThat(sha256(path(baseVolume))).isEqualTo(checksum);

        service.free(clone);
        service.free(baseVolume);
    }

    @Test
    void cloneFromASnapshotOfAContainer() throws Exception {
        String ct = service.alloc("fast", 202, Optional.of(VolumeFormat.SUBVOL), Optional.empty(), 0);
        Files.writeString(path(ct).resolve("data"), "at snapshot");
        service.snapshot(ct, "s1");
        Files.writeString(path(ct).resolve("data"), "after snapshot");

        String clone = service.clone(ct, 203, Optional.of("s1"));

        assertThat(clone).isEqualTo("fast:203/subvol-203-disk-0.subvol");
        assertThat(path(clone).resolve("data")).hasContent("at snapshot");
        Files.writeString(path(clone).resolve("data"), "clone is writable");
        service.free(clone);
        service.free(ct);
    }

    @Test
    void sendReceiveExportImportCopiesAContainerVolume() throws Exception {
        String ct = service.alloc("fast", 204, Optional.of(VolumeFormat.SUBVOL), Optional.empty(), 0);
        Files.createDirectories(path(ct).resolve("etc"));
        Files.writeString(path(ct).resolve("etc/os-release"), "ID=corral\n");
        ByteArrayOutputStream stream = new ByteArrayOutputStream();

        service.exportVolume(ct, "btrfs", Optional.empty(), Optional.empty(), stream);
        String copy = service.importVolume("fast:205/subvol-205-disk-0.subvol", "btrfs", new ByteArrayInputStream(stream.toByteArray()));

        assertThat(copy).isEqualTo("fast:205/subvol-205-disk-0.subvol");
        assertThat(path(copy).resolve("etc/os-release")).hasContent("ID=corral");
        Files.writeString(path(copy).resolve("etc/hostname"), "copy\n");
        assertThat(mount.resolve("images/204")).isDirectoryNotContaining(p -> p.getFileName().toString().contains("@"));
        assertThat(mount.resolve("images/205")).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith(".import"));
        service.free(copy);
        service.free(ct);
    }

    @Test
    void sendReceiveCopiesARawDiskAndItsSnapshot() throws Exception {
        String vm = service.alloc("fast", 106, Optional.of(VolumeFormat.RAW), Optional.empty(), 4 * Sizes.MIB);
        writeRandom(path(vm), 4 * Sizes.MIB, 30);
        String checksum = sha256(path(vm));
        service.snapshot(vm, "rep1");
        ByteArrayOutputStream stream = new ByteArrayOutputStream();

        service.exportVolume(vm, "btrfs", Optional.of("rep1"), Optional.empty(), stream);
        String copy = service.importVolume("fast:107/vm-107-disk-0.raw", "btrfs", new ByteArrayInputStream(stream.toByteArray()));

        assertThat(sha256(path(copy))).isEqualTo(checksum);
        service.free(copy);
        service.free(vm);
    }

    @Test
    void freeLeavesNothingBehind() throws IOException {
        String vm = service.alloc("fast", 108, Optional.of(VolumeFormat.RAW), Optional.empty(), 8 * Sizes.MIB);
        String ct = service.alloc("fast", 108, Optional.of(VolumeFormat.SUBVOL), Optional.empty(), 16 * Sizes.MIB);
        service.snapshot(vm, "a");
        service.snapshot(ct, "b");
        service.setNotes(vm, "to be removed");

        service.free(vm);
        service.free(ct);

        assertThat(mount.resolve("images/108")).doesNotExist();
        assertThat(ProcessRunner.of("btrfs", "subvolume", "list", mount.toString()).output()).doesNotContain("images/108");
        assertThat(service.list("fast", Optional.of(108), Optional.empty())).isEmpty();
    }

    @Test
    void listingShowsVmDisksAndContainerVolumesWithTheirSizes() {
        String vm = service.alloc("fast", 109, Optional.of(VolumeFormat.RAW), Optional.empty(), 8 * Sizes.MIB);
        String ct = service.alloc("fast", 109, Optional.of(VolumeFormat.SUBVOL), Optional.empty(), 24 * Sizes.MIB);
        service.snapshot(vm, "hidden");

        List<VolumeInfo> volumes = service.list("fast", Optional.of(109), Optional.empty());

        assertThat(volumes).extracting(VolumeInfo::volname, VolumeInfo::content, VolumeInfo::size).containsExactly(
                org.assertj.core.groups.Tuple.tuple("109/subvol-109-disk-1.subvol", ContentType.ROOTDIR, 24 * Sizes.MIB),
                org.assertj.core.groups.Tuple.tuple("109/vm-109-disk-0.raw", ContentType.IMAGES, 8 * Sizes.MIB));
        assertThat(service.list("fast", Optional.empty(), Optional.of(ContentType.ROOTDIR))).extracting(VolumeInfo::volname)
                .contains("109/subvol-109-disk-1.subvol").doesNotContain("109/vm-109-disk-0.raw");
        service.free(vm);
        service.free(ct);
    }

    @Test
    void vmDiskAndContainerRootfsCreatedThroughTheApiLandOnBtrfs() throws Exception {
        String content = "/nodes/pve1/storage/fast/content";

        Object vm = storage.call(org.corral.core.api.HttpVerb.POST, content, Map.of("vmid", "111", "filename", "vm-111-disk-0", "size", "16M"));
        Object ct = storage.call(org.corral.core.api.HttpVerb.POST, content, Map.of("vmid", "211", "filename", "subvol-211-disk-0.subvol",
                "size", "64M"));

        assertThat(vm).isEqualTo("fast:111/vm-111-disk-0.raw");
        assertThat(ct).isEqualTo("fast:211/subvol-211-disk-0.subvol");
        assertThat(mount.resolve("images/111/vm-111-disk-0/disk.raw")).hasSize(16 * Sizes.MIB);
        assertThat(Btrfs.isSubvolume(mount.resolve("images/211/subvol-211-disk-0.subvol"))).isTrue();
        assertThat(service.info((String) ct).size()).isEqualTo(64 * Sizes.MIB);
        storage.callVolume(TestStorage.ROOT, org.corral.core.api.HttpVerb.DELETE, "fast", (String) vm, Map.of("delay", "30"));
        storage.callVolume(TestStorage.ROOT, org.corral.core.api.HttpVerb.DELETE, "fast", (String) ct, Map.of("delay", "30"));
        assertThat(mount.resolve("images/111")).doesNotExist();
        assertThat(mount.resolve("images/211")).doesNotExist();
    }

    @Test
    void qcow2IsNotAFormatOfBtrfs() {
        assertThatThrownBy(() -> service.alloc("fast", 110, Optional.of(VolumeFormat.QCOW2), Optional.empty(), Sizes.MIB))
                .isInstanceOf(ApiException.class).hasMessageContaining("does not support format 'qcow2'");
    }
}
