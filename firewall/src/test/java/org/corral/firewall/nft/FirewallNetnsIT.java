package org.corral.firewall.nft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.node.Node;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.corral.firewall.FirewallService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compiled ruleset against real packets: a host namespace with a bridge, VM 100 on port
 * {@code tap100i0} and container 101 on {@code veth101i0} (each a namespace at the other end of a
 * veth pair), and an outside namespace routed through the host. The enforcer runs nft inside the
 * host namespace only, driven by the config-store watch as in the daemon.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FirewallNetnsIT {
    private static final String SUFFIX = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    private static final String HOST = "fwh" + SUFFIX;
    private static final String VM = "fwa" + SUFFIX;
    private static final String CT = "fwb" + SUFFIX;
    private static final String OUT = "fwo" + SUFFIX;
    private static final List<String> NAMESPACES = List.of(HOST, VM, CT, OUT);
    private static final String VM_IP = "10.77.0.11";
    private static final String CT_IP = "10.77.0.12";
    private static final String HOST_BR = "10.77.0.1";
    private static final String HOST_UP = "10.78.0.1";
    private static final String ADMIN = "10.78.0.2";
    private static final String BLACKLISTED = "10.78.0.3";
    private static final String VM_MAC = "02:00:00:00:01:00";
    private static final String CT_MAC = "02:00:00:00:01:01";

    private static final String CLUSTER_FW = """
            [OPTIONS]
            enable: 1

            [ALIASES]
            local_network 10.99.99.0/24

            [IPSET management]
            %s

            [IPSET blacklist]
            %s

            [group webgroup]
            IN ACCEPT -p tcp -dport 80
            """.formatted(ADMIN, BLACKLISTED);
    private static final String VM_FW = """
            [OPTIONS]
            enable: 1
            ipfilter: 1

            [IPSET ipfilter-net0]
            %s

            [RULES]
            GROUP webgroup
            IN ACCEPT -p tcp -dport 22
            """.formatted(VM_IP);
    private static final String CT_FW = """
            [OPTIONS]
            enable: 1
            policy_in: REJECT

            [RULES]
            IN ACCEPT -p tcp -dport 80
            IN ACCEPT -p tcp -dport 82
            OUT DROP -p tcp -dport 9
            """;

    @TempDir
    static Path dir;
    private static final List<Process> servers = new ArrayList<>();
    private static InMemoryConfigStore store;
    private static FirewallEnforcer enforcer;
    private static Path peer;

    @BeforeAll
    static void topology() throws IOException {
        assumeTrue(ProcessRunner.available("ip") && ProcessRunner.available("nft") && ProcessRunner.available("python3")
                && "root".equals(System.getProperty("user.name")), "needs root, ip, nft and python3");
        peer = dir.resolve("peer.py");
        try (InputStream in = FirewallNetnsIT.class.getResourceAsStream("peer.py")) {
            Files.write(peer, in.readAllBytes());
        }
        for (String ns : NAMESPACES) {
            sh("ip", "netns", "add", ns);
            sh("ip", "-n", ns, "link", "set", "lo", "up");
        }
        sh("ip", "-n", HOST, "link", "add", "br0", "type", "bridge");
        sh("ip", "-n", HOST, "addr", "add", HOST_BR + "/24", "dev", "br0");
        sh("ip", "-n", HOST, "link", "set", "br0", "up");
        guest(VM, "tap100i0", VM_MAC, VM_IP);
        guest(CT, "veth101i0", CT_MAC, CT_IP);
        sh("ip", "link", "add", "up0", "netns", HOST, "type", "veth", "peer", "name", "eth0", "netns", OUT);
        sh("ip", "-n", HOST, "addr", "add", HOST_UP + "/24", "dev", "up0");
        sh("ip", "-n", HOST, "link", "set", "up0", "up");
        sh("ip", "-n", OUT, "addr", "add", ADMIN + "/24", "dev", "eth0");
        sh("ip", "-n", OUT, "addr", "add", BLACKLISTED + "/24", "dev", "eth0");
        sh("ip", "-n", OUT, "link", "set", "eth0", "up");
        sh("ip", "-n", OUT, "route", "add", "default", "via", HOST_UP);
        sh("ip", "netns", "exec", HOST, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        // off here: the enforcer must switch br_netfilter on (in this namespace only) for guest rules to work
        sh("ip", "netns", "exec", HOST, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0");
        serve(HOST, 8006, 80, 81);
        serve(VM, 80, 22, 81);
        serve(CT, 80, 81, 82);
        serve(OUT, 80, 9);

        store = new InMemoryConfigStore();
        store.overwrite(FirewallService.CLUSTER_FILE, CLUSTER_FW);
        store.overwrite(FirewallService.guestFile(100), VM_FW);
        store.overwrite(FirewallService.guestFile(101), CT_FW);
        store.overwrite("nodes/pve1/qemu-server/100.conf", "memory: 512\nnet0: virtio=" + VM_MAC + ",bridge=br0,firewall=1\n");
        store.overwrite("nodes/pve1/lxc/101.conf", "hostname: ct\nnet0: name=eth0,bridge=br0,hwaddr=" + CT_MAC
                + ",ip=" + CT_IP + "/24,firewall=1,type=veth\n");
        Node node = new Node("pve1", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 8006, new Node.ZooKeeperPorts(0, 0, 0));
        enforcer = new FirewallEnforcer(new FirewallService(node, store), NftApplier.inNamespace(HOST),
                new NftCompiler(Services.system()), Clock.systemUTC());
        enforcer.start();
        awaitGeneration(1);
        assertEquals(FirewallEnforcer.State.APPLIED, enforcer.status().state(), enforcer.status().message());
        assertEquals("1", ProcessRunner.of("ip", "netns", "exec", HOST, "sysctl", "-n", "net.bridge.bridge-nf-call-iptables")
                .output().strip(), "bridged traffic passes the inet hooks");
    }

    @AfterAll
    static void cleanUp() {
        if (enforcer != null) {
            enforcer.close();
        }
        servers.forEach(Process::destroyForcibly);
        if (!ProcessRunner.available("ip")) {
            return;
        }
        for (String ns : NAMESPACES) {
            // the veth pairs and the bridge go with their namespaces
            ProcessRunner.of("ip", "netns", "del", ns).timeout(java.time.Duration.ofSeconds(20)).run();
        }
    }

    private static void guest(String ns, String port, String mac, String ip) {
        sh("ip", "link", "add", port, "netns", HOST, "type", "veth", "peer", "name", "eth0", "netns", ns);
        sh("ip", "-n", ns, "link", "set", "eth0", "address", mac);
        sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0");
        sh("ip", "-n", ns, "link", "set", "eth0", "up");
        sh("ip", "-n", ns, "route", "add", "default", "via", HOST_BR);
        sh("ip", "-n", HOST, "link", "set", port, "master", "br0");
        sh("ip", "-n", HOST, "link", "set", port, "up");
    }

    private static void sh(String... command) {
        ProcessRunner.of(command).timeout(java.time.Duration.ofSeconds(20)).run().check();
    }

    private static void serve(String ns, int... ports) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, "python3", "-S", peer.toString(), "serve"));
        for (int port : ports) {
            argv.add(Integer.toString(port));
        }
        Process process = new ProcessBuilder(argv).redirectErrorStream(true).start();
        servers.add(process);
        String ready = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8)).readLine();
        assertEquals("ready", ready, "peer in " + ns + " did not start");
    }

    /** 0 answered, 2 refused (REJECT), 3 no answer (DROP). */
    private static int connect(String ns, String source, String dest, int port) {
        ProcessResult result = ProcessRunner.of("ip", "netns", "exec", ns, "python3", "-S", peer.toString(), "connect", source, dest,
                Integer.toString(port), "0.5").timeout(java.time.Duration.ofSeconds(10)).run();
        return result.exitCode();
    }

    private static void awaitGeneration(long generation) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (enforcer.status().generation() < generation && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Test
    @Order(1)
    void policiesAndSecurityGroup() {
        assertEquals(0, connect(CT, CT_IP, VM_IP, 80), "ct -> vm:80 allowed by security group webgroup");
        assertEquals(0, connect(CT, CT_IP, VM_IP, 22), "ct -> vm:22 allowed by the vm's rule");
        assertEquals(3, connect(CT, CT_IP, VM_IP, 81), "ct -> vm:81 dropped by the vm's policy_in DROP");
        assertEquals(0, connect(VM, VM_IP, CT_IP, 80), "vm -> ct:80 allowed");
        assertEquals(2, connect(VM, VM_IP, CT_IP, 81), "vm -> ct:81 rejected (policy_in REJECT sends a reset)");
        assertEquals(0, connect(OUT, ADMIN, VM_IP, 80), "routed outside -> vm:80 allowed");
        assertEquals(3, connect(OUT, ADMIN, VM_IP, 81), "routed outside -> vm:81 dropped in the bridge output hook");
        assertEquals(0, connect(HOST, HOST_BR, VM_IP, 80), "host -> vm:80 allowed");
        assertEquals(3, connect(HOST, HOST_BR, VM_IP, 81), "host -> vm:81 dropped");
        assertEquals(0, connect(CT, CT_IP, ADMIN, 80), "ct -> outside:80 allowed (policy_out ACCEPT)");
        assertEquals(3, connect(CT, CT_IP, ADMIN, 9), "ct -> outside:9 dropped by the ct's OUT rule");
        assertEquals(3, connect(VM, VM_IP, HOST_BR, 80), "vm -> host:80 dropped by the datacenter's policy_in DROP");
    }

    @Test
    @Order(2)
    void managementAndBlacklist() {
        assertEquals(0, connect(OUT, ADMIN, HOST_UP, 8006), "management -> API port allowed");
        assertEquals(3, connect(OUT, ADMIN, HOST_UP, 81), "management -> other host ports dropped");
        assertEquals(3, connect(OUT, BLACKLISTED, HOST_UP, 8006), "blacklisted -> API port dropped");
        assertEquals(3, connect(OUT, BLACKLISTED, VM_IP, 80), "blacklisted -> vm:80 dropped");
        assertEquals(3, connect(VM, VM_IP, HOST_BR, 8006), "a guest outside the management set can't reach the API");
    }

    @Test
    @Order(3)
    void ipfilterStopsSpoofedSourceAddresses() {
        sh("ip", "-n", VM, "addr", "add", "10.77.0.50/24", "dev", "eth0");
        try {
            assertEquals(3, connect(VM, "10.77.0.50", CT_IP, 80), "spoofed source dropped by ipfilter");
            assertEquals(0, connect(VM, VM_IP, CT_IP, 80), "own address still allowed");
        } finally {
            sh("ip", "-n", VM, "addr", "del", "10.77.0.50/24", "dev", "eth0");
        }
        // the container has no ipfilter: another address of its own passes
        sh("ip", "-n", CT, "addr", "add", "10.77.0.51/24", "dev", "eth0");
        try {
            assertEquals(0, connect(CT, "10.77.0.51", VM_IP, 80), "no ipfilter on the container");
        } finally {
            sh("ip", "-n", CT, "addr", "del", "10.77.0.51/24", "dev", "eth0");
        }
    }

    @Test
    @Order(4)
    void macFilterStopsSpoofedSourceMac() {
        sh("ip", "-n", VM, "link", "set", "eth0", "address", "02:00:00:00:0a:0a");
        try {
            assertEquals(3, connect(VM, VM_IP, CT_IP, 80), "frames from another MAC are dropped");
        } finally {
            sh("ip", "-n", VM, "link", "set", "eth0", "address", VM_MAC);
        }
        assertEquals(0, connect(VM, VM_IP, CT_IP, 80), "own MAC allowed again");
    }

    @Test
    @Order(5)
    void configWriteTakesEffectWithinOneSecond() {
        assertEquals(2, connect(VM, VM_IP, CT_IP, 81), "rejected before the edit");
        long generation = enforcer.status().generation();
        long start = System.nanoTime();
        store.overwrite(FirewallService.guestFile(101), CT_FW + "IN ACCEPT -p tcp -dport 81\n");
        awaitGeneration(generation + 1);
        // in force once the watch's apply returns: nft has committed the transaction by then
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(FirewallEnforcer.State.APPLIED, enforcer.status().state(), enforcer.status().message());
        assertEquals(0, connect(VM, VM_IP, CT_IP, 81), "vm -> ct:81 allowed after the edit");
        assertTrue(millis <= 1000, "took effect after " + millis + " ms");
        System.out.println("config write took effect after " + millis + " ms; apply " + enforcer.status().millis() + " ms");
    }

    @Test
    @Order(6)
    void establishedConnectionSurvivesUnrelatedEdit() throws IOException, InterruptedException {
        Process hold = new ProcessBuilder("ip", "netns", "exec", VM, "python3", "-S", peer.toString(), "hold", VM_IP, CT_IP, "82")
                .redirectErrorStream(true).start();
        try {
            BufferedReader answers = new BufferedReader(new InputStreamReader(hold.getInputStream(), UTF_8));
            OutputStream ask = hold.getOutputStream();
            assertEquals("connected", answers.readLine());
            ask.write("one\n".getBytes(UTF_8));
            ask.flush();
            assertEquals("ok one", answers.readLine());
            long generation = enforcer.status().generation();
            // unrelated: the VM's file gets a rule for another port; the whole batch is reloaded
            store.overwrite(FirewallService.guestFile(100), VM_FW + "IN ACCEPT -p tcp -dport 443\n");
            awaitGeneration(generation + 1);
            assertEquals(FirewallEnforcer.State.APPLIED, enforcer.status().state(), enforcer.status().message());
            ask.write("two\n".getBytes(UTF_8));
            ask.flush();
            assertEquals("ok two", answers.readLine(), "the connection survived the reload");
            // the edit went in as a delta of the VM's chains; the kernel holds what a full load gives
            String afterDelta = NftApplier.inNamespace(HOST).nft("list", "ruleset");
            NftApplier.inNamespace(HOST).apply(new NftCompiler(Services.system()).compile(enforcer.inputs()).json());
            assertEquals(NftApplier.inNamespace(HOST).nft("list", "ruleset"), afterDelta);
        } finally {
            hold.destroyForcibly().waitFor();
        }
    }

    @Test
    @Order(7)
    void ipsetEditIsLoadedAsADeltaOfTheSet() {
        assertEquals(0, connect(OUT, ADMIN, VM_IP, 80));
        String before = NftApplier.inNamespace(HOST).nft("list", "chain", "inet", "corral", "input");
        long generation = enforcer.status().generation();
        store.overwrite(FirewallService.CLUSTER_FILE, CLUSTER_FW.replace(BLACKLISTED + "\n", BLACKLISTED + "\n10.78.0.0/30\n"));
        awaitGeneration(generation + 1);
        assertEquals(FirewallEnforcer.State.APPLIED, enforcer.status().state(), enforcer.status().message());
        assertEquals(3, connect(OUT, ADMIN, VM_IP, 80), "the blacklist's new network covers the admin now");
        assertEquals(before, NftApplier.inNamespace(HOST).nft("list", "chain", "inet", "corral", "input"), "only the set changed");
        generation = enforcer.status().generation();
        store.overwrite(FirewallService.CLUSTER_FILE, CLUSTER_FW);
        awaitGeneration(generation + 1);
        assertEquals(0, connect(OUT, ADMIN, VM_IP, 80), "and is allowed again once it is removed");
    }

    @Test
    @Order(8)
    void refusedBatchKeepsOldRulesetAndReportsIt() {
        String before = NftApplier.inNamespace(HOST).nft("list", "table", "inet", "corral");
        NftApplier applier = NftApplier.inNamespace(HOST);
        String broken = "{\"nftables\":[{\"delete\":{\"table\":{\"family\":\"inet\",\"name\":\"corral\"}}},"
                + "{\"add\":{\"table\":{\"family\":\"inet\",\"name\":\"corral\"}}},"
                + "{\"add\":{\"rule\":{\"family\":\"inet\",\"table\":\"corral\",\"chain\":\"nosuchchain\",\"expr\":[{\"accept\":null}]}}}]}";
        NftApplier.NftException e = org.junit.jupiter.api.Assertions.assertThrows(NftApplier.NftException.class,
                () -> applier.apply(broken));
        assertTrue(e.getMessage().contains("refused"), e.getMessage());
        assertEquals(before, NftApplier.inNamespace(HOST).nft("list", "table", "inet", "corral"), "old ruleset still in force");
        assertEquals(0, connect(CT, CT_IP, VM_IP, 80), "and still enforced");
    }

    @Test
    @Order(9)
    void disablingTheDatacenterRemovesCorralTables() {
        long generation = enforcer.status().generation();
        store.overwrite(FirewallService.CLUSTER_FILE, CLUSTER_FW.replace("enable: 1", "enable: 0"));
        awaitGeneration(generation + 1);
        assertEquals(FirewallEnforcer.State.DISABLED, enforcer.status().state(), enforcer.status().message());
        assertEquals(0, connect(CT, CT_IP, VM_IP, 81), "nothing filtered any more");
        String ruleset = NftApplier.inNamespace(HOST).nft("list", "ruleset");
        assertTrue(!ruleset.contains("corral"), ruleset);
    }
}
