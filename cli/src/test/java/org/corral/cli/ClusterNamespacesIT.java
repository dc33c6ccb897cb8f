package org.corral.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.corral.server.CorralDaemon;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 end to end: three `corral up` processes, each in its own network namespace on one test
 * bridge, form a cluster with `corral cluster` (root's verbs, with join tokens; a made-up token is
 * refused), and then python3-proxmoxer finds that they serve each other's calls: every node sees three members and a quorum, a user made on node 1 logs in on node 3,
 * and a VM made on node 2 through node 1 is read through node 3. Every link between nodes adds 20 ms each way (a
 * delaying proxy in each namespace), and no node shows offline; a 2|1 partition made with nft leaves the minority
 * read-only while the majority writes, and heals without a manual step.
 */
class ClusterNamespacesIT {
    private static final String PASSWORD = "cluster-e2e-admin-1";
    /** Added to every chunk between nodes, each way: sites 20 ms apart, 4x what Proxmox's corosync tolerates. */
    private static final int LINK_DELAY_MS = 20;

    @Test
    void threeNodesInTheirOwnNamespacesFormAClusterThroughProxmoxer() throws Exception {
        String tag = Integer.toString(ThreadLocalRandom.current().nextInt(100, 999));
        String bridge = "corrcl" + tag;
        String subnet = "10.79." + (Integer.parseInt(tag) % 250) + ".";
        Path base = Files.createTempDirectory(Path.of("/var/tmp"), "corral-cluster-e2e-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        List<Process> nodes = new ArrayList<>();
        List<Process> proxies = new ArrayList<>();
        List<String> namespaces = new ArrayList<>();
        List<String> addresses = new ArrayList<>();
        int port = 8006;
        try {
            E2e.quietly("ip", "link", "del", bridge);
            E2e.run("ip", "link", "add", bridge, "type", "bridge");
            E2e.run("ip", "addr", "add", subnet + "1/24", "dev", bridge);
            E2e.run("ip", "link", "set", bridge, "up");
            for (int i = 1; i <= 3; i++) {
                String ns = "corrcl" + tag + "n" + i;
                String address = subnet + (10 + i);
                E2e.run("ip", "netns", "add", ns);
                namespaces.add(ns);
                E2e.run("ip", "link", "add", "cc" + tag + "h" + i, "type", "veth", "peer", "name", "cc" + tag + "g" + i);
                E2e.run("ip", "link", "set", "cc" + tag + "g" + i, "netns", ns);
                E2e.run("ip", "link", "set", "cc" + tag + "h" + i, "master", bridge, "up");
                E2e.run("ip", "-n", ns, "addr", "add", address + "/24", "dev", "cc" + tag + "g" + i);
                E2e.run("ip", "-n", ns, "link", "set", "cc" + tag + "g" + i, "up");
                E2e.run("ip", "-n", ns, "link", "set", "lo", "up");
                addresses.add(address);
            }
            // slow links: every node's connections to the others go through a proxy in its namespace that
            // holds each chunk 20 ms in each direction (this kernel has no netem)
            Path delay = E2e.resource(base, "delay_proxy.py");
            for (int i = 1; i <= 3; i++) {
                String ns = namespaces.get(i - 1);
                String proxySource = subnet + (110 + i);
                E2e.run("ip", "-n", ns, "addr", "add", proxySource + "/24", "dev", "cc" + tag + "g" + i);
                Process proxy = new ProcessBuilder("ip", "netns", "exec", ns, "/usr/bin/python3", delay.toString(), "7777", proxySource,
                        Integer.toString(LINK_DELAY_MS)).redirectErrorStream(true).start();
                proxies.add(proxy);
                assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(proxy.getInputStream())).readLine()).isEqualTo("READY");
                List<String> others = new ArrayList<>(addresses);
                others.remove(i - 1);
                E2e.run("ip", "netns", "exec", ns, "nft", "add table ip slowlink; "
                        + "add chain ip slowlink out { type nat hook output priority -100; policy accept; }; "
                        + "add rule ip slowlink out ip saddr != " + proxySource + " ip daddr { " + String.join(", ", others)
                        + " } meta l4proto tcp redirect to :7777");
            }
            for (int i = 1; i <= 3; i++) {
                nodes.add(startNode(namespaces.get(i - 1), base.resolve("n" + i), addresses.get(i - 1), port, "pve" + i));
            }
            for (int i = 1; i <= 3; i++) {
                awaitReady(nodes.get(i - 1), base.resolve("n" + i));
            }
            // as on Proxmox, forming the cluster is root's: `corral cluster` with the node's local root credentials
            String create = cli(namespaces.get(0), base.resolve("n1"), "cluster", "create", "lab");
            awaitTask(namespaces.get(0), base.resolve("n1"), "pve1", upid(create));
            String fingerprint = tools.jackson.databind.json.JsonMapper.builder().build()
                    .readTree(Files.readString(CorralDaemon.localAccessFile(base.resolve("n1/data")))).path("fingerprint").asString();
            String wrongToken = cli(namespaces.get(1), base.resolve("n2"), "cluster", "join", addresses.get(0) + ":" + port,
                    "--fingerprint", fingerprint, "--token", "corral-join-made-up");
            assertThat(taskExit(namespaces.get(1), base.resolve("n2"), "pve2", upid(wrongToken))).contains("invalid or used join token");
            for (int i = 2; i <= 3; i++) {
                String token = java.util.regex.Pattern.compile("corral-join-[A-Za-z0-9_-]+")
                        .matcher(cli(namespaces.get(0), base.resolve("n1"), "cluster", "token")).results().findFirst().orElseThrow().group();
                String join = cli(namespaces.get(i - 1), base.resolve("n" + i), "cluster", "join", addresses.get(0) + ":" + port,
                        "--fingerprint", fingerprint, "--token", token);
                assertThat(taskExit(namespaces.get(i - 1), base.resolve("n" + i), "pve" + i, upid(join))).isEqualTo("OK");
            }
            // the delay is in force: a TLS 1.3 handshake and a request from pve1 to pve2 are two round trips
            String took = E2e.run("ip", "netns", "exec", namespaces.get(0), "/usr/bin/python3", "-c",
                    "import socket, ssl, time; t = time.time(); "
                    + "c = ssl._create_unverified_context().wrap_socket(socket.create_connection(('" + addresses.get(1) + "', " + port + "))); "
                    + "c.sendall(b'GET /api2/json/version HTTP/1.0\\r\\n\\r\\n'); c.recv(1); print(round(time.time() - t, 3))").strip();
            assertThat(Double.parseDouble(took)).as("seconds for a request from pve1 to pve2").isGreaterThanOrEqualTo(4 * LINK_DELAY_MS / 1000.0);
            Path script = E2e.resource(base, "cluster_e2e.py");
            String[] rest = {Integer.toString(port), PASSWORD, addresses.get(0), addresses.get(1), addresses.get(2)};
            assertThat(E2e.python(script, E2e.with("formed", rest))).contains("FORMED OK");

            // a 2|1 partition made with nft in pve3's namespace: it drops everything from and to pve1 and pve2
            String others = "{ " + addresses.get(0) + ", " + addresses.get(1) + ", " + subnet + "111, " + subnet + "112 }";
            E2e.run("ip", "netns", "exec", namespaces.get(2), "nft", "add table inet partition; "
                    + "add chain inet partition in { type filter hook input priority -10; policy accept; }; "
                    + "add chain inet partition out { type filter hook output priority -10; policy accept; }; "
                    + "add rule inet partition in ip saddr " + others + " drop; "
                    + "add rule inet partition out ip daddr " + others + " drop");
            assertThat(E2e.python(script, E2e.with("partitioned", rest))).contains("PARTITIONED OK");
            E2e.run("ip", "netns", "exec", namespaces.get(2), "nft", "delete table inet partition");
            assertThat(E2e.python(script, E2e.with("healed", rest))).contains("HEALED OK");
        } catch (AssertionError | Exception e) {
            for (int i = 1; i <= 3; i++) {
                E2e.printNodeLog(base.resolve("n" + i));
            }
            throw e;
        } finally {
            for (Process node : nodes) {
                node.destroyForcibly();
                node.waitFor(30, TimeUnit.SECONDS);
            }
            for (Process proxy : proxies) {
                proxy.destroyForcibly();
                proxy.waitFor(10, TimeUnit.SECONDS);
            }
            for (String ns : namespaces) {
                E2e.quietly("ip", "netns", "del", ns);
            }
            E2e.quietly("ip", "link", "del", bridge);
            E2e.deleteTree(base);
        }
    }

    /** {@code corral ARGS} inside {@code namespace} for the node in {@code dir}; answers its output. */
    private static String cli(String namespace, Path dir, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace, java, "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(args));
        command.addAll(List.of("--data-dir", dir.resolve("data").toString()));
        return E2e.run(command.toArray(String[]::new));
    }

    private static String upid(String output) {
        return java.util.regex.Pattern.compile("UPID:[^\\s\"]+").matcher(output).results().findFirst()
                .orElseThrow(() -> new AssertionError("no UPID in: " + output)).group();
    }

    /** The exit status of a task, once it ended; the node may restart meanwhile (a join). */
    private static String taskExit(String namespace, Path dir, String node, String upid) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            try {
                String out = cli(namespace, dir, "api", "get", "/nodes/" + node + "/tasks/" + upid + "/status", "--output-format", "json");
                var status = tools.jackson.databind.json.JsonMapper.builder().build().readTree(out.substring(out.indexOf('{')));
                if (status.path("status").asString().equals("stopped")) {
                    return status.path("exitstatus").asString();
                }
            } catch (java.io.IOException restarting) {
                // the node restarts its services at the end of a join
            }
            Thread.sleep(500);
        }
        throw new AssertionError("task " + upid + " did not end");
    }

    private static void awaitTask(String namespace, Path dir, String node, String upid) throws Exception {
        assertThat(taskExit(namespace, dir, node, upid)).isEqualTo("OK");
    }

    /** {@code corral up} inside {@code namespace}, bound to its address there. */
    private static Process startNode(String namespace, Path dir, String address, int port, String name) throws Exception {
        Path dataDir = Files.createDirectories(dir).resolve("data");
        String java = ProcessHandle.current().info().command().orElseThrow();
        return new ProcessBuilder("ip", "netns", "exec", namespace, java, "--enable-native-access=ALL-UNNAMED",
                "-Djdk.tls.client.enableCAExtension=true", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "up",
                "--data-dir", dataDir.toString(), "--port", Integer.toString(port), "--bind", address, "--node", name,
                "--admin-password", PASSWORD, "--firewall", "off")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("daemon.log").toFile())).start();
    }

    private static void awaitReady(Process process, Path dir) throws Exception {
        Path dataDir = dir.resolve("data");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!Files.exists(CorralDaemon.localAccessFile(dataDir))) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("node did not start: " + Files.readString(dir.resolve("daemon.log")));
            }
            Thread.sleep(200);
        }
    }
}
