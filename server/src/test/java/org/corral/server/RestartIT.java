package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** What a node keeps across restarts, clean ones and {@code kill -9}. */
class RestartIT {
    @TempDir
    Path dataDir;

    private CorralDaemon start() throws Exception {
        return CorralDaemon.start(new CorralDaemon.Options("restartnode", dataDir, "127.0.0.1", 0, Optional.of("admin-pass-1")));
    }

    @Test
    void usersTokensAclsAndTaskHistorySurviveARestart() throws Exception {
        String secret;
        Upid finished;
        Upid running;
        try (CorralDaemon daemon = start()) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", "admin-pass-1");
            assertThat(admin.post("/access/groups", Map.of("groupid", "keepers")).status()).isEqualTo(200);
            assertThat(admin.post("/access/users", Map.of("userid", "keeper@pve", "password", "keeper-pass-1", "groups", "keepers"))
                    .status()).isEqualTo(200);
            assertThat(admin.put("/access/acl", Map.of("path", "/", "roles", "PVEAuditor", "groups", "keepers")).status()).isEqualTo(200);
            TestClient.Answer token = admin.post("/access/users/keeper@pve/token/t1", Map.of("privsep", "0"));
            assertThat(token.status()).isEqualTo(200);
            secret = token.data().path("value").asString();
            finished = daemon.tasks().start("testtask", "", "admin@pve", ctx -> ctx.log("did the work"));
            daemon.tasks().awaitCompletion(finished, Duration.ofSeconds(10));
            running = daemon.tasks().start("longtask", "", "admin@pve", ctx -> Thread.sleep(600_000));
        }
        try (CorralDaemon daemon = start()) {
            assertThat(daemon.initializedNow()).isFalse();
            TestClient keeper = new TestClient(daemon.port()).login("keeper@pve", "keeper-pass-1");
            assertThat(keeper.get("/nodes/restartnode/status").status()).isEqualTo(200);
            TestClient byToken = new TestClient(daemon.port()).token("keeper@pve!t1", secret);
            assertThat(byToken.get("/nodes/restartnode/status").status()).isEqualTo(200);
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", "admin-pass-1");
            JsonNode tasks = admin.get("/nodes/restartnode/tasks", Map.of("source", "all")).data();
            assertThat(tasks.valueStream().map(t -> t.path("upid").asString()))
                    .contains(finished.format(), running.format());
            JsonNode status = admin.get("/nodes/restartnode/tasks/" + running.format() + "/status").data();
            assertThat(status.path("status").asString()).isEqualTo(TaskStatus.STOPPED);
            assertThat(status.path("exitstatus").asString()).isNotEqualTo("OK");
            JsonNode log = admin.get("/nodes/restartnode/tasks/" + finished.format() + "/log").data();
            assertThat(log.get(0).path("t").asString()).isEqualTo("did the work");
        }
    }

    @Test
    void everyAcknowledgedWriteSurvivesKill9() throws Exception {
        int port;
        try (CorralDaemon daemon = start()) {
            port = daemon.port();
        }
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                WriterMain.class.getName(), dataDir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<String> acknowledged = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    acknowledged.add(line.substring(4));
                    if (acknowledged.size() >= 60) {
                        break;
                    }
                }
            }
        } finally {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(60);
        try (CorralDaemon daemon = start()) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", "admin-pass-1");
            List<String> groups = admin.get("/access/groups").data().valueStream().map(g -> g.path("groupid").asString()).toList();
            assertThat(groups).containsAll(acknowledged);
        }
        assertThat(port).isPositive();
    }

    /** Runs a node in its own process and creates groups as fast as it can, printing each acknowledged one. */
    public static final class WriterMain {
        public static void main(String[] args) throws Exception {
            CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options("restartnode", Path.of(args[0]), "127.0.0.1", 0,
                    Optional.of("admin-pass-1")));
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", "admin-pass-1");
            for (int i = 0; ; i++) {
                String group = "burst" + i;
                TestClient.Answer answer = admin.post("/access/groups", Map.of("groupid", group));
                if (answer.status() == 200) {
                    System.out.println("ACK " + group);
                    System.out.flush();
                }
            }
        }
    }

}
