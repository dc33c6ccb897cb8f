package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.corral.core.task.Upid;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** vzdump of VMs in stop mode over HTTPS: Corral's own archive format, restored by {@code archive=} onto another storage. */
class VzdumpVmIT {
    private static final String NODE = "dumpvmnode";
    private static final String PASSWORD = "vzdump-vm-admin-1";

    @TempDir
    static Path base;
    static CorralDaemon daemon;
    static TestClient admin;

    @BeforeAll
    static void start() throws Exception {
        daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, base.resolve("data"), "127.0.0.1", 0, Optional.of(PASSWORD)));
        admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
        Files.createDirectories(base.resolve("second"));
        assertThat(admin.post("/storage", Map.of("storage", "second", "type", "dir", "path", base.resolve("second").toString(),
                "content", "images,backup")).status()).isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static List<JsonNode> backups(String storage) {
        List<JsonNode> out = new ArrayList<>();
        admin.get("/nodes/" + NODE + "/storage/" + storage + "/content", Map.of("content", "backup")).data().forEach(out::add);
        return out;
    }

    private static String newest(String storage, String vmid, String suffix) {
        return backups(storage).stream().filter(b -> b.path("vmid").asInt() == Integer.parseInt(vmid))
                .map(b -> b.path("volid").asString()).filter(v -> v.endsWith(suffix)).sorted().reduce((a, b) -> b).orElseThrow();
    }

    private static Path image(Path under, String name) throws IOException {
        try (Stream<Path> walk = Files.walk(under)) {
            // a btrfs raw image is a file inside its own subvolume
            return walk.filter(p -> under.relativize(p).toString().contains(name) && Files.isRegularFile(p)).findFirst().orElseThrow();
        }
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Test
    @Timeout(180)
    void aStoppedVmIsArchivedWholeAndRestoredOnAnotherStorage() throws Exception {
        Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/qemu", Tasks.params("vmid", "400", "name", "dumpvm", "memory", "256", "scsi0", "local:1",
                "kvm", "0")));
        Path disk = image(base.resolve("data/storage/local/images"), "vm-400-disk-0");
        byte[] data = new byte[1 << 20];
        new Random(42).nextBytes(data);
        try (FileChannel channel = FileChannel.open(disk, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(data), 3L << 20);
        }
        String before = sha256(disk);
        String log = Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("vmid", "400", "storage", "local", "compress", "zstd",
                "mode", "stop")));
        assertThat(log).contains("INFO: status = stopped", "INFO: include disk 'scsi0'", "INFO: Backup job finished successfully");
        String volid = newest("local", "400", ".tar.zst");
        assertThat(volid).startsWith("local:backup/vzdump-qemu-400-");
        JsonNode entry = backups("local").stream().filter(b -> b.path("volid").asString().equals(volid)).findFirst().orElseThrow();
        assertThat(entry.path("subtype").asString()).isEqualTo("qemu");
        // the archive is much smaller than the 1 GiB disk: holes stay holes
        assertThat(entry.path("size").asLong()).isLessThan(8L << 20);
        assertThat(admin.get("/nodes/" + NODE + "/vzdump/extractconfig", Map.of("volume", volid)).data().asString())
                .contains("name: dumpvm", "scsi0: local:400/vm-400-disk-0");

        TestClient.Answer taken = admin.post("/nodes/" + NODE + "/qemu", Tasks.params("vmid", "400", "archive", volid));
        assertThat(taken.status()).isNotEqualTo(200);
        Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/qemu", Tasks.params("vmid", "401", "archive", volid, "storage", "second")));
        JsonNode config = admin.get("/nodes/" + NODE + "/qemu/401/config").data();
        assertThat(config.path("name").asString()).isEqualTo("dumpvm");
        assertThat(config.path("memory").asString()).isEqualTo("256");
        assertThat(config.path("scsi0").asString()).startsWith("second:").contains("vm-401-disk-0").contains("size=1G");
        assertThat(config.path("lock").isMissingNode()).isTrue();
        assertThat(sha256(image(base.resolve("second"), "vm-401-disk-0"))).isEqualTo(before);

        // a running VM is stopped for the copy, then started again; meanwhile it holds the backup lock
        Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/qemu/400/status/start", Map.of()));
        TestClient.Answer started = admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("vmid", "400", "storage", "local", "mode", "stop",
                "stopwait", "0", "bwlimit", "1024"));
        Upid upid = Upid.parse(started.data().asString());
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!admin.get("/nodes/" + NODE + "/qemu/400/config").data().path("lock").asString().equals("backup")) {
            assertThat(System.nanoTime()).as("lock: backup never appeared").isLessThan(deadline);
            Thread.sleep(50);
        }
        assertThat(admin.put("/nodes/" + NODE + "/qemu/400/config", Map.of("memory", "512")).body().toString())
                .contains("VM is locked (backup)");
        assertThat(daemon.tasks().awaitCompletion(upid, Duration.ofSeconds(120)).exitstatus()).as(Tasks.log(daemon, upid)).contains("OK");
        assertThat(Tasks.log(daemon, upid)).contains("INFO: status = running", "INFO: stopping virtual guest", "INFO: restarting vm");
        assertThat(admin.get("/nodes/" + NODE + "/qemu/400/status/current").data().path("status").asString()).isEqualTo("running");
        Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/qemu/400/status/stop", Map.of()));
        // snapshot mode for a running VM is not there yet: the job says so and fails
        Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/qemu/400/status/start", Map.of()));
        TestClient.Answer snapshot = admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("vmid", "400", "storage", "local"));
        Upid failed = Upid.parse(snapshot.data().asString());
        assertThat(daemon.tasks().awaitCompletion(failed, Duration.ofSeconds(60)).exitstatus()).contains("job errors");
        assertThat(Tasks.log(daemon, failed)).contains("ERROR: Backup of VM 400 failed - mode 'snapshot' for a running VM is not supported");
        assertThat(admin.get("/nodes/" + NODE + "/qemu/400/config").data().path("lock").isMissingNode()).isTrue();
        Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/qemu/400/status/stop", Map.of()));

        // all with exclude: every guest of the node but the excluded ones, in one task
        String all = Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("all", "1", "exclude", "400", "storage", "second")));
        assertThat(all).contains("INFO: Starting Backup of VM 401 (qemu)").doesNotContain("Backup of VM 400");
        assertThat(newest("second", "401", ".tar")).startsWith("second:backup/vzdump-qemu-401-");
    }
}
