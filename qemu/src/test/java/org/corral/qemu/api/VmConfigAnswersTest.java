package org.corral.qemu.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.access.Privilege;
import org.corral.core.api.HttpVerb;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.process.ProcessRunner;
import org.corral.qemu.it.ApiClient;
import org.corral.qemu.it.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Config answers as qemu-server writes them: {@code size=} of existing volumes, {@code GET config}
 * with and without {@code current}/{@code snapshot}, {@code GET pending}, and {@code import-from}.
 */
class VmConfigAnswersTest {
    static TestNode node;
    static ApiClient api;

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode("pve1");
        api = new ApiClient(node.service());
    }

    @AfterAll
    static void stop() throws Exception {
        node.close();
    }

    static void create(int vmid, Map<String, String> params) throws Exception {
        Map<String, String> all = new LinkedHashMap<>(params);
        all.put("vmid", Integer.toString(vmid));
        String upid = (String) api.post("/nodes/pve1/qemu", all);
        assertThat(node.await(upid, Duration.ofSeconds(30))).as(node.log(upid)).isEqualTo("OK");
    }

    static void destroy(int vmid) throws Exception {
        String upid = (String) api.delete("/nodes/pve1/qemu/" + vmid, Map.of("purge", "1", "destroy-unreferenced-disks", "1"));
        assertThat(node.await(upid, Duration.ofSeconds(30))).as(node.log(upid)).isEqualTo("OK");
    }

    static String option(int vmid, String key) {
        return node.service().configs().load(vmid).config().get(key).orElseThrow();
    }

    /** Writes a file at the path of a volume id of the {@code local} storage. */
    static Path volumeFile(String volid) throws Exception {
        Path path = node.service().volumes().path(volid);
        Files.createDirectories(path.getParent());
        return path;
    }

    static void qemuImg(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("qemu-img"));
        all.addAll(List.of(args));
        ProcessRunner.of(all.toArray(String[]::new)).output();
    }

    @Test
    void existingVolumesGetTheirSizeFromTheStorageOnCreateAndUpdate() throws Exception {
        String disk = node.service().volumes().alloc("local", 300, Optional.of("qcow2"), Optional.empty(), 64L << 20);
        Path iso = volumeFile("local:iso/answers.iso");
        Files.write(iso, new byte[3 << 20]);
        Path raw = node.dir().resolve("plain.raw");
        Files.write(raw, new byte[5 << 20]);
        // a size given by the caller is replaced by the volume's, as qemu-server does for a volume new to the key
        create(300, Map.of("memory", "128", "scsi0", disk + ",size=1G", "ide2", "local:iso/answers.iso,media=cdrom"));
        assertThat(option(300, "scsi0")).isEqualTo(disk + ",size=64M");
        assertThat(option(300, "ide2")).isEqualTo("local:iso/answers.iso,media=cdrom,size=3M");

        String second = node.service().volumes().alloc("local", 300, Optional.of("raw"), Optional.empty(), 2L << 30);
        api.put("/nodes/pve1/qemu/300/config", Map.of("scsi1", second, "scsi2", raw.toString()));
        assertThat(option(300, "scsi1")).isEqualTo(second + ",size=2G");
        assertThat(option(300, "scsi2")).isEqualTo(raw + ",size=5M");

        // the same volume again: its size is still the storage's, whatever the caller wrote
        api.put("/nodes/pve1/qemu/300/config", Map.of("scsi0", disk + ",iothread=1,size=3G"));
        assertThat(option(300, "scsi0")).isEqualTo(disk + ",iothread=1,size=64M");
        api.put("/nodes/pve1/qemu/300/config", Map.of("scsi0", disk + ",iothread=1"));
        assertThat(option(300, "scsi0")).isEqualTo(disk + ",iothread=1,size=64M");

        // an import image is no disk: only images and iso content attach
        Path image = volumeFile("local:import/attach-me.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", image.toString(), "8M");
        assertThatThrownBy(() -> api.put("/nodes/pve1/qemu/300/config", Map.of("scsi3", "local:import/attach-me.qcow2")))
                .isInstanceOf(ParameterError.class).hasMessageContaining("scsi3")
                .hasMessageContaining("content type needs to be 'images' or 'iso'");
        Files.delete(image);
        api.put("/nodes/pve1/qemu/300/config", Map.of("delete", "scsi2"));
        destroy(300);
        Files.delete(iso);
    }

    @Test
    void missingVolumeIsRefusedNamingTheKeyAndCreatesNothing() throws Exception {
        assertThatThrownBy(() -> api.post("/nodes/pve1/qemu", Map.of("vmid", "301", "scsi0", "local:301/vm-301-disk-0.raw")))
                .isInstanceOf(ParameterError.class)
                .satisfies(e -> assertThat(((ParameterError) e).errors()).containsKey("scsi0"));
        assertThat(node.config(301)).isEmpty();
    }

    /** One {@code GET config} call and the values it must (and must not) answer. */
    record ConfigCase(String name, Map<String, String> params, Map<String, String> expected, List<String> absent) {}

    @Test
    void configAnswersFollowCurrentPendingAndSnapshotRules() throws Exception {
        create(302, Map.of("memory", "128", "cores", "1", "name", "before", "cipassword", "secret"));
        node.store().update("nodes/pve1/qemu-server/302.conf", text -> text.replace("name: before\n", "name: before\nparent: s1\n")
                + "\n[PENDING]\ncores: 2\nname: after\ndelete: memory,!cipassword\n"
                + "\n[s1]\ncores: 4\nmemory: 512\nname: snap\nsnaptime: 1700000000\n");
        String digest = ((JsonNode) api.get("/nodes/pve1/qemu/302/config", Map.of("current", "1"))).path("digest").asString();
        assertThat(digest).hasSize(40);
        List<ConfigCase> cases = List.of(
                new ConfigCase("pending applied", Map.of(), Map.of("cores", "2", "name", "after", "parent", "s1"),
                        List.of("memory", "cipassword", "snaptime")),
                new ConfigCase("current=0 is the default", Map.of("current", "0"), Map.of("cores", "2", "name", "after"),
                        List.of("memory", "cipassword")),
                new ConfigCase("current values", Map.of("current", "1"),
                        Map.of("cores", "1", "memory", "128", "name", "before", "cipassword", "**********"), List.of()),
                new ConfigCase("snapshot values", Map.of("snapshot", "s1"),
                        Map.of("cores", "4", "memory", "512", "name", "snap", "snaptime", "1700000000"), List.of("parent")),
                new ConfigCase("snapshot wins over current", Map.of("snapshot", "s1", "current", "1"),
                        Map.of("cores", "4", "name", "snap"), List.of()));
        for (ConfigCase c : cases) {
            JsonNode got = (JsonNode) api.get("/nodes/pve1/qemu/302/config", c.params());
            c.expected().forEach((key, value) -> assertThat(got.path(key).asString()).as(c.name() + ": " + key).isEqualTo(value));
            c.absent().forEach(key -> assertThat(got.has(key)).as(c.name() + ": " + key + " absent").isFalse());
            assertThat(got.path("digest").asString()).as(c.name() + ": digest of the file").isEqualTo(digest);
            assertThat(got.has("pending")).as(c.name()).isFalse();
        }
        assertThatThrownBy(() -> api.get("/nodes/pve1/qemu/302/config", Map.of("snapshot", "nope")))
                .hasMessageContaining("snapshot 'nope' does not exist");

        JsonNode pending = (JsonNode) api.get("/nodes/pve1/qemu/302/pending", Map.of());
        // key -> {value, pending, delete} as qemu-server's config_with_pending_array
        record Row(String key, String value, String pending, int delete) {}
        List<Row> rows = List.of(
                new Row("cores", "1", "2", 0),
                new Row("name", "before", "after", 0),
                new Row("memory", "128", null, 1),
                new Row("cipassword", "**********", null, 2),
                new Row("parent", "s1", null, 0),
                new Row("digest", digest, null, 0));
        for (Row row : rows) {
            JsonNode item = find(pending, row.key());
            // typed as the option's schema, as qemu-server's check_type leaves the parsed values
            assertThat(item.path("value").isNumber()).as(row.key()).isEqualTo(row.key().equals("cores"));
            assertThat(item.path("value").asString()).as(row.key()).isEqualTo(row.value());
            assertThat(item.has("pending") ? item.path("pending").asString() : null).as(row.key()).isEqualTo(row.pending());
            assertThat(item.path("delete").asInt(0)).as(row.key()).isEqualTo(row.delete());
        }
        for (JsonNode item : pending) {
            assertThat(item.path("key").asString()).isNotIn("snaptime", "delete", "PENDING");
        }
        api.put("/nodes/pve1/qemu/302/config", Map.of("revert", "cores,name,memory,cipassword"));
        api.put("/nodes/pve1/qemu/302/config", Map.of("cipassword", "other"));
        destroy(302);
    }

    @Test
    void pendingPasswordIsMaskedDifferentlyFromTheCurrentOne() throws Exception {
        create(303, Map.of("memory", "128", "cipassword", "secret"));
        node.store().update("nodes/pve1/qemu-server/303.conf", text -> text + "\n[PENDING]\ncipassword: $6$x$y\n");
        JsonNode item = find((JsonNode) api.get("/nodes/pve1/qemu/303/pending", Map.of()), "cipassword");
        assertThat(item.path("value").asString()).isEqualTo("**********");
        assertThat(item.path("pending").asString()).isEqualTo("********** ");
        destroy(303);
    }

    @Test
    void importFromConvertsQcow2RawAndVmdkOfImportContent() throws Exception {
        Path dir = Files.createTempDirectory(node.dir(), "img");
        Map<String, String> volids = new LinkedHashMap<>();
        for (String format : List.of("qcow2", "raw", "vmdk")) {
            Path made = dir.resolve("src." + format);
            qemuImg("create", "-q", "-f", format, made.toString(), "40M");
            ProcessRunner.of("qemu-io", "-f", format, "-c", "write -P 0x" + (format.length() + 0x40) + " 1M 2M", made.toString()).output();
            String volid = "local:import/cloud-" + format + "." + format;
            Files.copy(made, volumeFile(volid));
            volids.put(format, volid);
        }
        create(304, Map.of("memory", "128", "scsi0", "local:0,import-from=" + volids.get("qcow2"),
                "scsi1", "local:0,format=qcow2,import-from=" + volids.get("raw"),
                "virtio0", "local:1,import-from=" + volids.get("vmdk")));
        assertThat(option(304, "scsi0")).isEqualTo("local:304/vm-304-disk-0.raw,size=40M");
        assertThat(option(304, "scsi1")).isEqualTo("local:304/vm-304-disk-1.qcow2,format=qcow2,size=40M");
        // a larger size than the image's grows the new disk
        assertThat(option(304, "virtio0")).isEqualTo("local:304/vm-304-disk-2.raw,size=1G");
        compare(volids.get("qcow2"), "qcow2", "local:304/vm-304-disk-0.raw", "raw");
        compare(volids.get("raw"), "raw", "local:304/vm-304-disk-1.qcow2", "qcow2");

        // config PUT imports too, here from a path only root may use
        Path abs = dir.resolve("src.qcow2");
        api.put("/nodes/pve1/qemu/304/config", Map.of("scsi2", "local:0,import-from=" + abs));
        assertThat(option(304, "scsi2")).isEqualTo("local:304/vm-304-disk-3.raw,size=40M");
        ProcessRunner.of("qemu-img", "compare", "-f", "qcow2", "-F", "raw", abs.toString(),
                node.service().volumes().path("local:304/vm-304-disk-3.raw").toString()).output();
        destroy(304);
        for (String volid : volids.values()) {
            Files.delete(node.service().volumes().path(volid));
        }
    }

    @Test
    void failedImportOnConfigUpdateFreesWhatItAllocatedAndKeepsTheConfig() throws Exception {
        Path corrupt = Files.createTempDirectory(node.dir(), "corrupt").resolve("corrupt.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", corrupt.toString(), "4M");
        ProcessRunner.of("qemu-io", "-c", "write -P 0x11 0 64k", corrupt.toString()).output();
        // the first data cluster points at an unaligned offset: qemu-img info reads it, convert fails
        try (var file = new java.io.RandomAccessFile(corrupt.toFile(), "rw")) {
            file.seek(40);
            file.seek(file.readLong());
            file.seek(file.readLong() & 0x00fffffffffffe00L);
            file.writeLong(0x8000000000000000L | 0x10200L);
        }
        create(307, Map.of("memory", "128"));
        String before = node.config(307).orElseThrow();
        assertThatThrownBy(() -> api.put("/nodes/pve1/qemu/307/config", Map.of("scsi0", "local:1", "scsi1", "local:0,import-from=" + corrupt)));
        assertThat(node.config(307)).contains(before);
        assertThat(node.storageFiles()).noneMatch(f -> f.contains("/307/"));
        destroy(307);
    }

    @Test
    void importVolumeIsReadInTheFormatItsNameGives() throws Exception {
        // a .raw import whose bytes start like a qcow2 is copied byte for byte, never opened as qcow2
        Path inner = Files.createTempDirectory(node.dir(), "fmt").resolve("inner.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", inner.toString(), "1G");
        Path raw = volumeFile("local:import/looks-like-qcow2.raw");
        Files.copy(inner, raw);
        try (var file = new java.io.RandomAccessFile(raw.toFile(), "rw")) {
            file.setLength(1 << 20);
        }
        create(308, Map.of("memory", "128", "scsi0", "local:0,import-from=local:import/looks-like-qcow2.raw"));
        Path disk = node.service().volumes().path("local:308/vm-308-disk-0.raw");
        assertThat(option(308, "scsi0")).isEqualTo("local:308/vm-308-disk-0.raw,size=1M");
        assertThat(Files.readAllBytes(disk)).isEqualTo(Files.readAllBytes(raw));
        destroy(308);
        Files.delete(raw);
    }

    private static void compare(String source, String sourceFormat, String target, String targetFormat) {
        ProcessRunner.of("qemu-img", "compare", "-f", sourceFormat, "-F", targetFormat,
                node.service().volumes().path(source).toString(), node.service().volumes().path(target).toString()).output();
    }

    @Test
    void badImportSourcesAreRefusedNamingTheDiskAndCreateNothing() throws Exception {
        Path dir = Files.createTempDirectory(node.dir(), "bad");
        Path vdi = dir.resolve("disk.vdi");
        qemuImg("create", "-q", "-f", "vdi", vdi.toString(), "8M");
        Path iso = volumeFile("local:iso/not-an-image.iso");
        Files.write(iso, new byte[1 << 20]);
        Path backed = volumeFile("local:import/backed.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", "-b", vdi.toString(), "-F", "vdi", backed.toString());
        Path flat = volumeFile("local:import/flat.vmdk");
        qemuImg("create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat", flat.toString(), "8M");
        record Bad(String source, String words) {}
        List<Bad> bad = List.of(
                new Bad(vdi.toString(), "unsupported image format 'vdi'"),
                new Bad(dir.resolve("missing.qcow2").toString(), "does not exist"),
                new Bad(dir.toString(), "is a directory"),
                new Bad("local:iso/not-an-image.iso", "content type 'iso'"),
                new Bad("local:import/missing.qcow2", "does not exist"),
                new Bad("nowhere:import/x.qcow2", "nowhere"),
                new Bad("local:import/backed.qcow2", "has a backing file"),
                new Bad("local:import/flat.vmdk", "'monolithicFlat' refers to other files"));
        for (Bad b : bad) {
            assertThatThrownBy(() -> api.post("/nodes/pve1/qemu", Map.of("vmid", "305", "scsi0", "local:1",
                    "scsi1", "local:0,import-from=" + b.source())))
                    .as(b.source())
                    .isInstanceOf(ParameterError.class)
                    .satisfies(e -> assertThat(((ParameterError) e).errors()).containsOnlyKeys("scsi1"))
                    .hasMessageContaining("import-from").hasMessageContaining(b.words());
            assertThat(node.config(305)).as(b.source()).isEmpty();
            assertThat(node.storageFiles()).as(b.source()).noneMatch(f -> f.contains("/305/"));
        }
        create(306, Map.of("memory", "128"));
        String before = node.config(306).orElseThrow();
        assertThatThrownBy(() -> api.put("/nodes/pve1/qemu/306/config", Map.of("scsi0", "local:0,import-from=" + vdi)))
                .isInstanceOf(ParameterError.class).hasMessageContaining("scsi0");
        assertThat(node.config(306)).contains(before);
        assertThat(node.storageFiles()).noneMatch(f -> f.contains("/306/"));

        // a non-root caller is refused an absolute path, whether it exists or not, before it is looked at
        var ops = ApiClient.user("ops@pve");
        api.grant("ops@pve", "/vms/306", Privilege.VM_CONFIG_DISK);
        api.grant("ops@pve", "/storage/local", Privilege.DATASTORE_ALLOCATE_SPACE);
        for (String source : List.of(vdi.toString(), "/nonexistent/x.qcow2")) {
            assertThatThrownBy(() -> api.call(ops, HttpVerb.PUT, "/nodes/pve1/qemu/306/config",
                    Map.of("scsi0", "local:0,import-from=" + source)))
                    .isInstanceOf(PermissionDenied.class).hasMessageContaining("only root").hasMessageContaining("scsi0");
        }
        assertThat(node.config(306)).contains(before);
        destroy(306);
        Files.delete(iso);
        Files.delete(backed);
        Files.delete(flat);
        Files.deleteIfExists(flat.resolveSibling("flat-flat.vmdk"));
    }

    private static JsonNode find(JsonNode list, String key) {
        for (JsonNode item : list) {
            if (item.path("key").asString().equals(key)) {
                return item;
            }
        }
        throw new AssertionError("no pending entry for " + key + " in " + list);
    }
}
