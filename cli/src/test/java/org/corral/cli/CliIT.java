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
