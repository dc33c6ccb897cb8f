package org.corral.server.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostStatusTest {
    @TempDir
    Path dir;

    private void stat(long user, long system, long idle, long iowait) throws Exception {
        Files.writeString(dir.resolve("proc/stat"), "cpu  %d 0 %d %d %d 0 0 0 0 0\ncpu0 1 2 3 4\n".formatted(user, system, idle, iowait));
    }

    @Test
    void cpuWaitAndIdleAreSharesOfTheTimeBetweenSamples() throws Exception {
        Files.createDirectories(dir.resolve("proc"));
        HostStatus host = new HostStatus(dir.resolve("proc"), dir.resolve("sys"), dir);
        stat(1000, 0, 9000, 0);
        assertThat(host.cpuShares().orElseThrow().cpu()).isCloseTo(0.1, within(1e-9)); // since boot
        // a window of 10000 jiffies: 5000 busy, 2000 iowait, 3000 idle
        stat(4000, 2000, 12000, 2000);
        HostStatus.CpuShares shares = host.cpuShares().orElseThrow();
        assertThat(shares.cpu()).isCloseTo(0.5, within(1e-9));
        assertThat(shares.iowait()).isCloseTo(0.2, within(1e-9));
        assertThat(shares.idle()).isCloseTo(0.3, within(1e-9));
    }

    @Test
    void ksmIsReportedInBytesAndLeftOutWithoutKsm() throws Exception {
        HostStatus host = new HostStatus(dir.resolve("proc"), dir.resolve("sys"), dir);
        assertThat(host.ksmShared()).isEmpty();
        assertThat(host.cpuShares()).isEmpty();
        Files.createDirectories(dir.resolve("sys/kernel/mm/ksm"));
        Files.writeString(dir.resolve("sys/kernel/mm/ksm/pages_sharing"), "25\n");
        assertThat(host.ksmShared()).contains(25L * 4096);
    }
}
