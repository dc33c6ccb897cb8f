package org.corral.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.corral.server.CorralDaemon;

/** What the end-to-end tests share: host commands, a node in its own process, the python client. */
final class E2e {
    private E2e() {}

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    static void quietly(String... command) {
        try {
            run(command);
        } catch (IOException | InterruptedException e) {
            // cleanup goes on with the next step
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Starts {@code corral up} in its own process and waits until it serves. */
    static Process startNode(Path dataDir, int port, String nodeName, String password) throws IOException, InterruptedException {
        // a node killed with SIGKILL leaves its file behind: wait for the new one
        Files.deleteIfExists(CorralDaemon.localAccessFile(dataDir));
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path log = dataDir.resolveSibling("daemon.log");
        Process process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "up", "--data-dir", dataDir.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--node", nodeName, "--admin-password", password)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        // a start takes seconds; on a saturated 2-core machine it has taken over a minute
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!Files.exists(CorralDaemon.localAccessFile(dataDir))) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("node did not start: " + Files.readString(log));
            }
            Thread.sleep(200);
        }
        return process;
    }

    /** Runs a python3-proxmoxer script; it must exit 0. */
    static String python(Path script, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", script.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(600, TimeUnit.SECONDS)).isTrue();
        System.out.println(out);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    static Path resource(Path dir, String name) throws IOException {
        Path script = dir.resolve(name);
        try (var in = E2e.class.getResourceAsStream("/e2e/" + name)) {
            Files.write(script, in.readAllBytes());
        }
        return script;
    }

    static void printNodeLog(Path base) throws IOException {
        Path log = base.resolve("daemon.log");
        if (Files.exists(log)) {
            List<String> lines = Files.readAllLines(log);
            System.out.println("--- node log (last lines) ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size())));
        }
    }

    static void deleteTree(Path base) throws IOException {
        try (Stream<Path> files = Files.walk(base)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // a busy leftover must not hide the test's own result
                }
            }
        }
    }

    /** {@code first} followed by {@code rest}: a script's phase and its arguments. */
    /** Removes the cgroups (in every hierarchy) whose top directory starts with {@code prefix}, innermost first. */
    static void removeCgroups(String prefix) throws IOException, InterruptedException {
        Path root = Path.of("/sys/fs/cgroup");
        if (!Files.isDirectory(root)) {
            return;
        }
        List<Path> tops = new ArrayList<>();
        try (var hierarchies = Files.list(root)) {
            for (Path hierarchy : hierarchies.filter(Files::isDirectory).toList()) {
                try (var groups = Files.list(hierarchy)) {
                    groups.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isDirectory(p)).forEach(tops::add);
                }
            }
        }
        for (int attempt = 0; attempt < 20 && !tops.isEmpty(); attempt++) {
            for (Path top : List.copyOf(tops)) {
                try (var tree = Files.walk(top)) {
                    // a cgroup is removed with rmdir on the directory alone; its control files go with it
                    for (Path dir : tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                        quietly("rmdir", dir.toString());
                    }
                }
                if (!Files.exists(top)) {
                    tops.remove(top);
                }
            }
            if (!tops.isEmpty()) {
                Thread.sleep(100); // the killed QEMUs are still leaving their groups
            }
        }
    }

    static String[] with(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
