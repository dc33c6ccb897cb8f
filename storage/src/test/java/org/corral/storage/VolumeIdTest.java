package org.corral.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class VolumeIdTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            # volname                                          | content  | name                     | vmid | format | base                   | baseVmid | isBase
            100/vm-100-disk-0.qcow2                            | IMAGES   | vm-100-disk-0.qcow2      | 100  | qcow2  | -                      | -        | false
            100/vm-100-disk-12.raw                             | IMAGES   | vm-100-disk-12.raw       | 100  | raw    | -                      | -        | false
            100/base-100-disk-0.vmdk                           | IMAGES   | base-100-disk-0.vmdk     | 100  | vmdk   | -                      | -        | true
            101/subvol-101-disk-0.subvol                       | IMAGES   | subvol-101-disk-0.subvol | 101  | subvol | -                      | -        | false
            100/vm-100-cloudinit.qcow2                         | IMAGES   | vm-100-cloudinit.qcow2   | 100  | qcow2  | -                      | -        | false
            100/base-100-disk-0.qcow2/101/vm-101-disk-0.qcow2  | IMAGES   | vm-101-disk-0.qcow2      | 101  | qcow2  | base-100-disk-0.qcow2  | 100      | false
            iso/debian-12.5.0-amd64-netinst.iso                | ISO      | debian-12.5.0-amd64-netinst.iso | - | -  | -                      | -        | false
            iso/tiny.IMG                                       | ISO      | tiny.IMG                 | -    | -      | -                      | -        | false
            vztmpl/debian-12-standard_12.2-1_amd64.tar.zst     | VZTMPL   | debian-12-standard_12.2-1_amd64.tar.zst | - | - | -               | -        | false
            backup/vzdump-qemu-100-2026_01_01-00_00_00.vma.zst | BACKUP   | vzdump-qemu-100-2026_01_01-00_00_00.vma.zst | 100 | - | -           | -        | false
            backup/vzdump-lxc-105-2026_01_01-00_00_00.tar.zst  | BACKUP   | vzdump-lxc-105-2026_01_01-00_00_00.tar.zst | 105 | - | -            | -        | false
            backup/manual.tar                                  | BACKUP   | manual.tar               | -    | -      | -                      | -        | false
            snippets/user-data.yaml                            | SNIPPETS | user-data.yaml           | -    | -      | -                      | -        | false
            import/appliance.ova                               | IMPORT   | appliance.ova            | -    | -      | -                      | -        | false
            """)
    void fileVolumeNamesParse(String volname, ContentType content, String name, Integer vmid, String format, String base,
            Integer baseVmid, boolean isBase) {
        Volume volume = VolumeNames.parseFileVolume(volname);

        assertThat(volume.content()).isEqualTo(content);
        assertThat(volume.name()).isEqualTo(name);
        assertThat(volume.vmid()).isEqualTo(Optional.ofNullable(vmid));
        assertThat(volume.format().map(VolumeFormat::proxmoxName)).isEqualTo(Optional.ofNullable(format));
        assertThat(volume.baseName()).isEqualTo(Optional.ofNullable(base));
        assertThat(volume.baseVmid()).isEqualTo(Optional.ofNullable(baseVmid));
        assertThat(volume.isBase()).isEqualTo(isBase);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            vm-100-disk-0                   | vm-100-disk-0    | 100 | raw    | -               | false
            base-100-disk-1                 | base-100-disk-1  | 100 | raw    | -               | true
            subvol-200-disk-0               | subvol-200-disk-0| 200 | subvol | -               | false
            base-100-disk-0/vm-101-disk-0   | vm-101-disk-0    | 101 | raw    | base-100-disk-0 | false
            vm-999999999-cloudinit          | vm-999999999-cloudinit | 999999999 | raw | -      | false
            """)
    void blockVolumeNamesParse(String volname, String name, int vmid, String format, String base, boolean isBase) {
        Volume volume = VolumeNames.parseBlockVolume(volname);

        assertThat(volume.name()).isEqualTo(name);
        assertThat(volume.vmid()).contains(vmid);
        assertThat(volume.requireFormat().proxmoxName()).isEqualTo(format);
        assertThat(volume.baseName()).isEqualTo(Optional.ofNullable(base));
        assertThat(volume.isBase()).isEqualTo(isBase);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "100/vm-101-disk-0.raw",            // disk of another VM in VM 100's directory
        "100/vm-100-disk-0",                // no format suffix
        "100/vm-100-disk-0.img",            // unknown image format
        "100/subvol-100-disk-0.raw",        // subvol name with a file format
        "100/vm-100-disk-0.subvol",         // subvol format without subvol name
        "100/vm-100-disk-0.qcow2/101/vm-101-disk-0.qcow2", // linked clone of a non-base volume
        "iso/readme.txt",                   // wrong extension for the content type
        "vztmpl/template.zip",
        "unknown/file.iso",
        "99/vm-99-disk-0.raw",              // VMIDs start at 100
        "images/100/vm-100-disk-0.raw"})
    void malformedFileVolumeNamesAreRefused(String volname) {
        assertThatThrownBy(() -> VolumeNames.parseFileVolume(volname)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void volumeIdsSplitStorageAndVolumeName() {
        VolumeId id = VolumeId.parse("local-lvm:vm-100-disk-0");

        assertThat(id.storage()).isEqualTo("local-lvm");
        assertThat(id.volname()).isEqualTo("vm-100-disk-0");
        assertThat(id.toString()).isEqualTo("local-lvm:vm-100-disk-0");
        assertThat(VolumeId.parse("local:iso/a.iso").volname()).isEqualTo("iso/a.iso");
        assertThatThrownBy(() -> VolumeId.parse("no-colon")).hasMessageContaining("unable to parse volume ID");
        assertThatThrownBy(() -> VolumeId.parse("UPPER:iso/a.iso")).hasMessageContaining("illegal characters");
    }

    @Test
    void diskNamesKnowPrefixVmidAndNumber() {
        DiskName disk = DiskName.parse("vm-100-disk-3").orElseThrow();

        assertThat(disk.prefix()).isEqualTo(DiskName.Prefix.VM);
        assertThat(disk.vmid()).isEqualTo(100);
        assertThat(disk.diskNumber()).hasValue(3);
        assertThat(disk.withPrefix(disk.prefix().asBase()).toString()).isEqualTo("base-100-disk-3");
        assertThat(DiskName.disk(105, 0, true).toString()).isEqualTo("subvol-105-disk-0");
        assertThat(DiskName.cloudinit(100).toString()).isEqualTo("vm-100-cloudinit");
        assertThat(DiskName.cloudinit(100).diskNumber()).isEmpty();
        assertThat(DiskName.parse("vm-100")).isEmpty();
        assertThat(DiskName.parse("disk-100-vm-0")).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            local-lvm:32 | local-lvm | 34359738368
            local:0.5    | local     | 536870912
            local:0      | local     | 0
            8            | -         | 8589934592
            """)
    void newDiskSyntaxGivesStorageAndBytes(String text, String storage, long bytes) {
        NewDisk disk = NewDisk.parse(text).orElseThrow();

        assertThat(disk.storage()).isEqualTo(Optional.ofNullable(storage));
        assertThat(disk.sizeBytes()).isEqualTo(bytes);
    }

    @Test
    void existingVolumesAreNotNewDisks() {
        assertThat(NewDisk.parse("local:100/vm-100-disk-0.qcow2")).isEmpty();
        assertThat(NewDisk.parse("local:-1")).isEmpty();
        assertThat(NewDisk.parse("local:32G")).isEmpty();
        assertThat(NewDisk.matches("local-lvm:4")).isTrue();
        assertThat(new NewDisk(Optional.of("x1"), new BigDecimal("0.0001")).sizeBytes()).isEqualTo(105 * 1024);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = """
            1024, 1048576
            4M, 4194304
            2G, 2147483648
            1T, 1099511627776
            """)
    void allocationSizesDefaultToKib(String text, long bytes) {
        assertThat(Sizes.parseKiBDefault(text)).isEqualTo(bytes);
    }

    @Test
    void unparsableSizesAreRefused() {
        assertThatThrownBy(() -> Sizes.parseKiBDefault("1.5G")).hasMessageContaining("unable to parse size");
        assertThatThrownBy(() -> Sizes.parseKiBDefault("999999999999999T")).hasMessageContaining("too large");
    }
}
