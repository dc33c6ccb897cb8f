package org.corral.storage.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.core.json.Json;
import org.corral.core.process.ProcessRunner;
import org.corral.storage.ContentType;
import org.corral.storage.Sizes;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;
import org.corral.storage.TestStorage;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The dir storage on a temporary directory, with real qemu-img. */
class DirPluginIT {
    @TempDir
    Path dir;

    private TestStorage storage;
    private StorageService service;

    @BeforeEach
    void start() {
        storage = new TestStorage(dir);
        service = storage.service();
        service.initialize();
    }

    @AfterEach
    void stop() {
        storage.close();
    }

    private Path file(String volid) {
        return service.path(volid).path().orElseThrow();
    }

    private static JsonNode info(Path image) {
        return Json.read(ProcessRunner.of("qemu-img", "info", "--output=json", image.toString()).output());
    }

    private static void qemuIo(Path image, String format, String command) {
        ProcessRunner.of("qemu-io", "-f", format, "-c", command, image.toString()).output();
    }

    @Test
    void freshNodeHasLocalDirStorageWithEveryContentType() {
        StorageConfig local = service.storage("local");

        assertThat(local.type()).isEqualTo("dir");
        assertThat(local.option("path")).contains(storage.node().dataDir().resolve("storage/local").toString());
        assertThat(local.content(service.plugin(local).capabilities())).containsExactlyInAnyOrder(ContentType.values());
        assertThat(service.state("local").active()).isTrue();
        assertThat(storage.node().dataDir().resolve("storage/local/template/iso")).isDirectory();
    }

    @Test
    void allocatesRawAndQcow2ImagesWithTheNextFreeDiskNumber() {
        String raw = service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.empty(), 64 * Sizes.MIB);
        String qcow2 = service.alloc("local", 100, Optional.of(VolumeFormat.QCOW2), Optional.empty(), 128 * Sizes.MIB);
        String vmdk = service.alloc("local", 100, Optional.of(VolumeFormat.VMDK), Optional.empty(), 32 * Sizes.MIB);

