package org.corral.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.corral.lxc.template.BusyboxTemplate;
import org.corral.server.CorralDaemon;
import org.junit.jupiter.api.Test;

/**
 * Issue 6 end to end: python3-proxmoxer drives a real node (its own process) through an
 * unprivileged container's life on btrfs; the node is killed with SIGKILL while the container
 * runs, and the restarted node still manages it.
 */
class LxcProxmoxerIT {
    private static final String PASSWORD = "lxc-e2e-admin-1";
    private static final String BRIDGE = "corrale2e0";

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    private static void quietly(String... command) {
        try {
            run(command);
        } catch (IOException | InterruptedException e) {
            // cleanup goes on with the next step
        }
    }

    private static Process daemon(Path dataDir, int port) throws IOException, InterruptedException {
        // a node killed with SIGKILL leaves its file behind: wait for the new one
        Files.deleteIfExists(CorralDaemon.localAccessFile(dataDir));
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "up", "--data-dir", dataDir.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--node", "e2elxc", "--admin-password", PASSWORD)
                .redirectErrorStream(true).redirectOutput(dataDir.resolveSibling("daemon.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(CorralDaemon.localAccessFile(dataDir))) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("node did not start: " + Files.readString(dataDir.resolveSibling("daemon.log")));
            }
            Thread.sleep(200);
        }
        return process;
    }

    private static String python(Path script, String phase, int port, Path btrfs, Path template) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), phase, "127.0.0.1", Integer.toString(port), PASSWORD,
                btrfs.toString(), BRIDGE, template.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        System.out.println(out);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void proxmoxerRunsAnUnprivilegedContainerOnBtrfsThroughItsWholeLife() throws Exception {
        // under /var/tmp, open to others: the container's root (uid 100000) must reach its rootfs
        Path base = Files.createTempDirectory(Path.of("/var/tmp"), "corral-lxc-e2e-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path dataDir = base.resolve("data");
        Path btrfs = Files.createDirectories(base.resolve("btrfs"));
        Path image = base.resolve("btrfs.img");
        String loop = null;
        Process node = null;
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        try {
            run("truncate", "-s", "2G", image.toString());
            loop = run("losetup", "--find", "--show", image.toString()).strip();
            run("mkfs.btrfs", "-q", loop);
            run("mount", loop, btrfs.toString());
            quietly("ip", "link", "del", BRIDGE);
            run("ip", "link", "add", BRIDGE, "type", "bridge");
            run("ip", "addr", "add", "10.77.0.1/24", "dev", BRIDGE);
            run("ip", "link", "set", BRIDGE, "up");
            Path template = new BusyboxTemplate().build(Files.createDirectories(base.resolve("template")));
            Path script = base.resolve("lxc_e2e.py");
            try (var in = getClass().getResourceAsStream("/e2e/lxc_e2e.py")) {
                Files.write(script, in.readAllBytes());
            }

            node = daemon(dataDir, port);
            assertThat(python(script, "phase1", port, btrfs, template)).contains("PHASE1 OK");

            node.destroyForcibly();
            node.waitFor(30, TimeUnit.SECONDS);
            Path lxcPath = dataDir.resolve("run/lxc");
            assertThat(run("lxc-info", "-P", lxcPath.toString(), "-n", "201", "-s")).contains("RUNNING");

            node = daemon(dataDir, port);
            assertThat(python(script, "phase2", port, btrfs, template)).contains("PHASE2 OK");
            assertThat(run("btrfs", "subvolume", "list", btrfs.toString()).strip()).isEmpty();
        } catch (AssertionError | Exception e) {
            Path log = base.resolve("daemon.log");
            if (Files.exists(log)) {
                List<String> lines = Files.readAllLines(log);
                System.out.println("--- node log (last lines) ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())));
            }
            throw e;
        } finally {
            if (node != null) {
                node.destroyForcibly();
                node.waitFor(30, TimeUnit.SECONDS);
            }
            Path lxcPath = dataDir.resolve("run/lxc");
            if (Files.isDirectory(lxcPath)) {
                try {
                    for (String ct : run("lxc-ls", "-P", lxcPath.toString(), "-1").split("\\s+")) {
                        if (!ct.isBlank()) {
                            quietly("lxc-stop", "-P", lxcPath.toString(), "-n", ct, "-k");
                        }
                    }
                } catch (IOException e) {
                    // nothing to stop
                }
            }
            quietly("umount", "-R", btrfs.toString());
            quietly("umount", "-l", btrfs.toString());
            if (loop != null) {
                quietly("losetup", "-d", loop);
            }
            quietly("ip", "link", "del", BRIDGE);
            try (Stream<Path> files = Files.walk(base)) {
                List<Path> all = new ArrayList<>(files.sorted(Comparator.reverseOrder()).toList());
                for (Path p : all) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        // a busy leftover must not hide the test's own result
                    }
                }
            }
        }
    }
}
