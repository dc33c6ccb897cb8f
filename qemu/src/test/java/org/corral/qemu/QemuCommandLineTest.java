package org.corral.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.qemu.QemuCommandLine.ResolvedDrive;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmConfigCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Golden files as qemu-server's cfg2cmd tests: {@code NAME.conf} in, {@code NAME.cmd} (one argument a line) out. */
class QemuCommandLineTest {
    static final Pattern VOLUME = Pattern.compile("local:(\\d+)/(.+)");
    static final Pattern ISO = Pattern.compile("local:iso/(.+)");

    @TempDir
    Path ovmf;

    static String resource(String name) throws IOException {
        try (InputStream in = QemuCommandLineTest.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Resolves {@code local:} volumes to /var/lib/vz as Proxmox's default dir storage lays them out. */
    static ResolvedDrive resolve(Drive drive) {
        Matcher iso = ISO.matcher(drive.file());
        if (iso.matches()) {
            return new ResolvedDrive("/var/lib/vz/template/iso/" + iso.group(1), "raw", true);
        }
        Matcher m = VOLUME.matcher(drive.file());
        if (!m.matches()) {
            throw new IllegalArgumentException(drive.key() + ": unknown volume " + drive.file());
        }
        String name = m.group(2);
        return new ResolvedDrive("/var/lib/vz/images/" + m.group(1) + "/" + name, name.substring(name.lastIndexOf('.') + 1), true);
    }

    List<String> build(String name) throws IOException {
        Files.writeString(ovmf.resolve("OVMF_CODE_4M.fd"), "");
        Files.writeString(ovmf.resolve("OVMF_CODE.fd"), "");
        VmConfig config = VmConfigCodec.parse(resource("/cfg2cmd/" + name + ".conf"));
        return QemuCommandLine.build(100, config, new VmPaths(Path.of("/run/corral/qemu-server"), 100),
                QemuCommandLineTest::resolve, new QemuCommandLine.Options(java.util.Optional.empty(), ovmf));
    }

    @ParameterizedTest
    @ValueSource(strings = {"minimal", "full-i440fx", "q35-ovmf", "legacy-boot", "kvm-host-cpu", "watchdog", "watchdog-ib700", "hotplugged"})
    void configTurnsIntoTheGoldenCommandLine(String name) throws IOException {
        List<String> expected = resource("/cfg2cmd/" + name + ".cmd").replace("@OVMF@", ovmf.toString()).lines().toList();
        assertThat(build(name)).containsExactlyElementsOf(expected);
    }

    @Test
    void pinnedMachineReplacesTheConfigsTypeAndKeepsItsChipset() throws IOException {
        Files.writeString(ovmf.resolve("OVMF_CODE_4M.fd"), "");
        VmConfig q35 = VmConfigCodec.parse(resource("/cfg2cmd/watchdog.conf"));
        List<String> pinned = QemuCommandLine.build(100, q35, new VmPaths(Path.of("/run/corral/qemu-server"), 100),
                QemuCommandLineTest::resolve, new QemuCommandLine.Options(java.util.Optional.empty(), ovmf).withMachine("pc-q35-7.1"));
        assertThat(pinned).containsSequence("-machine", "type=pc-q35-7.1")
                .contains("i82801b11-bridge,id=pcidmi,bus=pcie.0,addr=0x1e").doesNotContain("type=q35");
    }

    @Test
    void proxmoxMachineVersionsLoseTheirPveSuffix() {
        assertThat(QemuCommandLine.machineType(VmConfig.empty().with("machine", "pc-i440fx-8.1+pve0"))).isEqualTo("pc-i440fx-8.1");
        assertThat(QemuCommandLine.machineType(VmConfig.empty().with("machine", "type=q35,viommu=intel"))).isEqualTo("q35");
        assertThat(QemuCommandLine.machineType(VmConfig.empty())).isEqualTo("pc");
    }

    @Test
    void hostCpuWithoutKvmIsRefusedNamingTheOption() {
        VmConfig config = VmConfig.empty().with("kvm", "0").with("cpu", "host");
        assertThatThrownBy(() -> QemuCommandLine.build(100, config, new VmPaths(Path.of("/run"), 100),
                QemuCommandLineTest::resolve, QemuCommandLine.Options.defaults())).hasMessageStartingWith("cpu:");
    }

    @Test
    void argsAreSplitLikeAShell() {
        assertThat(QemuCommandLine.splitArgs("-no-reboot -smbios 'type=0,vendor=FOO BAR' \"a\\\"b\" c\\ d"))
                .containsExactly("-no-reboot", "-smbios", "type=0,vendor=FOO BAR", "a\"b", "c d");
    }

    @Test
    void showcmdQuotesWhatAShellWouldSplit() {
        assertThat(QemuCommandLine.shellJoin(List.of("qemu-system-x86_64", "-name", "a b,debug-threads=on"), false))
                .isEqualTo("qemu-system-x86_64 -name 'a b,debug-threads=on'");
    }
}