        assertThat(raw).isEqualTo("local:100/vm-100-disk-0.raw");
        assertThat(qcow2).isEqualTo("local:100/vm-100-disk-1.qcow2");
        assertThat(vmdk).isEqualTo("local:100/vm-100-disk-2.vmdk");
        assertThat(file(qcow2)).isEqualTo(storage.node().dataDir().resolve("storage/local/images/100/vm-100-disk-1.qcow2"));
        assertThat(info(file(raw)).path("virtual-size").asLong()).isEqualTo(64 * Sizes.MIB);
        assertThat(info(file(qcow2)).path("format").asString()).isEqualTo("qcow2");
        assertThat(info(file(vmdk)).path("virtual-size").asLong()).isEqualTo(32 * Sizes.MIB);
        assertThat(service.owner(qcow2)).contains(100);
        assertThat(service.list("local", Optional.of(100), Optional.of(ContentType.IMAGES)))
                .extracting(VolumeInfo::volname, VolumeInfo::size)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("100/vm-100-disk-0.raw", 64 * Sizes.MIB),
                        org.assertj.core.groups.Tuple.tuple("100/vm-100-disk-1.qcow2", 128 * Sizes.MIB),
                        org.assertj.core.groups.Tuple.tuple("100/vm-100-disk-2.vmdk", 32 * Sizes.MIB));
    }

    @Test
    void namedAllocationOfAnExistingDiskIsAConflict() {
        service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.of("vm-100-disk-5"), Sizes.MIB);

        assertThatThrownBy(() -> service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.of("vm-100-disk-5.raw"), Sizes.MIB))
                .isInstanceOf(Conflict.class).hasMessageContaining("already exists");
        assertThatThrownBy(() -> service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.of("vm-101-disk-0"), Sizes.MIB))
                .isInstanceOf(ApiException.class).hasMessageContaining("should be 'vm-100-*'");
    }

    @Test
    void sparseRawIsThinAndFullPreallocationIsThick() {
        String sparse = service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.empty(), 256 * Sizes.MIB);
        Path thickDir = dir.resolve("thick");
        service.updateConfig(cfg -> cfg.with(new StorageConfig("dir", "thick", Map.of("path", thickDir.toString(),
                "content", "images", "preallocation", "full"))));
        String thick = service.alloc("thick", 100, Optional.of(VolumeFormat.RAW), Optional.empty(), 16 * Sizes.MIB);

        VolumeInfo thin = service.info(sparse);
        VolumeInfo full = service.info(thick);
        assertThat(thin.size()).isEqualTo(256 * Sizes.MIB);
        assertThat(thin.used().orElseThrow()).isLessThan(Sizes.MIB);
        assertThat(full.size()).isEqualTo(16 * Sizes.MIB);
        assertThat(full.used().orElseThrow()).isGreaterThanOrEqualTo(16 * Sizes.MIB);
    }

    @Test
    void thickAllocationLargerThanFreeSpaceIsRefusedButThinIsNot() {
        Path thickDir = dir.resolve("thick");
        service.updateConfig(cfg -> cfg.with(new StorageConfig("dir", "thick", Map.of("path", thickDir.toString(),
                "content", "images", "preallocation", "falloc"))));
        long avail = service.state("thick").status().orElseThrow().avail();

        assertThatThrownBy(() -> service.alloc("thick", 100, Optional.of(VolumeFormat.RAW), Optional.empty(), avail + Sizes.GIB))
                .isInstanceOf(ApiException.class).hasMessageContaining("not enough space on storage 'thick'");
        assertThat(service.list("thick", Optional.empty(), Optional.empty())).isEmpty();
        String thin = service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.empty(), avail + Sizes.GIB);
        assertThat(service.info(thin).size()).isEqualTo(Sizes.roundUpToKiB(avail + Sizes.GIB));
        service.free(thin);
    }

    @Test
    void resizeGrowsAndNeverShrinks() {
        String raw = service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.empty(), 32 * Sizes.MIB);
        String qcow2 = service.alloc("local", 100, Optional.of(VolumeFormat.QCOW2), Optional.empty(), 32 * Sizes.MIB);

        service.resize(raw, 48 * Sizes.MIB);
        service.resize(qcow2, 64 * Sizes.MIB);

        assertThat(info(file(raw)).path("virtual-size").asLong()).isEqualTo(48 * Sizes.MIB);
        assertThat(info(file(qcow2)).path("virtual-size").asLong()).isEqualTo(64 * Sizes.MIB);
        assertThatThrownBy(() -> service.resize(qcow2, 16 * Sizes.MIB)).isInstanceOf(ApiException.class)
                .hasMessageContaining("shrinking disks is not supported");
        assertThat(info(file(qcow2)).path("virtual-size").asLong()).isEqualTo(64 * Sizes.MIB);
    }

    @Test
    void qcow2SnapshotRollbackRestoresContent() {
        String qcow2 = service.alloc("local", 100, Optional.of(VolumeFormat.QCOW2), Optional.empty(), 16 * Sizes.MIB);
        qemuIo(file(qcow2), "qcow2", "write -P 0xab 0 1M");

        service.snapshot(qcow2, "before");
        qemuIo(file(qcow2), "qcow2", "write -P 0xcd 0 1M");
        service.rollback(qcow2, "before");

        qemuIo(file(qcow2), "qcow2", "read -P 0xab 0 1M");
        assertThat(QemuImg.snapshots(file(qcow2))).containsExactly("before");
        service.deleteSnapshot(qcow2, "before");
        assertThat(QemuImg.snapshots(file(qcow2))).isEmpty();
    }

    @Test
    void rawImagesHaveNoSnapshotsOnDir() {
        String raw = service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.empty(), Sizes.MIB);

        assertThatThrownBy(() -> service.snapshot(raw, "snap1")).hasMessageContaining("does not support snapshot for raw volumes");
    }

    @Test
    void linkedCloneReadsThroughTheBaseImage() {
        String vm = service.alloc("local", 100, Optional.of(VolumeFormat.QCOW2), Optional.empty(), 16 * Sizes.MIB);
        qemuIo(file(vm), "qcow2", "write -P 0x5a 0 2M");

        String base = service.createBase(vm);
        String clone = service.clone(base, 101, Optional.empty());

        assertThat(base).isEqualTo("local:100/base-100-disk-0.qcow2");
        assertThat(clone).isEqualTo("local:100/base-100-disk-0.qcow2/101/vm-101-disk-0.qcow2");
        assertThat(info(file(clone)).path("backing-filename").asString()).isEqualTo("../100/base-100-disk-0.qcow2");
        qemuIo(file(clone), "qcow2", "read -P 0x5a 0 2M");
        assertThat(Files.isWritable(file(base))).isEqualTo(isRoot());
        assertThat(service.list("local", Optional.of(101), Optional.empty())).singleElement()
                .satisfies(v -> {
                    assertThat(v.volname()).isEqualTo("100/base-100-disk-0.qcow2/101/vm-101-disk-0.qcow2");
                    assertThat(v.parent()).contains("base-100-disk-0.qcow2");
                });
        assertThatThrownBy(() -> service.free(base)).isInstanceOf(Conflict.class).hasMessageContaining("still in use by linked clone");
        service.free(clone);
        service.free(base);
        assertThat(service.list("local", Optional.empty(), Optional.of(ContentType.IMAGES))).isEmpty();
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    @Test
    void containerVolumeOnDirIsASubvolDirectory() {
        String subvol = service.alloc("local", 200, Optional.of(VolumeFormat.SUBVOL), Optional.empty(), 0);

        VolumeLocation location = service.path(subvol);
        assertThat(subvol).isEqualTo("local:200/subvol-200-disk-0.subvol");
        assertThat(location.kind()).isEqualTo(VolumeLocation.Kind.DIRECTORY);
        assertThat(location.path().orElseThrow()).isDirectory();
        assertThat(service.list("local", Optional.of(200), Optional.of(ContentType.ROOTDIR))).extracting(VolumeInfo::volname)
                .containsExactly("200/subvol-200-disk-0.subvol");
    }

    @Test
    void freeRemovesTheImageItsNotesAndTheEmptyVmDirectory() {
        String raw = service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.empty(), Sizes.MIB);
        service.setNotes(raw, "system disk");
        Path image = file(raw);

        service.free(raw);

        assertThat(image).doesNotExist();
        assertThat(image.resolveSibling("vm-100-disk-0.raw.notes")).doesNotExist();
        assertThat(image.getParent()).doesNotExist();
    }

    @Test
    void protectedVolumesCannotBeFreed() {
        String raw = service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.empty(), Sizes.MIB);
        service.setProtected(raw, true);

        assertThatThrownBy(() -> service.free(raw)).isInstanceOf(Conflict.class).hasMessageContaining("protected");
        service.setProtected(raw, false);
        service.free(raw);
    }

    @Test
    void exportAndImportCopyTheImageWithItsSize() {
        String raw = service.alloc("local", 100, Optional.of(VolumeFormat.RAW), Optional.empty(), 2 * Sizes.MIB);
        qemuIo(file(raw), "raw", "write -P 0x11 4096 64k");
        ByteArrayOutputStream stream = new ByteArrayOutputStream();

        service.exportVolume(raw, "raw+size", Optional.empty(), Optional.empty(), stream);
        String copy = service.importVolume("local:102/vm-102-disk-0.raw", "raw+size", new ByteArrayInputStream(stream.toByteArray()));

        assertThat(copy).isEqualTo("local:102/vm-102-disk-0.raw");
        assertThat(file(copy)).hasSameBinaryContentAs(file(raw));
        assertThatThrownBy(() -> service.exportVolume(raw, "btrfs", Optional.empty(), Optional.empty(), stream))
                .hasMessageContaining("can't export or import 'btrfs'");
    }
}
