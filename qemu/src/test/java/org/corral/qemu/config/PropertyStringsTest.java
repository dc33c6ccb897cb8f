package org.corral.qemu.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PropertyStringsTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "local:100/vm-100-disk-0.qcow2,size=32G,iothread=1,cache=none | local:100/vm-100-disk-0.qcow2,cache=none,iothread=1,size=32G",
        "file=local:iso/x.iso,media=cdrom | local:iso/x.iso,media=cdrom",
        "none,media=cdrom | none,media=cdrom",
        "local:100/vm-100-disk-0.raw,size=34359738368,ssd=yes,discard=on | local:100/vm-100-disk-0.raw,discard=on,size=32G,ssd=1",
        "local:100/vm-100-disk-0.raw,size=1536M | local:100/vm-100-disk-0.raw,size=1536M",
    })
    void drivesAreWrittenFileFirstThenSortedWithCanonicalSizes(String input, String expected) {
        assertThat(Drive.parse("scsi0", input).print()).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1 | virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1",
        "model=e1000,macaddr=BC:24:11:AA:BB:CC,tag=5,bridge=vmbr0 | e1000=BC:24:11:AA:BB:CC,bridge=vmbr0,tag=5",
        "virtio,bridge=vmbr0 | virtio,bridge=vmbr0",
        "rtl8139=bc:24:11:aa:bb:cc,rate=12.5,link_down=1 | rtl8139=bc:24:11:aa:bb:cc,link_down=1,rate=12.5",
    })
    void nicsAreWrittenAsModelEqualsMacThenSorted(String input, String expected) {
        assertThat(NetDevice.parse("net0", input).print()).isEqualTo(expected);
    }

    @Test
    void unknownDriveKeyIsNamed() {
        assertThatThrownBy(() -> Drive.parse("scsi0", "local:100/vm-100-disk-0.raw,bogus=1"))
                .hasMessageContaining("invalid key 'bogus'");
    }

    @Test
    void badValueNamesItsKey() {
        assertThatThrownBy(() -> Drive.parse("scsi0", "local:100/vm-100-disk-0.raw,cache=fast"))
                .hasMessageStartingWith("cache:");
        assertThatThrownBy(() -> NetDevice.parse("net0", "virtio=01:00:00:00:00:01"))
                .hasMessageContaining("macaddr");
    }

    @Test
    void ssdIsRefusedOnVirtioAsInProxmox() {
        assertThatThrownBy(() -> Drive.parse("virtio0", "local:100/vm-100-disk-0.raw,ssd=1")).hasMessageContaining("'ssd'");
    }

    @Test
    void sizesUseTheLargestExactUnit() {
        assertThat(Sizes.format(1024L * 1024 * 1024)).isEqualTo("1G");
        assertThat(Sizes.format(1536L * 1024 * 1024)).isEqualTo("1536M");
        assertThat(Sizes.format(4L * 1024 * 1024 * 1024 * 1024)).isEqualTo("4T");
        assertThat(Sizes.format(1000)).isEqualTo("1000");
        assertThat(Sizes.parse("0.5G")).isEqualTo(512L * 1024 * 1024);
        assertThat(Sizes.resizeTarget("+1G", Sizes.GIB)).isEqualTo(2 * Sizes.GIB);
    }

    @Test
    void generatedMacsUseTheProxmoxPrefixOrTheConfiguredOne() {
        MacAddresses macs = new MacAddresses();
        String mac = macs.generate(Optional.empty());
        assertThat(mac).startsWith("BC:24:11:").matches("([0-9A-F]{2}:){5}[0-9A-F]{2}");
        assertThat(macs.generate(Optional.of("aa:bb"))).startsWith("AA:BB:");
        assertThat(macs.generate(Optional.of("02:"))).startsWith("02:");
        assertThat(MacAddresses.isValidUnicast(mac)).isTrue();
    }
}
