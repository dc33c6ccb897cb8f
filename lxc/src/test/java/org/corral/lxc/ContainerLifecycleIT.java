package org.corral.lxc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.corral.core.cgroup.CgroupHost;
import org.corral.core.api.HttpVerb;
import org.corral.core.console.ConsoleKind;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.error.Conflict;
import org.corral.core.error.PermissionDenied;
import org.corral.core.io.FileTrees;
import org.corral.core.process.ProcessRunner;
import org.corral.lxc.config.CtConfigCodec;
import org.corral.lxc.config.CtSection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real unprivileged containers from the busybox template through the API: create on btrfs with
 * 256 MiB and one core on a test bridge, start, exec, console, shutdown, snapshot and rollback,
 * template, linked clone, delete with purge. Everything made is removed again, also on failure.
 */
class ContainerLifecycleIT {
    private static final int CT = 9201;
    private static final int CLONE = 9202;
    private static final String PASSWORD = "corral-secret";

    private Path work;
    private Fixtures.BtrfsLoop btrfs;
    private Fixtures.TestBridge bridge;
    private TestLxc lxc;

    @BeforeEach
    void setUp() throws Exception {
        work = Fixtures.workDir("corral-lxc-it");
        btrfs = new Fixtures.BtrfsLoop(work, 768L << 20);
        bridge = new Fixtures.TestBridge("corrit0", "10.252.0.1/24");
        lxc = new TestLxc(work).addStorage("local", "dir", work.resolve("local")).addStorage("tank", "btrfs", btrfs.mountPoint());
        lxc.withBusyboxTemplate("local");
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (lxc != null) {
                lxc.close();
                lxc.service().driver().forget(CT);
                lxc.service().driver().forget(CLONE);
            }
        } finally {
            try {
                if (bridge != null) {
                    bridge.close();
                }
            } finally {
                try {
                    if (btrfs != null) {
                        btrfs.close();
                    }
                } finally {
                    FileTrees.deleteTree(work);
                }
            }
        }
    }

    private String ct(int vmid) {
        return lxc.ct(vmid);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> exec(int vmid, String command) throws Exception {
        return (Map<String, Object>) lxc.call(HttpVerb.POST, ct(vmid) + "/exec", Map.of("command", command));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> status(int vmid) throws Exception {
        return (Map<String, Object>) lxc.call(HttpVerb.GET, ct(vmid) + "/status/current", Map.of());
    }

    private Path memoryLimitFile(int vmid) {
        HostFacts host = lxc.service().driver().host();
        return host.cgroups() == CgroupHost.Layout.V1
                ? host.cgroupRoot().resolve("memory/lxc/" + vmid + "/memory.limit_in_bytes")
                : host.cgroupRoot().resolve("lxc/" + vmid + "/memory.max");
    }

    @Test
    void unprivilegedContainerLivesItsWholeLifeOnBtrfs() throws Exception {
        // create: 256 MiB, one core, rootfs on btrfs with a size limit, net0 on the test bridge
        lxc.run(HttpVerb.POST, "/nodes/pve1/lxc", Map.of("vmid", Integer.toString(CT), "ostemplate", "local:vztmpl/busybox.tar.gz",
                "rootfs", "tank:0.25", "memory", "256", "swap", "0", "cores", "1", "hostname", "web1", "password", PASSWORD,
                "net0", "name=eth0,bridge=" + bridge.name() + ",ip=10.252.0.10/24,gw=10.252.0.1", "cmode", "tty"));
        CtSection conf = CtConfigCodec.parse(lxc.store().read(lxc.configPath(CT)).orElseThrow().text()).main();
        assertThat(conf.options()).containsEntry("unprivileged", "1").containsEntry("ostype", "unmanaged")
                .containsEntry("memory", "256").containsEntry("hostname", "web1").doesNotContainKey("lock");
        assertThat(conf.get("rootfs").orElseThrow()).matches("tank:9201/subvol-9201-disk-0\\.subvol,size=256M");
        Path rootfs = lxc.storage().path(conf.get("rootfs").orElseThrow().split(",")[0]);
        assertThat(Files.getAttribute(rootfs.resolve("bin/busybox"), "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(100000);
        assertThat(Files.readString(rootfs.resolve("etc/shadow"))).startsWith("root:$5$");

        // start, and see the container from inside and from the host
        lxc.run(HttpVerb.POST, ct(CT) + "/status/start", Map.of());
        Map<String, Object> id = exec(CT, "id -u");
        assertThat(id).containsEntry("exitcode", 0).containsEntry("stdout", "0\n");
        Map<String, Object> running = status(CT);
        assertThat(running).containsEntry("status", "running").containsEntry("maxmem", 256L << 20).containsEntry("name", "web1");
        long pid = ((Number) running.get("pid")).longValue();
        assertThat(Files.getAttribute(Path.of("/proc/" + pid), "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(100000);
        assertThat(Files.readString(memoryLimitFile(CT)).trim()).isEqualTo(Long.toString(256L << 20));
        assertThat(exec(CT, "hostname; ip -4 addr show eth0 | grep -o 10.252.0.10/24").get("stdout")).isEqualTo("web1\n10.252.0.10/24\n");
        assertThat(exec(CT, "echo oops >&2; exit 3")).containsEntry("exitcode", 3).containsEntry("stderr", "oops\n");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> ifaces = (List<Map<String, Object>>) lxc.call(HttpVerb.GET, ct(CT) + "/interfaces", Map.of());
        assertThat(ifaces).anySatisfy(i -> assertThat(i).containsEntry("name", "eth0").containsEntry("inet", "10.252.0.10/24"));
        assertThat(exec(CT, "ping -c 1 -W 2 10.252.0.1 >/dev/null && echo reachable").get("stdout")).isEqualTo("reachable\n");

        // console: log in on tty1 with the password given at create, type a command, read its output
        @SuppressWarnings("unchecked")
        Map<String, Object> proxy = (Map<String, Object>) lxc.call(HttpVerb.POST, ct(CT) + "/termproxy", Map.of());
        assertThat(proxy).containsKeys("port", "ticket", "user", "upid").containsEntry("user", "root@pam");
        ConsoleProxies.Pending pending = (ConsoleProxies.Pending) lxc.call(HttpVerb.GET, ct(CT) + "/vncwebsocket",
                Map.of("port", proxy.get("port").toString(), "vncticket", (String) proxy.get("ticket")));
        assertThat(pending.kind()).isEqualTo(ConsoleKind.TERMINAL);
        assertThatThrownBy(() -> lxc.call(HttpVerb.GET, ct(CT) + "/vncwebsocket",
                Map.of("port", proxy.get("port").toString(), "vncticket", (String) proxy.get("ticket"))))
                .isInstanceOf(PermissionDenied.class);
        try (ConsoleClient console = new ConsoleClient(pending.backend().connect())) {
            console.type("\r");
            int at = console.await("login:", 0, Duration.ofSeconds(20));
            console.type("root\r");
            at = console.await("assword:", at, Duration.ofSeconds(10));
            console.type(PASSWORD + "\r");
            at = console.await("#", at, Duration.ofSeconds(10));
            console.type("echo console-$((6*7))\r");
            console.await("console-42", at, Duration.ofSeconds(10));
            console.connection().resize(120, 40);
            console.type("stty size\r");
            console.await("40 120", at, Duration.ofSeconds(10));
        }
        assertThat(lxc.await((String) proxy.get("upid")).exitstatus()).contains("OK");

        // a limit changed while running reaches the cgroup at once
        lxc.call(HttpVerb.PUT, ct(CT) + "/config", Map.of("memory", "320", "hostname", "web2"));
        assertThat(Files.readString(memoryLimitFile(CT)).trim()).isEqualTo(Long.toString(320L << 20));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> pendingList = (List<Map<String, Object>>) lxc.call(HttpVerb.GET, ct(CT) + "/pending", Map.of());
        assertThat(pendingList).anySatisfy(e -> assertThat(e).containsEntry("key", "hostname").containsEntry("pending", "web2"));

        // snapshot on btrfs, change a file, roll back: the file is back and the container runs again
        exec(CT, "echo before > /root/marker");
        lxc.run(HttpVerb.POST, ct(CT) + "/snapshot", Map.of("snapname", "snap1", "description", "first"));
        exec(CT, "echo after > /root/marker");
        lxc.run(HttpVerb.POST, ct(CT) + "/snapshot/snap1/rollback", Map.of("start", "1"));
        assertThat(exec(CT, "cat /root/marker").get("stdout")).isEqualTo("before\n");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> snaps = (List<Map<String, Object>>) lxc.call(HttpVerb.GET, ct(CT) + "/snapshot", Map.of());
        assertThat(snaps).extracting(m -> m.get("name")).containsExactly("snap1", "current");
        assertThat(lxc.store().read(lxc.configPath(CT)).orElseThrow().text()).contains("parent: snap1\n", "[snap1]\n#first\n");

        // shutdown with forceStop, then make it a template; its snapshot goes first
        lxc.run(HttpVerb.POST, ct(CT) + "/status/shutdown", Map.of("timeout", "10", "forceStop", "1"));
        assertThat(status(CT)).containsEntry("status", "stopped");
        lxc.run(HttpVerb.DELETE, ct(CT) + "/snapshot/snap1", Map.of());
        lxc.call(HttpVerb.POST, ct(CT) + "/template", Map.of());
        assertThatThrownBy(() -> lxc.call(HttpVerb.POST, ct(CT) + "/status/start", Map.of())).isInstanceOf(Conflict.class);

        // a linked clone on btrfs starts and stops
        lxc.run(HttpVerb.POST, ct(CT) + "/clone", Map.of("newid", Integer.toString(CLONE), "hostname", "clone1"));
        String cloneConf = lxc.store().read(lxc.configPath(CLONE)).orElseThrow().text();
        assertThat(cloneConf).contains("hostname: clone1\n", "rootfs: tank:9202/subvol-9202-disk-0.subvol").doesNotContain("template");
        lxc.run(HttpVerb.POST, ct(CLONE) + "/status/start", Map.of());
        assertThat(exec(CLONE, "cat /root/marker; hostname").get("stdout")).isEqualTo("before\nclone1\n");
        lxc.run(HttpVerb.POST, ct(CLONE) + "/status/stop", Map.of());
        assertThat(status(CLONE)).containsEntry("status", "stopped");

        // delete both with purge: no subvolume and no config remain
        lxc.run(HttpVerb.DELETE, ct(CLONE), Map.of("purge", "1"));
        lxc.run(HttpVerb.DELETE, ct(CT), Map.of("purge", "1", "destroy-unreferenced-disks", "1"));
        assertThat(lxc.store().list("nodes/pve1/lxc")).isEmpty();
        assertThat(lxc.allVolumes()).isEmpty();
        assertThat(ProcessRunner.of("btrfs", "subvolume", "list", btrfs.mountPoint().toString()).run().check().stdout()).isBlank();
        assertThat(lxc.service().driver().containerDir(CT)).doesNotExist();
    }

    @Test
    void containerKeepsRunningAcrossADaemonRestartAndIsManagedAgain() throws Exception {
        lxc.run(HttpVerb.POST, "/nodes/pve1/lxc", Map.of("vmid", Integer.toString(CT), "ostemplate", "local:vztmpl/busybox.tar.gz",
                "rootfs", "local:0", "memory", "128", "start", "1"));
        long pid = ((Number) status(CT).get("pid")).longValue();
        lxc.tasks().close();
        // a new daemon on the same node directory and config store
        TestLxc restarted = new TestLxc(work, lxc.store());
        try {
            assertThat(restarted.service().recover()).containsExactly(CT);
            @SuppressWarnings("unchecked")
            Map<String, Object> status = (Map<String, Object>) restarted.call(HttpVerb.GET, restarted.ct(CT) + "/status/current", Map.of());
            assertThat(status).containsEntry("status", "running").containsEntry("pid", pid);
            restarted.run(HttpVerb.POST, restarted.ct(CT) + "/status/shutdown", Map.of("timeout", "5", "forceStop", "1"));
            restarted.run(HttpVerb.DELETE, restarted.ct(CT), Map.of("purge", "1"));
            assertThat(lxc.allVolumes()).isEmpty();
        } finally {
            restarted.close();
        }
    }

    @Test
    void createThatFailsMidwayFreesItsVolumeAndWritesNoConfig() throws Exception {
        // a real tar header followed by garbage: it passes the quick check and fails while extracting
        Path broken = lxc.storage().templateDirectory("local").resolve("broken.tar.gz");
        byte[] good = Files.readAllBytes(Fixtures.busyboxTemplate());
        Files.write(broken, java.util.Arrays.copyOf(good, good.length / 3));
        String upid = (String) lxc.call(HttpVerb.POST, "/nodes/pve1/lxc", Map.of("vmid", Integer.toString(CT),
                "ostemplate", "local:vztmpl/broken.tar.gz", "rootfs", "tank:0.1"));
        assertThat(lxc.await(upid).exitstatus().orElseThrow()).startsWith("unable to create CT " + CT + " - ");
        assertThat(lxc.store().read(lxc.configPath(CT))).isEmpty();
        assertThat(lxc.allVolumes()).isEmpty();
    }

    @Test
    void vlanTagIsRefusedAtStartWhenTheKernelCannotHonourIt() throws Exception {
        lxc.run(HttpVerb.POST, "/nodes/pve1/lxc", Map.of("vmid", Integer.toString(CT), "ostemplate", "local:vztmpl/busybox.tar.gz",
                "rootfs", "local:0", "memory", "64", "net0", "name=eth0,bridge=" + bridge.name() + ",tag=42"));
        String upid = (String) lxc.call(HttpVerb.POST, ct(CT) + "/status/start", Map.of());
        String exit = lxc.await(upid).exitstatus().orElseThrow();
        assertThat(exit).contains("net0: VLAN tag 42");
        assertThat(status(CT)).containsEntry("status", "stopped");
        lxc.run(HttpVerb.DELETE, ct(CT), Map.of("purge", "1"));
    }
}
