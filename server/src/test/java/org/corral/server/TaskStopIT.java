package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * {@code DELETE /nodes/{node}/tasks/{upid}} stops a task whose host program hangs: a VM start
 * whose pre-start hookscript never returns (and leaves a child of its own running) ends within
 * two seconds, with the script and its child gone.
 */
class TaskStopIT {
    private static final String NODE = "stopnode";
    private static final String PASSWORD = "admin-pass-1";

    @TempDir
    Path dataDir;

    private Path pidFile;

    @AfterEach
    void killLeftovers() throws IOException {
        for (long pid : pids()) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void stoppingAStartWhoseHookscriptHangsKillsTheScriptAndItsChildWithinTwoSeconds() throws Exception {
        pidFile = dataDir.resolve("hook.pids");
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, dataDir, "127.0.0.1", 0, Optional.of(PASSWORD)))) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            Path snippets = Files.createDirectories(daemon.node().dataDir().resolve("storage/local/snippets"));
            Path hook = snippets.resolve("hang.sh");
            Files.writeString(hook, "#!/bin/sh\necho \"hook $2 of $1 waits\"\necho $$ >> " + pidFile + "\nsleep 300 &\necho $! >> " + pidFile
                    + "\nsleep 300\n");
            Files.setPosixFilePermissions(hook, PosixFilePermissions.fromString("rwxr-xr-x"));
            // only root@pam may set a hookscript through the API; the config store takes it directly
            daemon.store().overwrite("nodes/" + NODE + "/qemu-server/900.conf", "memory: 64\nkvm: 0\nhookscript: local:snippets/hang.sh\n");

            String start = admin.post("/nodes/" + NODE + "/qemu/900/status/start", Map.of()).data().asString();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> pids().size() == 2);
            // the script's output reaches the task log a moment after its pids reach the file
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(log(admin, start)).contains("GUEST HOOK: pre-start", "hook pre-start of 900 waits"));
            assertThat(pids()).allMatch(TaskStopIT::alive);

            long begin = System.nanoTime();
            assertThat(admin.delete("/nodes/" + NODE + "/tasks/" + start).status()).isEqualTo(200);
            JsonNode status = awaitEnd(admin, start, Duration.ofSeconds(2));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);

            assertThat(status.path("status").asString()).as("after %d ms", millis).isEqualTo("stopped");
            assertThat(status.path("exitstatus").asString()).isEqualTo("interrupted by signal");
            assertThat(millis).isLessThan(2_000);
            assertThat(pids()).noneMatch(TaskStopIT::alive);
            JsonNode vm = admin.get("/nodes/" + NODE + "/qemu/900/status/current").data();
            assertThat(vm.path("status").asString()).isEqualTo("stopped");
        }
    }

    private static JsonNode awaitEnd(TestClient admin, String upid, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            JsonNode status = admin.get("/nodes/" + NODE + "/tasks/" + upid + "/status").data();
            if (status.path("status").asString().equals("stopped") || System.nanoTime() > deadline) {
                return status;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return status;
            }
        }
    }

    private static List<String> log(TestClient admin, String upid) {
        return admin.get("/nodes/" + NODE + "/tasks/" + upid + "/log").data().valueStream().map(l -> l.path("t").asString()).toList();
    }

    private List<Long> pids() throws IOException {
        if (pidFile == null || !Files.exists(pidFile)) {
            return List.of();
        }
        return Files.readAllLines(pidFile).stream().filter(l -> !l.isBlank()).map(Long::parseLong).toList();
    }

    /** Alive and not a zombie waiting for its reaper. */
    private static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }
}
