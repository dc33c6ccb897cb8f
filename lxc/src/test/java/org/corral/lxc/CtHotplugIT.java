package org.corral.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.corral.core.api.HttpVerb;
import org.corral.core.io.FileTrees;
import org.corral.core.process.ProcessRunner;
import org.corral.lxc.config.CtConfig;
import org.corral.lxc.config.CtConfigCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** NICs added, moved, pulled and removed while the container runs, as pct does; what can't change live waits. */
class CtHotplugIT {
    private static final int CT = 9231;

    private Path work;
    private Fixtures.TestBridge first;
    private Fixtures.TestBridge second;
    private TestLxc lxc;

    @BeforeEach
    void setUp() throws Exception {
        work = Fixtures.workDir("corral-lxc-hotplug");
        first = new Fixtures.TestBridge("corrhp1", "10.253.1.1/24");
        second = new Fixtures.TestBridge("corrhp2", "10.253.2.1/24");
        lxc = new TestLxc(work).addStorage("local", "dir", work.resolve("local"));
        lxc.withBusyboxTemplate("local");
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (lxc != null) {
                lxc.close();
                lxc.service().driver().forget(CT);
            }
        } finally {
            first.close();
            second.close();
            FileTrees.deleteTree(work);
        }
    }

    @SuppressWarnings("unchecked")
    private String exec(String command) throws Exception {
        return (String) ((Map<String, Object>) lxc.call(HttpVerb.POST, lxc.ct(CT) + "/exec", Map.of("command", command))).get("stdout");
    }

    private CtConfig config() {
        return CtConfigCodec.parse(lxc.store().read(lxc.configPath(CT)).orElseThrow().text());
    }

    private static String master(String bridge) {
        return ProcessRunner.of("ip", "-o", "link", "show", "master", bridge).output();
    }

    @Test
    void nicsOfARunningContainerArePluggedMovedAndUnpluggedAtOnce() throws Exception {
        lxc.run(HttpVerb.POST, "/nodes/pve1/lxc", Map.of("vmid", Integer.toString(CT), "ostemplate", "local:vztmpl/busybox.tar.gz",
                "rootfs", "local:0", "memory", "64", "start", "1"));

        lxc.call(HttpVerb.PUT, lxc.ct(CT) + "/config", Map.of("net1", "name=eth1,bridge=" + first.name() + ",ip=10.253.1.10/24,gw=10.253.1.1"));
        assertThat(config().pending().options()).isEmpty();
        assertThat(config().main().get("net1")).isPresent();
        assertThat(exec("ip -4 addr show eth1 | grep -o 10.253.1.10/24")).isEqualTo("10.253.1.10/24\n");
        assertThat(master(first.name())).contains("veth" + CT + "i1");
        assertThat(exec("ping -c 1 -W 2 10.253.1.1 >/dev/null && echo reachable")).isEqualTo("reachable\n");

        // another bridge: the host end moves, the container keeps its interface
        String net1 = config().main().get("net1").orElseThrow();
        lxc.call(HttpVerb.PUT, lxc.ct(CT) + "/config", Map.of("net1", net1.replace(first.name(), second.name())));
        assertThat(config().pending().options()).isEmpty();
        assertThat(master(second.name())).contains("veth" + CT + "i1");
        assertThat(master(first.name())).doesNotContain("veth" + CT + "i1");

        // the link pulled inside; an address change waits for the next start
        String moved = config().main().get("net1").orElseThrow();
        lxc.call(HttpVerb.PUT, lxc.ct(CT) + "/config", Map.of("net1", moved + ",link_down=1"));
        assertThat(exec("ip -o link show eth1")).doesNotContain(",UP");
        lxc.call(HttpVerb.PUT, lxc.ct(CT) + "/config", Map.of("net1", moved.replace("10.253.1.10", "10.253.1.11")));
        assertThat(config().pending().get("net1")).isPresent();
        lxc.call(HttpVerb.PUT, lxc.ct(CT) + "/config", Map.of("revert", "net1"));

        // removed: the interface leaves the container and the host end is gone
        lxc.call(HttpVerb.PUT, lxc.ct(CT) + "/config", Map.of("delete", "net1"));
        assertThat(config().main().get("net1")).isEmpty();
        assertThat(config().pending().options()).isEmpty();
        assertThat(exec("ls /sys/class/net")).doesNotContain("eth1");
        assertThat(Files.exists(Path.of("/sys/class/net/veth" + CT + "i1"))).isFalse();

        lxc.run(HttpVerb.POST, lxc.ct(CT) + "/status/stop", Map.of());
        lxc.run(HttpVerb.DELETE, lxc.ct(CT), Map.of("purge", "1"));
    }
}
