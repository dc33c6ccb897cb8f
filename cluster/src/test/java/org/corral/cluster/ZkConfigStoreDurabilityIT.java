package org.corral.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.corral.core.config.ConfigFile;
import org.corral.core.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A write the store acknowledged survives SIGKILL of the whole node process. */
class ZkConfigStoreDurabilityIT {
    private static final Logger log = LoggerFactory.getLogger(ZkConfigStoreDurabilityIT.class);
    private static final int ACKS_BEFORE_KILL = 400;
    private static final Pattern ACK = Pattern.compile("ACK (\\S+) END");

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedWriteSurvivesKillMinus9() throws Exception {
        int[] ports = TestNodes.freePorts(3);
        Node node = TestNodes.node(dir, "pve1", new Node.ZooKeeperPorts(ports[0], ports[1], ports[2]), 0);
        Path stderr = dir.resolve("writer.stderr");
        Process writer = new ProcessBuilder(
                        ProcessHandle.current().info().command().orElseThrow(),
                        "--enable-native-access=ALL-UNNAMED",
                        "-Xmx256m",
                        "-XX:TieredStopAtLevel=1",
                        "-cp", System.getProperty("java.class.path"),
                        DurabilityWriter.class.getName(),
                        dir.toString(), String.valueOf(ports[0]), String.valueOf(ports[1]), String.valueOf(ports[2]))
                .redirectError(stderr.toFile())
                .start();
        List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
        Thread reader = Thread.ofPlatform().daemon().start(() -> readAcks(writer, acknowledged));
        try {
            await().atMost(Duration.ofSeconds(60))
                    .failFast("writer exited:\n" + tail(stderr), () -> !writer.isAlive())
                    .until(() -> acknowledged.size() >= ACKS_BEFORE_KILL);
        } finally {
            writer.destroyForcibly();
            writer.waitFor(30, TimeUnit.SECONDS);
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        List<String> acked = List.copyOf(acknowledged);
        assertThat(writer.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
        log.info("Writer acknowledged {} files before SIGKILL", acked.size());
        // told apart on failure: files gone from disk, or on disk but not replayed
        String filesAfterKill = listing(node.localDir().resolve("zookeeper"));

        try (ClusterStore cluster = ClusterStore.start(node)) {
            List<String> missing = new ArrayList<>();
            for (int i = 0; i < acked.size(); i++) {
                String path = DurabilityWriter.path(i);
                assertThat(acked.get(i)).isEqualTo(path);
                Optional<String> text = cluster.store().read(path).map(ConfigFile::text);
                if (!text.equals(Optional.of(DurabilityWriter.content(i)))) {
                    missing.add(path);
                }
            }
            assertThat(missing)
                    .as("acknowledged files lost or changed (%d of %d); ZooKeeper files after the kill:%n%s%nwriter stderr:%n%s",
                            missing.size(), acked.size(), filesAfterKill, tail(stderr))
                    .isEmpty();
            assertThat(cluster.store().list(DurabilityWriter.DIRECTORY)).hasSizeGreaterThanOrEqualTo(acked.size());
        }
    }

    private static void readAcks(Process writer, List<String> acknowledged) {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(writer.getInputStream(), UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                // a line cut short by the kill has no END and was never acknowledged
                Matcher ack = ACK.matcher(line);
                if (ack.matches()) {
                    acknowledged.add(ack.group(1));
                }
            }
        } catch (IOException e) {
            // the pipe closes when the writer is killed
        }
    }

    private static String listing(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return "(" + directory + " does not exist)";
        }
        try (Stream<Path> files = Files.walk(directory)) {
            return String.join("\n", files.filter(Files::isRegularFile)
                    .map(file -> directory.relativize(file) + " " + file.toFile().length())
                    .sorted()
                    .toList());
        }
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no stderr: " + e.getMessage() + ")";
        }
    }
}
