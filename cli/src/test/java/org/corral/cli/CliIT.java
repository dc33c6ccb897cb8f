package org.corral.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.corral.core.json.Json;
import org.corral.server.CorralDaemon;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** {@code corral api} against a real node, as root on the node (no password) and remotely with a token. */
class CliIT {
    @TempDir
    static Path dataDir;
    static CorralDaemon daemon;

    @BeforeAll
    static void start() throws Exception {
        daemon = CorralDaemon.start(new CorralDaemon.Options("clinode", dataDir, "127.0.0.1", 0, Optional.of("cli-pass-1")));
    }

    @AfterAll
    static void stop() {
        daemon.close();
    }

    private record Run(int status, String out, String err) {}

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.api(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void rootOnTheNodeCallsTheApiWithoutAPassword() {
        Run version = run("get", "/version", "--data-dir", dataDir.toString(), "--output-format", "json");
        assertThat(version.status()).as(version.err()).isZero();
        assertThat(Json.read(version.out()).path("product").asString()).isEqualTo("corral");

        Run create = run("create", "/access/groups", "--groupid", "cli-made", "--comment", "from the CLI", "--data-dir", dataDir.toString());
        assertThat(create.status()).as(create.err()).isZero();
        Run groups = run("get", "/access/groups", "--data-dir", dataDir.toString(), "--output-format", "json");
        assertThat(Json.read(groups.out()).valueStream().map(g -> g.path("groupid").asString())).contains("cli-made");
    }

    private static Run cluster(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--data-dir", dataDir.toString()));
        int status = Main.cluster(all, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void clusterVerbsCreateTheClusterAndMakeAJoinToken() throws Exception {
        Run create = cluster("create", "clilab");
        assertThat(create.status()).as(create.err()).isZero();
        assertThat(create.out()).startsWith("UPID:clinode:");
        Run status = cluster("status", "--output-format", "json");
        for (int i = 0; i < 50 && !status.out().contains("clilab"); i++) {
            Thread.sleep(100);
            status = cluster("status", "--output-format", "json");
        }
        assertThat(Json.read(status.out()).get(0).path("name").asString()).isEqualTo("clilab");
        Run nodes = cluster("nodes", "--output-format", "json");
        assertThat(Json.read(nodes.out()).get(0).path("name").asString()).isEqualTo("clinode");
        Run token = cluster("token", "--output-format", "json");
        assertThat(Json.read(token.out()).path("token").asString()).startsWith("corral-join-");
        assertThat(cluster("join", "127.0.0.1:1", "--fingerprint", "AA", "--password", "secret-on-the-command-line").status()).isEqualTo(2);
        assertThat(cluster("frobnicate").status()).isEqualTo(2);
    }

    private static Run firewall(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--data-dir", dataDir.toString()));
        int status = Main.firewall(all, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void firewallSimulateShowsTheVerdictAndTheRulesPassed() {
        // not enforced by a test node, so the simulator runs what the files compile to
        assertThat(run("set", "/cluster/firewall/options", "--enable", "1", "--data-dir", dataDir.toString()).status()).isZero();
        Run sim = firewall("simulate", "--from", "host", "--to", "host", "--protocol", "tcp", "--source", "127.0.0.1", "--dest",
                "127.0.0.1", "--dport", "22");
        assertThat(sim.status()).as(sim.err()).isZero();
        assertThat(sim.out()).startsWith("verdict: ACCEPT, reply: ACCEPT (connects)   ruleset: compiled");
        // the host's own traffic goes over loopback, which the host tier always lets through
        assertThat(sim.out()).containsPattern("request inet +output +output#\\d+ +accept");
        Run json = firewall("simulate", "--from", "host", "--to", "host", "--protocol", "udp", "--source", "127.0.0.1", "--dest",
                "127.0.0.1", "--dport", "53", "--output-format", "json");
        assertThat(Json.read(json.out()).path("verdict").asString()).isEqualTo("ACCEPT");
        Run bad = firewall("simulate", "--from", "vm", "--to", "host", "--protocol", "tcp", "--source", "127.0.0.1", "--dest",
                "127.0.0.1");
        assertThat(bad.status()).isEqualTo(1);
        assertThat(bad.err()).contains("from: expected 'host', 'outside', 'vm<ID>' or 'ct<ID>'").contains("dport: is needed");
        assertThat(firewall("frobnicate").status()).isEqualTo(2);
    }

    private static Run storage(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--data-dir", dataDir.toString()));
        int status = Main.storage(all, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void storageVerbsAllocateListResolveAndFreeARealVolume() throws Exception {
        Run alloc = storage("alloc", "local", "123", "vm-123-disk-0.raw", "4M", "--format", "raw");
        assertThat(alloc.status()).as(alloc.err()).isZero();
        assertThat(alloc.out().strip()).isEqualTo("local:123/vm-123-disk-0.raw");
        Run path = storage("path", "local:123/vm-123-disk-0.raw");
        Path file = Path.of(path.out().strip());
        assertThat(java.nio.file.Files.size(file)).isEqualTo(4L << 20);
        assertThat(storage("list", "local", "--vmid", "123").out()).contains("volid=local:123/vm-123-disk-0.raw");
        assertThat(storage("free", "local:123/vm-123-disk-0.raw").status()).isZero();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !java.nio.file.Files.exists(file));
        Run escape = storage("path", "local:../../etc/passwd");
        assertThat(escape.status()).isEqualTo(1);
        assertThat(escape.err()).contains("..");
        assertThat(storage("status").out()).contains("storage=local").contains("active=1");
    }

    @Test
    void exportThenImportCopiesAVolumeByteForByte() throws Exception {
        assertThat(storage("alloc", "local", "125", "vm-125-disk-0.raw", "1M", "--format", "raw").status()).isZero();
        Path source = Path.of(storage("path", "local:125/vm-125-disk-0.raw").out().strip());
        byte[] content = new byte[1 << 20];
        new java.util.Random(125).nextBytes(content);
        java.nio.file.Files.write(source, content);
        Path stream = dataDir.resolve("vm-125.raw+size");
        Run export = storage("export", "local:125/vm-125-disk-0.raw", "raw+size", stream.toString());
        assertThat(export.status()).as(export.err()).isZero();
        Run imported = storage("import", "local:126/vm-126-disk-0.raw", "raw+size", stream.toString());
        assertThat(imported.status()).as(imported.err()).isZero();
        Path copy = Path.of(storage("path", "local:126/vm-126-disk-0.raw").out().strip());
        assertThat(java.nio.file.Files.readAllBytes(copy)).isEqualTo(content);
        assertThat(storage("export", "local:125/missing.raw", "raw+size", dataDir.resolve("x").toString()).status()).isEqualTo(1);
        storage("free", "local:125/vm-125-disk-0.raw");
        storage("free", "local:126/vm-126-disk-0.raw");
    }

    @Test
    void badParameterIsReportedByNameWithStatusOne() {
        Run bad = run("set", "/cluster/options", "--max_workers", "many", "--data-dir", dataDir.toString());
        assertThat(bad.status()).isEqualTo(1);
        assertThat(bad.err()).contains("max_workers").contains("type check ('integer') failed");
    }

    @Test
    void lsAndUsageComeFromTheDeclarations() {
        Run ls = run("ls", "/nodes/clinode", "--data-dir", dataDir.toString());
        assertThat(ls.out()).contains("tasks").contains("status").contains("syslog");
        Run usage = run("usage", "/access/users", "--data-dir", dataDir.toString());
        assertThat(usage.out()).contains("corral api create /access/users").contains("--userid");
    }

    @Test
    void remoteUseTakesAHostAndAnApiToken() {
        Run token = run("create", "/access/users/admin@pve/token/cli", "--privsep", "0", "--data-dir", dataDir.toString(),
                "--output-format", "json");
        assertThat(token.status()).as(token.err()).isZero();
        JsonNode created = Json.read(token.out());
        String tokenArg = created.path("full-tokenid").asString() + "=" + created.path("value").asString();
        String fingerprint = org.corral.server.tls.CertificateInfo.of("x",
                daemon.store().read("nodes/clinode/pve-ssl.pem").orElseThrow().text()).fingerprint();
        Run remote = run("get", "/nodes", "--host", "127.0.0.1:" + daemon.port(), "--token", tokenArg,
                "--fingerprint", fingerprint, "--output-format", "json");
        assertThat(remote.status()).as(remote.err()).isZero();
        assertThat(Json.read(remote.out()).get(0).path("node").asString()).isEqualTo("clinode");

        Run wrongPin = run("get", "/nodes", "--host", "127.0.0.1:" + daemon.port(), "--token", tokenArg,
                "--fingerprint", "00:11", "--output-format", "json");
        assertThat(wrongPin.status()).isEqualTo(1);
        Run badToken = run("get", "/nodes", "--host", "127.0.0.1:" + daemon.port(), "--token", "admin@pve!cli=nope",
                "--fingerprint", fingerprint);
        assertThat(badToken.status()).isEqualTo(1);
    }
}
