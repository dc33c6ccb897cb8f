package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.corral.lxc.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;

/**
 * vzdump over HTTPS against a real node: an unprivileged busybox container on btrfs is backed up
 * in snapshot, suspend and stop mode, each archive is restored to another VMID (on dir and btrfs),
 * started, and a file written before the backup has its checksum; the backup lock refuses
 * changes; bad parameters change nothing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VzdumpIT {
    private static final String NODE = "dumpnode";
    private static final String PASSWORD = "vzdump-admin-1";
    private static final Duration TIMEOUT = Duration.ofMinutes(1);
    private static final String CT = "/nodes/" + NODE + "/lxc/";

    static Path base;
    static Path btrfs;
    static String loop;
    static CorralDaemon daemon;
    static TestClient admin;
    static String checksum;
    static final List<String> created = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        // under /var/tmp, open to others: the container's root (uid 100000) must reach its rootfs
        base = Files.createTempDirectory(Path.of("/var/tmp"), "corral-vzdump-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        btrfs = Files.createDirectories(base.resolve("btrfs"));
        Path image = base.resolve("btrfs.img");
        run("truncate", "-s", "1G", image.toString());
        loop = run("losetup", "--find", "--show", image.toString()).strip();
        run("mkfs.btrfs", "-q", "-f", loop);
        run("mount", loop, btrfs.toString());
        Files.setPosixFilePermissions(btrfs, PosixFilePermissions.fromString("rwxr-xr-x"));
        daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, base.resolve("data"), "127.0.0.1", 0, Optional.of(PASSWORD)));
        Path templates = Files.createDirectories(base.resolve("data/storage/local/template/cache"));
        Files.copy(Fixtures.busyboxTemplate(), templates.resolve("busybox.tar.gz"));
        admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
        assertThat(admin.post("/storage", Map.of("storage", "bt", "type", "btrfs", "path", btrfs.toString(),
                "content", "rootdir,images,backup")).status()).isEqualTo(200);
        Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/lxc", Map.of("vmid", "300", "ostemplate", "local:vztmpl/busybox.tar.gz",
                "rootfs", "bt:1", "hostname", "dumped", "memory", "128")));
        created.add("300");
        Tasks.awaitOk(daemon, admin.post(CT + "300/status/start", Map.of()));
        Tasks.exec(admin, NODE, "300", "dd if=/dev/urandom of=/root/data bs=1024 count=512 2>/dev/null && sync");
        checksum = Tasks.exec(admin, NODE, "300", "sha256sum /root/data").split("\\s+")[0];
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
        if (loop != null) {
            ProcessRunner.of("umount", btrfs.toString()).timeout(TIMEOUT).run();
            ProcessRunner.of("losetup", "-d", loop).timeout(TIMEOUT).run();
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

    private static String run(String... command) {
        return ProcessRunner.of(command).timeout(TIMEOUT).run().check().stdout();
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

    private static void restoreAndCheck(String volid, String vmid, String rootfs, boolean force) {
        Map<String, String> p = Tasks.params("vmid", vmid, "ostemplate", volid, "restore", "1", "rootfs", rootfs);
        if (force) {
            p.put("force", "1");
        }
        String log = Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/lxc", p));
        assertThat(log).contains("recovered the backed-up configuration");
        if (!created.contains(vmid)) {
            created.add(vmid);
        }
        JsonNode config = admin.get(CT + vmid + "/config").data();
        assertThat(config.path("hostname").asString()).isEqualTo("dumped");
        assertThat(config.path("memory").asInt()).isEqualTo(128);
        assertThat(config.path("lock").isMissingNode()).isTrue();
        Tasks.awaitOk(daemon, admin.post(CT + vmid + "/status/start", Map.of()));
        assertThat(Tasks.exec(admin, NODE, vmid, "sha256sum /root/data").split("\\s+")[0]).isEqualTo(checksum);
        // the container's root owns its files: the archive kept the container's own ids
        assertThat(Tasks.exec(admin, NODE, vmid, "stat -c %u /root/data").strip()).isEqualTo("0");
        Tasks.awaitOk(daemon, admin.post(CT + vmid + "/status/stop", Map.of()));
    }

    @Test
    @Order(1)
    @Timeout(180)
    void snapshotModeOnBtrfsArchivesWithNotesAndProtectionAndRestoresOnDir() throws Exception {
        String log = Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("vmid", "300", "mode", "snapshot", "storage", "local",
                "compress", "zstd", "zstd", "2", "notes-template", "{{guestname}} on {{node}}\\nvmid {{vmid}}", "protected", "1")));
        assertThat(log).contains("INFO: starting new backup job: vzdump 300 --compress zstd --mode snapshot --notes-template ",
                "INFO: backup mode: snapshot", "INFO: create storage snapshot 'vzdump'",
                "INFO: cleanup temporary 'vzdump' snapshot", "INFO: Backup job finished successfully", "INFO: Total bytes written: ");
        assertThat(admin.get(CT + "300/status/current").data().path("status").asString()).isEqualTo("running");
        assertThat(run("btrfs", "subvolume", "list", btrfs.toString())).doesNotContain("vzdump");

        JsonNode entry = backups("local").stream().filter(b -> b.path("vmid").asInt() == 300).findFirst().orElseThrow();
        String volid = entry.path("volid").asString();
        assertThat(volid).matches("local:backup/vzdump-lxc-300-\\d{4}_\\d{2}_\\d{2}-\\d{2}_\\d{2}_\\d{2}\\.tar\\.zst");
        assertThat(entry.path("format").asString()).isEqualTo("tar.zst");
        assertThat(entry.path("subtype").asString()).isEqualTo("lxc");
        assertThat(entry.path("content").asString()).isEqualTo("backup");
        assertThat(entry.path("protected").asInt()).isEqualTo(1);
        assertThat(entry.path("notes").asString()).isEqualTo("dumped on " + NODE + "\nvmid 300");
        assertThat(entry.path("size").asLong()).isPositive();
        assertThat(Math.abs(entry.path("ctime").asLong() - System.currentTimeMillis() / 1000)).isLessThan(300);
        Path dump = base.resolve("data/storage/local/dump");
        String name = volid.substring("local:backup/".length());
        String stem = name.substring(0, name.length() - ".tar.zst".length());
        assertThat(Files.readString(dump.resolve(stem + ".log"))).contains("INFO: Starting Backup of VM 300 (lxc)");
        // the archive is a zstd tar with the config first, as Proxmox writes it
        String listing = run("sh", "-c", "zstd -dc '" + dump.resolve(name) + "' | tar tf - | head -3");
        assertThat(listing.lines().findFirst().orElseThrow()).isEqualTo("./etc/vzdump/pct.conf");

        String config = admin.get("/nodes/" + NODE + "/vzdump/extractconfig", Map.of("volume", volid)).data().asString();
        assertThat(config).contains("hostname: dumped", "rootfs: bt:").doesNotContain("lock:");

        restoreAndCheck(volid, "301", "local:1", false);
        // protected: the content API refuses to delete it
        assertThat(admin.delete("/nodes/" + NODE + "/storage/local/content/" + volid).status()).isNotEqualTo(200);
        assertThat(Files.exists(dump.resolve(name))).isTrue();
    }

    @Test
    @Order(2)
    @Timeout(180)
    void snapshotModeOnDirFallsBackToSuspendAndSuspendModeFreezes() {
        // 301 lives on the dir storage: no snapshots there, so vzdump says so and suspends instead
        Tasks.awaitOk(daemon, admin.post(CT + "301/status/start", Map.of()));
        String log = Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("vmid", "301", "storage", "bt", "compress", "gzip")));
        assertThat(log).contains("INFO: mode failure - some volumes do not support snapshots", "INFO: trying 'suspend' mode instead",
                "INFO: backup mode: suspend", "INFO: suspending guest", "INFO: resuming guest");
        assertThat(admin.get(CT + "301/status/current").data().path("status").asString()).isEqualTo("running");
        Tasks.awaitOk(daemon, admin.post(CT + "301/status/stop", Map.of()));
        restoreAndCheck(newest("bt", "301", ".tar.gz"), "302", "bt:1", false);
    }

    @Test
    @Order(3)
    @Timeout(180)
    void stopModeStopsAndRestartsAndForcedRestoreReplacesAContainer() {
        String log = Tasks.awaitOk(daemon, admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("vmid", "300", "mode", "stop", "storage", "local",
                "compress", "lzo", "stopwait", "1")));
        assertThat(log).contains("INFO: backup mode: stop", "INFO: stopping virtual guest", "INFO: restarting vm");
        assertThat(admin.get(CT + "300/status/current").data().path("status").asString()).isEqualTo("running");
        String volid = newest("local", "300", ".tar.lzo");

        // without force an existing VMID is refused and stays as it was
        String before = admin.get(CT + "302/config").data().toString();
        TestClient.Answer refused = admin.post("/nodes/" + NODE + "/lxc", Tasks.params("vmid", "302", "ostemplate", volid, "restore", "1",
                "rootfs", "bt:1"));
        assertThat(refused.status()).isNotEqualTo(200);
        assertThat(admin.get(CT + "302/config").data().toString()).isEqualTo(before);

        String oldRoot = admin.get(CT + "302/config").data().path("rootfs").asString().split(",")[0];
        restoreAndCheck(volid, "302", "bt:1", true);
        String newRoot = admin.get(CT + "302/config").data().path("rootfs").asString().split(",")[0];
        assertThat(newRoot).isNotEqualTo(oldRoot);
        assertThat(run("btrfs", "subvolume", "list", btrfs.toString())).doesNotContain(oldRoot.substring(oldRoot.indexOf(':') + 1));
    }

    @Test
    @Order(4)
    @Timeout(180)
    void aContainerBeingBackedUpHoldsTheBackupLockAndRefusesChanges() throws Exception {
        TestClient.Answer started = admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("vmid", "300", "mode", "snapshot", "storage", "local",
                "bwlimit", "768", "prune-backups", "keep-last=1"));
        assertThat(started.status()).isEqualTo(200);
        Upid upid = Upid.parse(started.data().asString());
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!admin.get(CT + "300/config").data().path("lock").asString().equals("backup")) {
            assertThat(System.nanoTime()).as("lock: backup never appeared").isLessThan(deadline);
            Thread.sleep(50);
        }
        TestClient.Answer change = admin.put(CT + "300/config", Map.of("memory", "256"));
        assertThat(change.status()).isNotEqualTo(200);
        assertThat(change.body().toString()).contains("CT is locked (backup)");
        TestClient.Answer snapshot = admin.post(CT + "300/snapshot", Map.of("snapname", "during"));
        assertThat(snapshot.body().toString()).contains("CT is locked (backup)");
        TaskStatus status = daemon.tasks().awaitCompletion(upid, Duration.ofSeconds(120));
        assertThat(status.exitstatus()).as(Tasks.log(daemon, upid)).contains("OK");
        assertThat(Tasks.log(daemon, upid)).contains("INFO: prune older backups with retention: keep-last=1", "INFO: removing backup 'local:backup/");
        assertThat(admin.get(CT + "300/config").data().path("lock").isMissingNode()).isTrue();
        assertThat(admin.get(CT + "300/config").data().path("memory").asInt()).isEqualTo(128);
        // keep-last=1 left the new archive and the protected one
        List<JsonNode> left = backups("local").stream().filter(b -> b.path("vmid").asInt() == 300).toList();
        assertThat(left).hasSize(2);
        assertThat(left.stream().filter(b -> b.path("protected").asInt() == 1)).hasSize(1);
        // an unprotected backup is deleted through the content API, with its log
        String plain = left.stream().filter(b -> b.path("protected").asInt() != 1).findFirst().orElseThrow().path("volid").asString();
        TestClient.Answer deleted = admin.delete("/nodes/" + NODE + "/storage/local/content/" + plain);
        if (deleted.data().isString() && deleted.data().asString().startsWith("UPID:")) {
            daemon.tasks().awaitCompletion(Upid.parse(deleted.data().asString()), TIMEOUT);
        }
        assertThat(backups("local").stream().map(b -> b.path("volid").asString())).doesNotContain(plain);
        String stem = plain.substring("local:backup/".length()).replace(".tar", "");
        try (Stream<Path> files = Files.list(base.resolve("data/storage/local/dump"))) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(f -> f.startsWith(stem));
        }
    }

    @Test
    @Order(5)
    void badParametersAreRefusedByNameAndChangeNothing() throws Exception {
        Path dump = base.resolve("data/storage/local/dump");
        long before;
        try (Stream<Path> files = Files.list(dump)) {
            before = files.count();
        }
        Map<String, Map<String, String>> cases = new LinkedHashMap<>();
        cases.put("vmid", Tasks.params("vmid", "999"));
        cases.put("mode", Tasks.params("vmid", "300", "mode", "hibernate"));
        cases.put("compress", Tasks.params("vmid", "300", "compress", "bzip2"));
        cases.put("all", Tasks.params("vmid", "300", "all", "1"));
        cases.put("storage", Tasks.params("vmid", "300", "storage", "nosuch"));
        cases.put("prune-backups", Tasks.params("vmid", "300", "storage", "local", "prune-backups", "keep-last=x"));
        cases.put("notes-template", Tasks.params("vmid", "300", "notes-template", "x"));
        cases.put("mailto", Tasks.params("vmid", "300", "mailto", "not an address"));
        cases.put("pool", Tasks.params("pool", "nosuchpool"));
        for (Map.Entry<String, Map<String, String>> c : cases.entrySet()) {
            TestClient.Answer answer = admin.post("/nodes/" + NODE + "/vzdump", c.getValue());
            assertThat(answer.status()).as(c.getKey() + ": " + answer.body()).isEqualTo(400);
            assertThat(answer.errors()).as(c.getKey() + ": " + answer.body()).containsKey(c.getKey());
        }
        TestClient.Answer noSelection = admin.post("/nodes/" + NODE + "/vzdump", Map.of());
        assertThat(noSelection.errors()).containsKey("vmid");
        TestClient.Answer badRestore = admin.post("/nodes/" + NODE + "/lxc", Tasks.params("vmid", "310", "ostemplate",
                "local:backup/vzdump-lxc-300-2020_01_01-00_00_00.tar.zst", "restore", "1"));
        assertThat(badRestore.status()).isEqualTo(400);
        assertThat(badRestore.errors()).containsKey("ostemplate");
        assertThat(admin.get(CT + "310/config").status()).isNotEqualTo(200);
        assertThat(admin.get("/nodes/" + NODE + "/vzdump/extractconfig", Map.of("volume", "local:iso/x.iso")).status()).isEqualTo(400);
        try (Stream<Path> files = Files.list(dump)) {
            assertThat(files.count()).isEqualTo(before);
        }
        assertThat(admin.get(CT + "300/config").data().path("lock").isMissingNode()).isTrue();

        // a guest locked by something else is not backed up: the job says why and ends with errors
        String path = "nodes/" + NODE + "/lxc/301.conf";
        var file = daemon.store().read(path).orElseThrow();
        daemon.store().write(path, "lock: migrate\n" + file.text(), file.version());
        TestClient.Answer locked = admin.post("/nodes/" + NODE + "/vzdump", Tasks.params("vmid", "301", "storage", "local"));
        Upid upid = Upid.parse(locked.data().asString());
        assertThat(daemon.tasks().awaitCompletion(upid, TIMEOUT).exitstatus()).contains("job errors");
        assertThat(Tasks.log(daemon, upid)).contains("ERROR: Backup of VM 301 failed - CT is locked (migrate)");
        assertThat(admin.get(CT + "301/config").data().path("lock").asString()).isEqualTo("migrate");
        var lockedFile = daemon.store().read(path).orElseThrow();
        daemon.store().write(path, file.text(), lockedFile.version());
        try (Stream<Path> files = Files.list(dump); Stream<Path> run = Files.list(base.resolve("data/run"))) {
            assertThat(files.count()).isEqualTo(before);
            assertThat(run.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("vzdump-"));
        }

        JsonNode defaults = admin.get("/nodes/" + NODE + "/vzdump/defaults").data();
        assertThat(defaults.path("mode").asString()).isEqualTo("snapshot");
        assertThat(defaults.path("storage").asString()).isEqualTo("local");
        assertThat(defaults.path("prune-backups").asString()).isEqualTo("keep-all=1");
        assertThat(defaults.path("dumpdir").asString()).isEqualTo(dump.toString());
    }

    @Test
    @Order(6)
    @Timeout(120)
    void backupNeedsVmBackupOnTheGuestAndAllocateSpaceOnTheStorage() {
        assertThat(admin.post("/access/users", Map.of("userid", "nobody@pve", "password", "nobody-pass-1")).status()).isEqualTo(200);
        TestClient nobody = new TestClient(daemon.port()).login("nobody@pve", "nobody-pass-1");
        assertThat(nobody.post("/nodes/" + NODE + "/vzdump", Map.of("vmid", "300")).status()).isEqualTo(403);
        assertThat(nobody.get("/nodes/" + NODE + "/vzdump/defaults").status()).isEqualTo(403);
        String protectedBackup = newest("local", "300", ".tar.zst");
        assertThat(nobody.get("/nodes/" + NODE + "/vzdump/extractconfig", Map.of("volume", protectedBackup)).status()).isEqualTo(403);

        assertThat(admin.post("/access/users", Map.of("userid", "backup@pve", "password", "backup-pass-1")).status()).isEqualTo(200);
        assertThat(admin.put("/access/acl", Map.of("path", "/vms/302", "users", "backup@pve", "roles", "PVEVMUser")).status())
                .isEqualTo(200);
        TestClient operator = new TestClient(daemon.port()).login("backup@pve", "backup-pass-1");
        // VM.Backup on the guest alone is not enough: the storage needs Datastore.AllocateSpace
        assertThat(operator.post("/nodes/" + NODE + "/vzdump", Map.of("vmid", "302", "storage", "bt")).status()).isEqualTo(403);
        assertThat(admin.put("/access/acl", Map.of("path", "/storage/bt", "users", "backup@pve", "roles", "PVEDatastoreUser")).status())
                .isEqualTo(200);
        assertThat(operator.post("/nodes/" + NODE + "/vzdump", Map.of("vmid", "300", "storage", "bt")).status()).isEqualTo(403);
        String log = Tasks.awaitOk(daemon, operator.post("/nodes/" + NODE + "/vzdump", Map.of("vmid", "302", "storage", "bt", "compress", "zstd")));
        assertThat(log).contains("INFO: backup mode: stop", "INFO: Backup job finished successfully");
        assertThat(backups("bt").stream().map(b -> b.path("volid").asString())).anyMatch(v -> v.startsWith("bt:backup/vzdump-lxc-302-"));
    }
}
