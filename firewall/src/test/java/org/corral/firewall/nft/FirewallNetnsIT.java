package org.corral.firewall.nft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Clock;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.node.Node;
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
    private static final String VM_IP = NetnsTopology.VM_IP;
    private static final String CT_IP = NetnsTopology.CT_IP;
    private static final String HOST_BR = NetnsTopology.HOST_BR;
    private static final String HOST_UP = NetnsTopology.HOST_UP;
    private static final String ADMIN = NetnsTopology.ADMIN;
    private static final String BLACKLISTED = NetnsTopology.BLACKLISTED;
    private static final String VM_MAC = NetnsTopology.VM_MAC;
    private static String HOST;
    private static String VM;
    private static String CT;
    private static String OUT;

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
    private static NetnsTopology net;
    private static InMemoryConfigStore store;
    private static FirewallEnforcer enforcer;

    @BeforeAll
    static void topology() throws IOException {
        net = NetnsTopology.create(dir);
        HOST = net.host;
        VM = net.vm;
        CT = net.ct;
        OUT = net.out;
        net.serve(HOST, 8006, 80, 81);
        net.serve(VM, 80, 22, 81);
        net.serve(CT, 80, 81, 82);
        net.serve(OUT, 80, 9);

        store = new InMemoryConfigStore();
        store.overwrite(FirewallService.CLUSTER_FILE, CLUSTER_FW);
        store.overwrite(FirewallService.guestFile(100), VM_FW);
        store.overwrite(FirewallService.guestFile(101), CT_FW);
        store.overwrite("nodes/pve1/qemu-server/100.conf", NetnsTopology.VM_CONF);
        store.overwrite("nodes/pve1/lxc/101.conf", NetnsTopology.CT_CONF);
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
        if (net != null) {
            net.close();
        }
    }

    private static void sh(String... command) {
        NetnsTopology.sh(command);
    }

    private static int connect(String ns, String source, String dest, int port) {
        return net.connect(ns, source, dest, port);
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
        Process hold = net.peer(VM, "hold", VM_IP, CT_IP, "82");
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
