package org.corral.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.qemu.config.VmConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The decision "plug now or keep pending" per option and hotplug setting, and the command line to QMP translation. */
class VmHotplugTest {
    static final String NET = "virtio=BC:24:11:00:00:01,bridge=vmbr0";

    static VmConfig vm(String... options) {
        Map<String, String> map = new java.util.TreeMap<>(Map.of("memory", "512", "scsihw", "virtio-scsi-pci"));
        for (int i = 0; i < options.length; i += 2) {
            map.put(options[i], options[i + 1]);
        }
        return VmConfig.of(map);
    }

    static Optional<String> add(VmConfig vm, String key, String value) {
        return VmHotplug.refusal(vm, key, Optional.empty(), Optional.of(value));
    }

    @Test
    void hotplugOptionDefaultsToNetworkDiskUsbAndZeroDisablesIt() {
        assertThat(VmHotplug.features(vm())).containsExactlyInAnyOrder("network", "disk", "usb");
        assertThat(VmHotplug.features(vm("hotplug", "1"))).containsExactlyInAnyOrder("network", "disk", "usb");
        assertThat(VmHotplug.features(vm("hotplug", "0"))).isEmpty();
        assertThat(VmHotplug.features(vm("hotplug", "disk,cpu"))).isEqualTo(Set.of("disk", "cpu"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "1|virtio1|local:100/vm-100-disk-1.raw|",
        "disk|scsi1|local:100/vm-100-disk-1.raw|",
        "network,disk|virtio3|local:100/vm-100-disk-1.raw,iothread=1|",
        "0|virtio1|local:100/vm-100-disk-1.raw|disk hotplug is not enabled (hotplug: 0)",
        "network|scsi1|local:100/vm-100-disk-1.raw|disk hotplug is not enabled (hotplug: network)",
        "1|ide1|local:100/vm-100-disk-1.raw|ide disks can't be hot-plugged",
        "1|sata1|local:100/vm-100-disk-1.raw|sata disks can't be hot-plugged",
        "1|virtio1|none,media=cdrom|only volumes and paths are hot-plugged, not 'none'",
        "1|scsi2|local:cloudinit,media=cdrom|only volumes and paths are hot-plugged, not 'local:cloudinit'",
        "1|virtio1|local:100/vm-100-disk-1.raw,snapshot=1|snapshot=1 disks can't be hot-plugged",
    })
    void addingADiskPlugsOnlyVirtioAndScsiWithDiskHotplug(String hotplug, String key, String value, String reason) {
        assertThat(add(vm("hotplug", hotplug), key, value)).isEqualTo(Optional.ofNullable(reason));
    }

    @Test
    void scsiDisksArePluggedOnlyOnVirtioScsi() {
        assertThat(add(vm("scsihw", "virtio-scsi-single"), "scsi3", "local:100/vm-100-disk-1.raw")).isEmpty();
        assertThat(add(vm("scsihw", "lsi"), "scsi3", "local:100/vm-100-disk-1.raw"))
                .contains("scsi hotplug needs a virtio-scsi controller (scsihw: lsi)");
        assertThat(VmHotplug.refusal(vm("scsihw", "megasas"), "scsi0", Optional.of("local:100/vm-100-disk-0.raw"), Optional.empty()))
                .contains("scsi hotplug needs a virtio-scsi controller (scsihw: megasas)");
    }

    @Test
    void removingADiskFollowsTheSameRules() {
        String disk = "local:100/vm-100-disk-1.raw";
        assertThat(VmHotplug.refusal(vm(), "virtio1", Optional.of(disk), Optional.empty())).isEmpty();
        assertThat(VmHotplug.refusal(vm("hotplug", "0"), "virtio1", Optional.of(disk), Optional.empty())).isPresent();
        assertThat(VmHotplug.refusal(vm(), "ide0", Optional.of(disk), Optional.empty())).contains("ide disks can't be hot-plugged");
        assertThat(VmHotplug.refusal(vm(), "virtio1", Optional.of(disk), Optional.of(disk + ",cache=unsafe")))
                .contains("changing the volume or options of a running disk needs a restart");
    }

    @Test
    void nicsArePluggedOnBridgesWithNetworkHotplug() {
        assertThat(add(vm(), "net1", NET)).isEmpty();
        assertThat(add(vm("hotplug", "disk"), "net1", NET)).contains("network hotplug is not enabled (hotplug: disk)");
        assertThat(add(vm("hotplug", "0"), "net1", NET)).isPresent();
        assertThat(add(vm(), "net1", "e1000=BC:24:11:00:00:01")).contains("only NICs on a bridge are hot-plugged");
        assertThat(add(vm(), "net1", "ne2k_isa=BC:24:11:00:00:01,bridge=vmbr0")).contains("ISA NICs can't be hot-plugged");
        assertThat(VmHotplug.refusal(vm("hotplug", "0"), "net1", Optional.of(NET), Optional.empty())).isPresent();
        assertThat(VmHotplug.refusal(vm(), "net1", Optional.of(NET), Optional.empty())).isEmpty();
    }

    @Test
    void bridgeVlanRateAndLinkChangeLiveEvenWithoutHotplugButModelAndMacWait() {
        VmConfig off = vm("hotplug", "0");
        Optional<String> before = Optional.of(NET);
        assertThat(VmHotplug.refusal(off, "net0", before, Optional.of(NET.replace("vmbr0", "vmbr1") + ",tag=5,rate=10"))).isEmpty();
        assertThat(VmHotplug.refusal(off, "net0", before, Optional.of(NET + ",link_down=1"))).isEmpty();
        assertThat(VmHotplug.refusal(vm(), "net0", before, Optional.of("e1000=BC:24:11:00:00:01,bridge=vmbr0")))
                .contains("changing model of a running NIC needs a restart");
        assertThat(VmHotplug.refusal(vm(), "net0", before, Optional.of("virtio=BC:24:11:00:00:02,bridge=vmbr0")))
                .contains("changing macaddr of a running NIC needs a restart");
        assertThat(VmHotplug.refusal(vm(), "net0", before, Optional.of("virtio=BC:24:11:00:00:01")))
                .contains("a NIC moves between bridges only, not to or from user networking");
    }

    @Test
    void qemuOptionsSplitOnSingleCommasOnly() {
        assertThat(VmHotplug.qemuOptions("scsi-hd,bus=scsihw0.0,drive=drive-scsi1,id=scsi1,product=a,,b"))
                .containsExactly(Map.entry("driver", "scsi-hd"), Map.entry("bus", "scsihw0.0"), Map.entry("drive", "drive-scsi1"),
                        Map.entry("id", "scsi1"), Map.entry("product", "a,b"));
        assertThat(VmHotplug.option(List.of("-device", "virtio-blk-pci,drive=drive-virtio1,id=virtio1", "-drive", "file=/x,id=drive-virtio1"),
                "-drive", "drive-virtio1")).contains("file=/x,id=drive-virtio1");
    }

    @Test
    void blockdevNodeIsNamedAsTheDriveAndKeepsItsCacheAndReadOnly() {
        Map<String, Object> node = VmHotplug.blockdev(VmHotplug.qemuOptions(
                "file=/var/lib/vz/images/100/vm-100-disk-1.qcow2,if=none,id=drive-scsi1,format=qcow2,cache=none,aio=native,"
                        + "discard=on,detect-zeroes=unmap,readonly=on"));
        assertThat(node).containsEntry("driver", "qcow2").containsEntry("node-name", "drive-scsi1").containsEntry("read-only", true)
                .containsEntry("discard", "unmap").containsEntry("detect-zeroes", "unmap")
                .containsEntry("cache", Map.of("direct", true, "no-flush", false));
        @SuppressWarnings("unchecked")
        Map<String, Object> file = (Map<String, Object>) node.get("file");
        assertThat(file).containsEntry("driver", "file").containsEntry("aio", "native")
                .containsEntry("filename", "/var/lib/vz/images/100/vm-100-disk-1.qcow2");
    }
}
