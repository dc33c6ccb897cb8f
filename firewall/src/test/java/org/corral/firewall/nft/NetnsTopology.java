package org.corral.firewall.nft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;

/**
 * The network namespaces the firewall's integration tests run real packets in: a host namespace
 * with bridge {@code br0}, VM 100 on port {@code tap100i0} and container 101 on
 * {@code veth101i0} (each a namespace at the other end of a veth pair), and an outside
 * namespace routed through the host's {@code up0}. Names carry a random suffix, so test classes
 * that run at the same time each have their own.
 */
final class NetnsTopology implements AutoCloseable {
    static final String VM_IP = "10.77.0.11";
    static final String CT_IP = "10.77.0.12";
    static final String HOST_BR = "10.77.0.1";
    static final String HOST_UP = "10.78.0.1";
    static final String ADMIN = "10.78.0.2";
    static final String BLACKLISTED = "10.78.0.3";
    static final String VM_MAC = "02:00:00:00:01:00";
    static final String CT_MAC = "02:00:00:00:01:01";
    static final String VM_CONF = "memory: 512\nnet0: virtio=" + VM_MAC + ",bridge=br0,firewall=1\n";
    static final String CT_CONF = "hostname: ct\nnet0: name=eth0,bridge=br0,hwaddr=" + CT_MAC + ",ip=" + CT_IP
            + "/24,firewall=1,type=veth\n";

    final String host;
    final String vm;
    final String ct;
    final String out;
    private final Path peer;
    private final List<Process> processes = new ArrayList<>();

    private NetnsTopology(Path dir) throws IOException {
        String suffix = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        host = "fwh" + suffix;
        vm = "fwa" + suffix;
        ct = "fwb" + suffix;
        out = "fwo" + suffix;
        peer = dir.resolve("peer.py");
        try (InputStream in = NetnsTopology.class.getResourceAsStream("peer.py")) {
            Files.write(peer, in.readAllBytes());
        }
    }

    /** Builds the namespaces (skipping the test without root, ip, nft or python3). */
    static NetnsTopology create(Path dir) throws IOException {
        assumeTrue(ProcessRunner.available("ip") && ProcessRunner.available("nft") && ProcessRunner.available("python3")
                && "root".equals(System.getProperty("user.name")), "needs root, ip, nft and python3");
        NetnsTopology t = new NetnsTopology(dir);
        try {
            t.build();
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    List<String> namespaces() {
        return List.of(host, vm, ct, out);
    }

    private void build() {
        for (String ns : namespaces()) {
            sh("ip", "netns", "add", ns);
            sh("ip", "-n", ns, "link", "set", "lo", "up");
        }
        sh("ip", "-n", host, "link", "add", "br0", "type", "bridge");
        sh("ip", "-n", host, "addr", "add", HOST_BR + "/24", "dev", "br0");
        sh("ip", "-n", host, "link", "set", "br0", "up");
        guest(vm, "tap100i0", VM_MAC, VM_IP);
        guest(ct, "veth101i0", CT_MAC, CT_IP);
        sh("ip", "link", "add", "up0", "netns", host, "type", "veth", "peer", "name", "eth0", "netns", out);
        sh("ip", "-n", host, "addr", "add", HOST_UP + "/24", "dev", "up0");
        sh("ip", "-n", host, "link", "set", "up0", "up");
        sh("ip", "-n", out, "addr", "add", ADMIN + "/24", "dev", "eth0");
        sh("ip", "-n", out, "addr", "add", BLACKLISTED + "/24", "dev", "eth0");
        sh("ip", "-n", out, "link", "set", "eth0", "up");
        sh("ip", "-n", out, "route", "add", "default", "via", HOST_UP);
        sh("ip", "netns", "exec", host, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        // off here: the enforcer must switch br_netfilter on (in this namespace only) for guest rules to work
        sh("ip", "netns", "exec", host, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0");
    }

    private void guest(String ns, String port, String mac, String ip) {
        sh("ip", "link", "add", port, "netns", host, "type", "veth", "peer", "name", "eth0", "netns", ns);
        sh("ip", "-n", ns, "link", "set", "eth0", "address", mac);
        sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0");
        sh("ip", "-n", ns, "link", "set", "eth0", "up");
        sh("ip", "-n", ns, "route", "add", "default", "via", HOST_BR);
        sh("ip", "-n", host, "link", "set", port, "master", "br0");
        sh("ip", "-n", host, "link", "set", port, "up");
    }

    static void sh(String... command) {
        ProcessRunner.of(command).timeout(Duration.ofSeconds(20)).run().check();
    }

    /** A peer in {@code ns} answering TCP and UDP on each port. */
    void serve(String ns, int... ports) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, "python3", "-S", peer.toString(), "serve"));
        for (int port : ports) {
            argv.add(Integer.toString(port));
        }
        Process process = new ProcessBuilder(argv).redirectErrorStream(true).start();
        processes.add(process);
        String ready = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8)).readLine();
        assertEquals("ready", ready, "peer in " + ns + " did not start");
    }

    /** A started peer process in {@code ns} ({@code hold}, {@code probe}), stopped with the topology. */
    Process peer(String ns, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, "python3", "-S", peer.toString()));
        argv.addAll(List.of(args));
        Process process = new ProcessBuilder(argv).redirectErrorStream(true).start();
        processes.add(process);
        return process;
    }

    /** A started program in {@code ns}, stopped with the topology. */
    Process peerless(String ns, String... command) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        argv.addAll(List.of(command));
        Process process = new ProcessBuilder(argv).redirectErrorStream(true).start();
        processes.add(process);
        return process;
    }

    /** 0 answered, 2 refused (REJECT), 3 no answer (DROP). */
    int connect(String ns, String source, String dest, int port) {
        ProcessResult result = ProcessRunner.of("ip", "netns", "exec", ns, "python3", "-S", peer.toString(), "connect", source, dest,
                Integer.toString(port), "0.5").timeout(Duration.ofSeconds(10)).run();
        return result.exitCode();
    }

    @Override
    public void close() {
        processes.forEach(Process::destroyForcibly);
        for (String ns : namespaces()) {
            // the veth pairs and the bridge go with their namespaces
            ProcessRunner.of("ip", "netns", "del", ns).timeout(Duration.ofSeconds(20)).run();
        }
    }
}
