package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.corral.backup.FileImageSource;
import org.corral.backup.datastore.BackupWriter;
import org.corral.backup.datastore.CryptKey;
import org.corral.backup.datastore.Datastore;
import org.corral.backup.datastore.DatastoreOptions;
import org.corral.core.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * The {@code datastore} storage type over HTTPS: added through {@code POST /storage}, its snapshots (written here
 * with the datastore library) listed as backup volumes with Proxmox's fields, annotated, protected, refused deletion
 * while protected, deleted, its status answered, and prune simulated and applied; bad input is a 400 naming the
 * parameter and changes nothing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DatastoreStorageIT {
    private static final String NODE = "dsnode";
    private static final String PASSWORD = "datastore-admin-1";
    private static final String CONTENT = "/nodes/" + NODE + "/storage/ds/content";
    private static final Instant DAY1 = Instant.parse("2026-11-01T10:00:00Z");
    private static final Instant DAY2 = Instant.parse("2026-11-02T10:00:00Z");
    private static final Instant DAY3 = Instant.parse("2026-11-03T10:00:00Z");

    static Path base;
    static Path store;
    static CorralDaemon daemon;
    static TestClient admin;

    @BeforeAll
    static void start() throws Exception {
        base = Files.createTempDirectory("corral-datastore-");
        store = base.resolve("ds");
        daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, base.resolve("data"), "127.0.0.1", 0, Optional.of(PASSWORD)));
        admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
    }

    @AfterAll
    static void stop() throws IOException {
        if (daemon != null) {
            daemon.close();
        }
        if (base != null) {
            try (Stream<Path> walk = Files.walk(base)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static String volid(String type, int vmid, Instant time) {
        return "ds:backup/" + type + "/" + vmid + "/" + time;
    }

    /** A snapshot as a backup would write it: a disk image and the guest config. */
    private static void snapshot(String type, int vmid, Instant time, byte[] image) throws IOException {
        Path file = base.resolve("image-" + vmid);
        Files.write(file, image);
        try (Datastore ds = Datastore.open(store, null, DatastoreOptions.defaults());
                BackupWriter writer = ds.startBackup(type, Integer.toString(vmid), time);
                FileImageSource source = new FileImageSource(file)) {
            writer.backupImage("drive-scsi0.img", source);
            writer.addBlob("qemu-server.conf", ("memory: 128\n").getBytes(StandardCharsets.UTF_8));
            writer.finish();
        }
    }

    private static long chunkCount() throws IOException {
        try (Stream<Path> walk = Files.walk(store.resolve(".chunks"))) {
            return walk.filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}")).count();
        }
    }

    private static Map<String, String> marks(JsonNode plan) {
        Map<String, String> out = new LinkedHashMap<>();
        plan.forEach(e -> out.put(e.path("volid").asString(), e.path("mark").asString()));
        return out;
    }

    private static List<String> volids(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(e -> out.add(e.path("volid").asString()));
        return out;
    }

    @Test
    @Order(1)
    void badOptionsAreRefusedAndAddNothing() {
        TestClient.Answer answer = admin.post("/storage", Map.of("storage", "ds", "type", "datastore", "path", store.toString(),
                "content", "images"));
        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.body().path("errors").path("content").asString()).contains("images");
        answer = admin.post("/storage", Map.of("storage", "ds", "type", "datastore"));
        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.body().path("errors").has("path")).isTrue();
        answer = admin.post("/storage", Map.of("storage", "ds", "type", "datastore", "path", store.toString(),
                "encryption-key", "{\"kdf\":\"none\",\"key\":\"c2hvcnQ=\"}"));
        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.body().path("errors").path("encryption-key").asString()).contains("32 bytes");
        assertThat(admin.get("/storage").data().toString()).doesNotContain("\"ds\"");
        assertThat(daemon.store().read("priv/storage/ds.enc")).isEmpty();
        assertThat(store).doesNotExist();
    }

    @Test
    @Order(2)
    void encryptionKeyIsKeptUnderPrivAndOnlyItsFingerprintShown() {
        TestClient.Answer answer = admin.post("/storage", Map.of("storage", "dsenc", "type", "datastore",
                "path", base.resolve("dsenc").toString(), "encryption-key", "autogen"));
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        String keyFile = daemon.store().read("priv/storage/dsenc.enc").orElseThrow().text();
        CryptKey key = CryptKey.parse(keyFile);
        JsonNode config = admin.get("/storage/dsenc").data();
        assertThat(config.path("encryption-key").asString()).isEqualTo(key.fingerprint());
        String secret = Json.read(keyFile).path("key").asString();
        assertThat(admin.get("/storage").body().toString()).doesNotContain(secret);
        assertThat(config.toString()).doesNotContain(secret);

        // a key given as a key file's JSON replaces it
        CryptKey other = CryptKey.generate();
        TestClient.Answer replaced = admin.put("/storage/dsenc", Map.of("encryption-key", other.toJson()));
        assertThat(replaced.status()).as(replaced.body().toString()).isEqualTo(200);
        assertThat(admin.get("/storage/dsenc").data().path("encryption-key").asString()).isEqualTo(other.fingerprint());
        assertThat(CryptKey.parse(daemon.store().read("priv/storage/dsenc.enc").orElseThrow().text()).fingerprint())
                .isEqualTo(other.fingerprint());

        assertThat(admin.put("/storage/dsenc", Map.of("delete", "encryption-key")).status()).isEqualTo(200);
        assertThat(daemon.store().read("priv/storage/dsenc.enc")).isEmpty();
        assertThat(admin.get("/storage/dsenc").data().has("encryption-key")).isFalse();
        assertThat(admin.delete("/storage/dsenc").status()).isEqualTo(200);
    }

    @Test
    @Order(3)
    void addedStorageReportsStatusAndCreatesTheDatastore() {
        TestClient.Answer answer = admin.post("/storage", Map.of("storage", "ds", "type", "datastore", "path", store.toString()));
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        JsonNode config = admin.get("/storage/ds").data();
        assertThat(config.path("type").asString()).isEqualTo("datastore");
        assertThat(config.path("content").asString()).isEqualTo("backup");
        JsonNode status = admin.get("/nodes/" + NODE + "/storage/ds/status").data();
        assertThat(status.path("active").asInt()).as(status.toString()).isEqualTo(1);
        assertThat(status.path("total").asLong()).isPositive();
        assertThat(status.path("avail").asLong()).isPositive().isLessThanOrEqualTo(status.path("total").asLong());
        assertThat(status.path("used").asLong()).isLessThanOrEqualTo(status.path("total").asLong());
        assertThat(store.resolve(".corral-datastore")).exists();
    }

    @Test
    @Order(4)
    void snapshotsAreListedAsBackupVolumes() throws IOException {
        byte[] image = new byte[6 << 20];
        new Random(7).nextBytes(image);
        snapshot("ct", 100, DAY1, image);
        long chunksBefore = chunkCount();
        image[100] ^= 1;
        snapshot("ct", 100, DAY2, image);
        // one changed byte: one new 4 MiB chunk, the rest shared with the first snapshot
        assertThat(chunkCount() - chunksBefore).isEqualTo(1);
        snapshot("vm", 101, DAY1, image);

        JsonNode list = admin.get(CONTENT).data();
        assertThat(volids(list)).containsExactly(volid("ct", 100, DAY1), volid("ct", 100, DAY2), volid("vm", 101, DAY1));
        JsonNode first = list.get(0);
        assertThat(first.path("content").asString()).isEqualTo("backup");
        assertThat(first.path("format").asString()).isEqualTo("pbs-ct");
        assertThat(first.path("subtype").asString()).isEqualTo("lxc");
        assertThat(first.path("vmid").asInt()).isEqualTo(100);
        assertThat(first.path("ctime").asLong()).isEqualTo(DAY1.getEpochSecond());
        assertThat(first.path("size").asLong()).isGreaterThanOrEqualTo(6 << 20);
        assertThat(list.get(2).path("subtype").asString()).isEqualTo("qemu");
        assertThat(list.get(2).path("format").asString()).isEqualTo("pbs-vm");

        assertThat(volids(admin.get(CONTENT, Map.of("vmid", "101")).data())).containsExactly(volid("vm", 101, DAY1));
        assertThat(volids(admin.get(CONTENT, Map.of("content", "backup", "vmid", "100")).data())).hasSize(2);
        assertThat(admin.get(CONTENT, Map.of("content", "iso")).data()).isEmpty();
    }

    @Test
    @Order(5)
    void notesAndProtectionAreKeptAndProtectedSnapshotsStay() {
        String volid = volid("ct", 100, DAY1);
        assertThat(admin.put(CONTENT + "/" + volid, Map.of("notes", "before upgrade", "protected", "1")).status()).isEqualTo(200);
        JsonNode info = admin.get(CONTENT + "/" + volid).data();
        assertThat(info.path("notes").asString()).isEqualTo("before upgrade");
        assertThat(info.path("protected").asInt()).isEqualTo(1);
        JsonNode listed = admin.get(CONTENT, Map.of("vmid", "100")).data().get(0);
        assertThat(listed.path("notes").asString()).isEqualTo("before upgrade");
        assertThat(listed.path("protected").asInt()).isEqualTo(1);

        TestClient.Answer refused = admin.call("DELETE", CONTENT + "/" + volid, Map.of());
        assertThat(refused.status()).isNotEqualTo(200);
        assertThat(volids(admin.get(CONTENT).data())).contains(volid);
    }

    @Test
    @Order(6)
    void deleteRemovesOneSnapshot() {
        String volid = volid("vm", 101, DAY1);
        TestClient.Answer answer = admin.call("DELETE", CONTENT + "/" + volid, Map.of("delay", "10"));
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        assertThat(volids(admin.get(CONTENT).data())).doesNotContain(volid).hasSize(2);
        TestClient.Answer gone = admin.get(CONTENT + "/" + volid);
        assertThat(gone.status()).isEqualTo(500);
        assertThat(gone.body().toString()).contains("does not exist");
        assertThat(admin.get(CONTENT + "/ds:backup/vm/101/not-a-time").status()).isEqualTo(400);
    }

    @Test
    @Order(7)
    void vzdumpTakesTheDatastoreAsStorageAndRefusesAnUnknownGuest() {
        // containers are backed up into a datastore (DatastoreVzdumpIT); here no guest 100 exists
        TestClient.Answer answer = admin.post("/nodes/" + NODE + "/vzdump", Map.of("vmid", "100", "storage", "ds"));
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(400);
        assertThat(answer.body().path("errors").has("storage")).as(answer.body().toString()).isFalse();
        assertThat(answer.body().path("errors").path("vmid").asString()).as(answer.body().toString()).isNotEmpty();
        answer = admin.post("/nodes/" + NODE + "/vzdump", Map.of("vmid", "100", "storage", "nosuch"));
        assertThat(answer.body().path("errors").path("storage").asString()).contains("storage 'nosuch' does not exist");
    }

    @Test
    @Order(8)
    void pruneIsSimulatedThenAppliedOnTheDatastore() throws IOException {
        byte[] image = new byte[1 << 20];
        for (Instant day : List.of(DAY1, DAY2, DAY3)) {
            snapshot("ct", 102, day, image);
        }
        String prune = "/nodes/" + NODE + "/storage/ds/prunebackups";
        JsonNode plan = admin.get(prune, Map.of("prune-backups", "keep-last=1")).data();
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put(volid("ct", 100, DAY2), "keep");
        expected.put(volid("ct", 100, DAY1), "protected");
        expected.put(volid("ct", 102, DAY3), "keep");
        expected.put(volid("ct", 102, DAY2), "remove");
        expected.put(volid("ct", 102, DAY1), "remove");
        assertThat(marks(plan)).containsExactlyEntriesOf(expected);
        JsonNode first = plan.get(0);
        assertThat(first.path("type").asString()).isEqualTo("lxc");
        assertThat(first.path("vmid").asInt()).isEqualTo(100);
        assertThat(first.path("ctime").asLong()).isEqualTo(DAY2.getEpochSecond());
        // the storage has no retention: everything is kept
        assertThat(marks(admin.get(prune).data()).values()).containsOnly("keep", "protected");
        assertThat(admin.get(prune, Map.of("prune-backups", "keep-last=1", "type", "qemu")).data()).isEmpty();
        assertThat(marks(admin.get(prune, Map.of("prune-backups", "keep-last=1", "vmid", "102")).data())).hasSize(3);
        List<String> before = volids(admin.get(CONTENT).data());

        for (Map<String, String> bad : List.of(Map.of("prune-backups", "keep-last=x"), Map.of("prune-backups", "keep-all=1,keep-last=1"),
                Map.of("prune-backups", "keep-last=1", "type", "openvz"), Map.of("prune-backups", "keep-last=1", "vmid", "5"))) {
            String name = bad.containsKey("type") ? "type" : bad.containsKey("vmid") ? "vmid" : "prune-backups";
            for (String verb : List.of("GET", "DELETE")) {
                TestClient.Answer answer = admin.call(verb, prune, bad);
                assertThat(answer.status()).as(verb + " " + bad + ": " + answer.body()).isEqualTo(400);
                assertThat(answer.body().path("errors").has(name)).as(answer.body().toString()).isTrue();
            }
        }
        assertThat(volids(admin.get(CONTENT).data())).isEqualTo(before);

        String log = Tasks.awaitOk(daemon, admin.call("DELETE", prune, Map.of("prune-backups", "keep-last=1")));
        assertThat(log).contains("removing backup '" + volid("ct", 102, DAY1) + "'").contains("pruned 2 backup(s)");
        assertThat(volids(admin.get(CONTENT).data()))
                .containsExactly(volid("ct", 100, DAY1), volid("ct", 100, DAY2), volid("ct", 102, DAY3));
    }

    @Test
    @Order(9)
    void pruneWorksOnDirectoryStoragesWithTheirRetention() throws IOException {
        Path dir = base.resolve("dir");
        TestClient.Answer added = admin.post("/storage", Map.of("storage", "dumps", "type", "dir", "path", dir.toString(),
                "content", "backup", "prune-backups", "keep-daily=2"));
        assertThat(added.status()).as(added.body().toString()).isEqualTo(200);
        Path dump = Files.createDirectories(dir.resolve("dump"));
        for (String name : List.of("vzdump-lxc-200-2026_11_01-10_00_00.tar.zst", "vzdump-lxc-200-2026_11_02-09_00_00.tar.zst",
                "vzdump-lxc-200-2026_11_02-10_00_00.tar.zst", "vzdump-lxc-200-2026_11_03-10_00_00.tar.zst",
                "vzdump-qemu-201-2026_11_01-10_00_00.tar")) {
            Files.writeString(dump.resolve(name), name);
        }
        String prune = "/nodes/" + NODE + "/storage/dumps/prunebackups";
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("dumps:backup/vzdump-lxc-200-2026_11_03-10_00_00.tar.zst", "keep");
        expected.put("dumps:backup/vzdump-lxc-200-2026_11_02-10_00_00.tar.zst", "keep");
        expected.put("dumps:backup/vzdump-lxc-200-2026_11_02-09_00_00.tar.zst", "remove");
        expected.put("dumps:backup/vzdump-lxc-200-2026_11_01-10_00_00.tar.zst", "remove");
        expected.put("dumps:backup/vzdump-qemu-201-2026_11_01-10_00_00.tar", "keep");
        JsonNode plan = admin.get(prune).data();
        assertThat(marks(plan)).containsExactlyInAnyOrderEntriesOf(expected);
        assertThat(plan.get(0).path("type").asString()).isEqualTo("lxc");

        Tasks.awaitOk(daemon, admin.call("DELETE", prune, Map.of("vmid", "200")));
        try (Stream<Path> files = Files.list(dump)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly(
                    "vzdump-lxc-200-2026_11_02-10_00_00.tar.zst", "vzdump-lxc-200-2026_11_03-10_00_00.tar.zst",
                    "vzdump-qemu-201-2026_11_01-10_00_00.tar");
        }
        assertThat(admin.post("/access/users", Map.of("userid", "pruner@pve", "password", "pruner-pass-1")).status()).isEqualTo(200);
        TestClient nobody = new TestClient(daemon.port()).login("pruner@pve", "pruner-pass-1");
        assertThat(nobody.get(prune).status()).isEqualTo(403);
        assertThat(nobody.call("DELETE", prune, Map.of("vmid", "201")).status()).isEqualTo(403);
        assertThat(marks(admin.get(prune).data())).containsEntry("dumps:backup/vzdump-qemu-201-2026_11_01-10_00_00.tar", "keep");
        TestClient.Answer noBackups = admin.get("/nodes/" + NODE + "/storage/local/prunebackups", Map.of("prune-backups", "keep-last=1"));
        assertThat(noBackups.status()).isEqualTo(200);
    }
}
