package org.corral.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.io.FileTrees;
import org.corral.core.process.ProcessRunner;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.template.TemplateArchive;
import org.junit.jupiter.api.Test;

/** The driver alone against real LXC: an unprivileged busybox container on a dir storage. */
class LxcDriverIT {
    @Test
    void unprivilegedContainerRunsAsMappedRootWithItsMemoryLimit() throws Exception {
        Path work = Fixtures.workDir("corral-lxc-driver");
        int vmid = 9101;
        TestLxc lxc = new TestLxc(work).addStorage("local", "dir", work.resolve("local"));
        ContainerStorage storage = lxc.storage();
        LxcDriver driver = lxc.service().driver();
        String volid = null;
        try (Fixtures.TestBridge bridge = new Fixtures.TestBridge("corrdrv0", "10.251.0.1/24")) {
            driver.prepareUnprivileged();
            volid = storage.allocate("local", vmid, 0);
            TemplateArchive.extract(Fixtures.busyboxTemplate(), storage.path(volid), true, Duration.ofMinutes(2));
            CtSection conf = CtSection.of(Map.of("unprivileged", "1", "memory", "256", "swap", "0", "cores", "1",
                    "hostname", "drv", "ostype", "unmanaged", "rootfs", volid + ",size=0T",
                    "net0", "name=eth0,bridge=" + bridge.name() + ",ip=10.251.0.2/24,gw=10.251.0.1,rate=5"));
            long t0 = System.nanoTime();
            driver.start(vmid, conf, line -> { }, Duration.ofSeconds(30));
            System.out.printf("start took %d ms%n", (System.nanoTime() - t0) / 1_000_000);

            assertThat(driver.state(vmid)).isEqualTo(LxcDriver.State.RUNNING);
            assertThat(driver.running()).contains(vmid);
            LxcDriver.ExecResult id = driver.exec(vmid, List.of("id", "-u"), Optional.empty(), Duration.ofSeconds(10), 4096);
            assertThat(id.exitCode()).isZero();
            assertThat(id.stdout().trim()).isEqualTo("0");
            long pid = driver.info(vmid).pid().orElseThrow();
            assertThat(Files.getAttribute(Path.of("/proc/" + pid), "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(100000);
            LxcDriver.Usage usage = driver.usage(vmid, conf).orElseThrow();
            assertThat(usage.pid()).isEqualTo(pid);
            assertThat(driver.host().container(vmid).stats().memoryLimit()).isEqualTo(256L << 20);
            LxcDriver.ExecResult ip = driver.exec(vmid, List.of("ip", "-4", "addr", "show", "eth0"), Optional.empty(),
                    Duration.ofSeconds(10), 4096);
            assertThat(ip.stdout()).contains("10.251.0.2/24");
            assertThat(ProcessRunner.of("tc", "qdisc", "show", "dev", "veth" + vmid + "i0").run().stdout()).contains("tbf");

            driver.shutdown(vmid, Duration.ofSeconds(10), true);
            assertThat(driver.state(vmid)).isEqualTo(LxcDriver.State.STOPPED);
        } finally {
            driver.stop(vmid);
            driver.forget(vmid);
            if (volid != null) {
                storage.free(volid);
            }
            lxc.close();
            FileTrees.deleteTree(work);
        }
    }
}
