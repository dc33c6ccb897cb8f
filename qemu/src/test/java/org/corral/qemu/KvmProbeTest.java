package org.corral.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvmProbeTest {
    @TempDir
    Path dir;

    @Test
    void probeGuestRunsToTheEndUnderTcg() throws Exception {
        // /dev/null stands in for a device that opens; TCG shows the boot sector itself works
        KvmProbe probe = new KvmProbe(Path.of("/dev/null"), QemuCommandLine.QEMU, "tcg", Duration.ofSeconds(10), dir);
        assertThat(probe.verdict().usable()).as(probe.verdict().reason()).isTrue();
        assertThat(Files.list(dir)).isEmpty();
    }

    @Test
    void missingDeviceIsNotUsableAndSaysWhy() {
        KvmProbe probe = new KvmProbe(dir.resolve("kvm"), QemuCommandLine.QEMU, "kvm", Duration.ofSeconds(1), dir);
        assertThat(probe.verdict()).isEqualTo(new KvmProbe.Verdict(false, dir.resolve("kvm") + " does not exist"));
        assertThat(KvmProbe.refusal(probe.verdict())).startsWith("KVM virtualisation configured, but not available: ")
                .contains("does not exist").contains("kvm: 0");
    }

    @Test
    void guestThatNeverPrintsIsNotUsable() {
        // 'true' exits at once without printing anything, as a hung or failing KVM guest prints nothing
        KvmProbe probe = new KvmProbe(Path.of("/dev/null"), "true", "kvm", Duration.ofSeconds(1), dir);
        assertThat(probe.verdict().usable()).isFalse();
        assertThat(probe.verdict().reason()).contains("did not run");
    }

    @Test
    void verdictIsProbedOnce() {
        KvmProbe probe = new KvmProbe(dir.resolve("kvm"), QemuCommandLine.QEMU, "kvm", Duration.ofSeconds(1), dir);
        assertThat(probe.verdict()).isSameAs(probe.verdict());
    }
}
