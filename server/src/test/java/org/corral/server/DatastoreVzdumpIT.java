package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.corral.core.process.ProcessRunner;
import org.corral.lxc.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;

/**
 * vzdump of a real container into a datastore over HTTPS: its tar stream is stored as content-defined chunks, a second
 * backup of the unchanged container stores (nearly) none again, both are listed, and one is restored to a new VMID
 * whose file has the checksum written before the backup.
 */
class DatastoreVzdumpIT {
    private static final String NODE = "dsdumpnode";
    private static final String PASSWORD = "dsdump-admin-1";
    private static final Duration TIMEOUT = Duration.ofMinutes(1);
    private static final String CT = "/nodes/" + NODE + "/lxc/";
    private static final Pattern CHUNKS = Pattern.compile("root\\.tar\\.didx: had to store (\\d+) of (\\d+) chunks");

    static Path base;
    static CorralDaemon daemon;
    static TestClient admin;
    static String checksum;
    static final List<String> created = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        // under /var/tmp, open to others: the container's root (uid 100000) must reach its rootfs
        base = Files.createTempDirectory(Path.of("/var/tmp"), "corral-dsdump-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, base.resolve("data"), "127.0.0.1", 0, Optional.of(PASSWORD)));
        Path templates = Files.createDirectories(base.resolve("data/storage/local/template/cache"));
        Files.copy(Fixtures.busyboxTemplate(), templates.resolve("busybox.tar.gz"));
        admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
        assertThat(admin.post("/storage", Map.of("storage", "ds", "type", "datastore", "path", base.resolve("ds").toString()))
                .status()).isEqualTo(200);
        Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/lxc", Map.of("vmid", "400", "ostemplate", "local:vztmpl/busybox.tar.gz",
                "rootfs", "local:1", "hostname", "deduped", "memory", "128")));
        created.add("400");
        Tasks.awaitOk(daemon, admin.post(CT + "400/status/start", Map.of()));
        // 24 MiB that no compression shrinks: several 4 MiB-average chunks
        Tasks.exec(admin, NODE, "400", "dd if=/dev/urandom of=/root/data bs=1048576 count=24 2>/dev/null && sync");
        checksum = Tasks.exec(admin, NODE, "400", "sha256sum /root/data").split("\\s+")[0];
        assertThat(checksum).hasSize(64);
    }

    @AfterAll
    static void stop() throws IOException {
        if (daemon != null) {
            for (String vmid : created) {
                ProcessRunner.of("lxc-stop", "-P", base.resolve("data/run/lxc").toString(), "-n", vmid, "-k").timeout(TIMEOUT).run();
            }
            daemon.close();
        }
        if (base != null) {
            try (Stream<Path> walk = Files.walk(base)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (IOException e) {
                ProcessRunner.of("rm", "-rf", "--one-file-system", base.toString()).timeout(TIMEOUT).run();
            }
        }
    }

    /** {new chunks, all chunks} of the backup whose log this is. */
    private static int[] chunks(String log) {
        Matcher m = CHUNKS.matcher(log);
        assertThat(m.find()).as(log).isTrue();
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    private static List<JsonNode> backups() {
        List<JsonNode> out = new ArrayList<>();
        admin.get("/nodes/" + NODE + "/storage/ds/content", Map.of("content", "backup")).data().forEach(out::add);
        return out;
    }

    @Test
    @Timeout(240)
    void containerBacksUpTwiceDedupedAndRestoresFromTheDatastore() throws Exception {
        String first = Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("vmid", "400", "storage", "ds")));
        assertThat(first).contains("INFO: backup mode: suspend", "INFO: adding 'pct.conf' as 'pct.conf.blob'",
                "INFO: stored backup 'ds:backup/ct/400/", "INFO: Backup job finished successfully");
        int[] firstChunks = chunks(first);
        assertThat(firstChunks[1]).isGreaterThanOrEqualTo(2);
        assertThat(firstChunks[0]).isEqualTo(firstChunks[1]);
        assertThat(admin.get(CT + "400/status/current").data().path("status").asString()).isEqualTo("running");

        // snapshots are named by the second: the next one must not share it
        Thread.sleep(1100);
        String second = Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("vmid", "400", "storage", "ds")));
        int[] secondChunks = chunks(second);
        // only what changed (the config member's header at the front) is stored again
        assertThat(secondChunks[0]).as(second).isLessThanOrEqualTo(2).isLessThan(secondChunks[1]);
        try (Stream<Path> files = Files.walk(base.resolve("ds/.chunks"))) {
            long stored = files.filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}")).count();
            assertThat(stored).isLessThanOrEqualTo(firstChunks[1] + secondChunks[0]);
        }

        List<JsonNode> listed = backups();
        assertThat(listed).hasSize(2);
        for (JsonNode b : listed) {
            assertThat(b.path("volid").asString()).matches("ds:backup/ct/400/\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z");
            assertThat(b.path("format").asString()).isEqualTo("pbs-ct");
            assertThat(b.path("vmid").asInt()).isEqualTo(400);
            assertThat(b.path("size").asLong()).isGreaterThan(24L << 20);
        }
        String oldest = listed.stream().map(b -> b.path("volid").asString()).sorted().findFirst().orElseThrow();
        String config = admin.get("/nodes/" + NODE + "/vzdump/extractconfig", Map.of("volume", oldest)).data().asString();
        assertThat(config).contains("hostname: deduped", "memory: 128");

        // a snapshot that does not exist is refused and creates nothing
        TestClient.Answer missing = admin.post("/nodes/" + NODE + "/lxc", Tasks.params("vmid", "402", "ostemplate",
                "ds:backup/ct/400/2020-01-01T00:00:00Z", "restore", "1", "rootfs", "local:1"));
        assertThat(missing.status()).as(missing.body().toString()).isEqualTo(400);
        assertThat(missing.body().path("errors").path("ostemplate").asString()).isNotEmpty();
        assertThat(admin.get(CT + "402/config").status()).isNotEqualTo(200);

        String restored = Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/lxc", Tasks.params("vmid", "401", "ostemplate", oldest, "restore", "1",
                "rootfs", "local:1")));
        created.add("401");
        assertThat(restored).contains("extracting archive '" + oldest + "'", "recovered the backed-up configuration");
        JsonNode restoredConfig = admin.get(CT + "401/config").data();
        assertThat(restoredConfig.path("hostname").asString()).isEqualTo("deduped");
        assertThat(restoredConfig.path("memory").asInt()).isEqualTo(128);
        Tasks.awaitOk(daemon, admin.post(CT + "401/status/start", Map.of()));
        assertThat(Tasks.exec(admin, NODE, "401", "sha256sum /root/data").split("\\s+")[0]).isEqualTo(checksum);
        assertThat(Tasks.exec(admin, NODE, "401", "stat -c %u /root/data").strip()).isEqualTo("0");
        Tasks.awaitOk(daemon, admin.post(CT + "401/status/stop", Map.of()));
        Tasks.awaitOk(daemon, admin.post(CT + "400/status/stop", Map.of()));
    }
}
