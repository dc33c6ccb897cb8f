package org.corral.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.corral.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class QmpClientTest {
    @TempDir
    Path dir;

    @Test
    void connectReadsTheGreetingAndLeavesNegotiationMode() throws Exception {
        try (QmpPeer peer = new QmpPeer(dir.resolve("100.qmp"), QmpPeer.Mode.QMP, false);
                QmpClient client = QmpClient.connect(peer.socket(), Duration.ofSeconds(2))) {
            assertThat(client.greeting().path("version").path("qemu").path("major").asInt()).isEqualTo(7);
            assertThat(peer.received).containsExactly("qmp_capabilities");
        }
    }

    @Test
    void repliesReachTheirCallerByIdEvenWhenAnsweredOutOfOrder() throws Exception {
        CountDownLatch slowStarted = new CountDownLatch(1);
        CountDownLatch fastDone = new CountDownLatch(1);
        try (QmpPeer peer = new QmpPeer(dir.resolve("100.qmp"), QmpPeer.Mode.QMP, false)
                .on("slow", args -> {
                    slowStarted.countDown();
                    await(fastDone);
                    return Map.of("who", "slow");
                })
                .on("fast", args -> Map.of("who", "fast"));
                QmpClient client = QmpClient.connect(peer.socket(), Duration.ofSeconds(2))) {
            CompletableFuture<JsonNode> slow = CompletableFuture.supplyAsync(() -> client.execute("slow"));
            assertThat(slowStarted.await(2, TimeUnit.SECONDS)).isTrue();
            assertThat(client.execute("fast").path("who").asString()).isEqualTo("fast");
            fastDone.countDown();
            assertThat(slow.get(2, TimeUnit.SECONDS).path("who").asString()).isEqualTo("slow");
        }
    }

    @Test
    void errorAnswerCarriesQemusClassAndDescription() throws Exception {
        try (QmpPeer peer = new QmpPeer(dir.resolve("100.qmp"), QmpPeer.Mode.QMP, false)
                .on("block_resize", args -> new QmpPeer.Failure("GenericError", "Cannot shrink image"));
                QmpClient client = QmpClient.connect(peer.socket(), Duration.ofSeconds(2))) {
            assertThatThrownBy(() -> client.execute("block_resize", Map.of("device", "drive-scsi0", "size", 1)))
                    .isInstanceOf(QmpException.class).hasMessage("Cannot shrink image")
                    .satisfies(e -> assertThat(((QmpException) e).errorClass()).contains("GenericError"));
        }
    }

    @Test
    void unansweredCommandTimesOutAndTheConnectionStaysUsable() throws Exception {
        try (QmpPeer peer = new QmpPeer(dir.resolve("100.qmp"), QmpPeer.Mode.QMP, false)
                .on("hang", args -> null)
                .on("query-status", args -> Map.of("status", "running", "running", true));
                QmpClient client = QmpClient.connect(peer.socket(), Duration.ofSeconds(2))) {
            assertThatThrownBy(() -> client.execute("hang", Map.of(), Duration.ofMillis(200)))
                    .isInstanceOf(QmpException.Timeout.class).hasMessageContaining("'hang' got timeout");
            assertThat(client.execute("query-status").path("status").asString()).isEqualTo("running");
        }
    }

    @Test
    void eventsReachEveryListenerUntilItUnsubscribes() throws Exception {
        List<QmpEvent> seen = new CopyOnWriteArrayList<>();
        try (QmpPeer peer = new QmpPeer(dir.resolve("100.qmp"), QmpPeer.Mode.QMP, false);
                QmpClient client = QmpClient.connect(peer.socket(), Duration.ofSeconds(2))) {
            AutoCloseable subscription = client.onEvent(seen::add);
            peer.event("SHUTDOWN", Map.of("guest", true, "reason", "guest-shutdown"));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> seen.size() == 1);
            assertThat(seen.get(0).name()).isEqualTo("SHUTDOWN");
            assertThat(seen.get(0).data().path("reason").asString()).isEqualTo("guest-shutdown");
            assertThat(seen.get(0).seconds()).isEqualTo(1700000000L);
            subscription.close();
            peer.event("STOP", Map.of());
            client.execute("qmp_capabilities");
            assertThat(seen).hasSize(1);
        }
    }

    @Test
    void peerHangingUpFailsWaitingCallsAndCompletesClosed() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        try (QmpPeer peer = new QmpPeer(dir.resolve("100.qmp"), QmpPeer.Mode.QMP, false)
                .on("hang", args -> {
                    started.countDown();
                    return null;
                });
                QmpClient client = QmpClient.connect(peer.socket(), Duration.ofSeconds(2))) {
            CompletableFuture<JsonNode> call = CompletableFuture.supplyAsync(() -> client.execute("hang", Map.of(), Duration.ofSeconds(10)));
            assertThat(started.await(2, TimeUnit.SECONDS)).isTrue();
            peer.hangUp();
            assertThatThrownBy(() -> call.get(2, TimeUnit.SECONDS)).hasMessageContaining("QEMU closed the connection");
            client.closed().get(2, TimeUnit.SECONDS);
            assertThat(client.isOpen()).isFalse();
            assertThatThrownBy(() -> client.execute("query-status")).hasMessageContaining("closed");
        }
    }

    @Test
    void connectingToAMissingSocketNamesIt() {
        Path missing = dir.resolve("nothing.qmp");
        assertThatThrownBy(() -> QmpClient.connect(missing, Duration.ofSeconds(1))).isInstanceOf(QmpException.class)
                .hasMessageContaining(missing.toString());
    }

    @Test
    void agentCallsSyncFirstAndSkipTheDelimiterByte() throws Exception {
        try (QmpPeer peer = agent(false)) {
            GuestAgent agent = new GuestAgent(100, peer.socket());
            agent.ping();
            assertThat(agent.osInfo().path("id").asString()).isEqualTo("debian");
            assertThat(agent.networkInterfaces().get(0).path("name").asString()).isEqualTo("lo");
            assertThat(peer.received).containsExactly("guest-sync-delimited", "guest-ping", "guest-sync-delimited",
                    "guest-get-osinfo", "guest-sync-delimited", "guest-network-get-interfaces");
        }
    }

    @Test
    void agentFreezesAndThawsFileSystems() throws Exception {
        try (QmpPeer peer = agent(false)) {
            GuestAgent agent = new GuestAgent(100, peer.socket());
            assertThat(agent.fsfreezeFreeze()).isEqualTo(2);
            assertThat(agent.fsfreezeStatus()).isEqualTo("frozen");
            assertThat(agent.fsfreezeThaw()).isEqualTo(2);
        }
    }

    @Test
    void agentExecStartsTheCommandAndStatusDecodesItsOutput() throws Exception {
        try (QmpPeer peer = agent(false)) {
            GuestAgent agent = new GuestAgent(100, peer.socket());
            assertThat(agent.exec(List.of("/bin/echo", "hi"), Optional.of("input"))).isEqualTo(4242);
            JsonNode status = agent.execStatus(4242);
            assertThat(status.path("exited").asBoolean()).isTrue();
            assertThat(status.path("exitcode").asInt()).isZero();
            assertThat(status.path("out-data").asString()).isEqualTo("hi\n");
        }
    }

    @Test
    void agentRepliesWithoutIdGoToTheWaitingCall() throws Exception {
        try (QmpPeer peer = agent(true)) {
            assertThat(new GuestAgent(100, peer.socket()).osInfo().path("id").asString()).isEqualTo("debian");
        }
    }

    @Test
    void silentAgentIsReportedAsNotRunning() throws Exception {
        // a guest without an agent: QEMU accepts on the socket but nothing ever answers
        try (QmpPeer peer = new QmpPeer(dir.resolve("100.qga"), QmpPeer.Mode.AGENT, false).on("guest-sync-delimited", args -> null)) {
            assertThatThrownBy(() -> new GuestAgent(100, peer.socket()).ping())
                    .isInstanceOf(QmpException.class).hasMessage("VM 100 qmp command 'guest-ping' failed - QEMU guest agent is not running");
        }
    }

    @Test
    void agentCommandWithoutAnswerTimesOut() throws Exception {
        try (QmpPeer peer = new QmpPeer(dir.resolve("100.qga"), QmpPeer.Mode.AGENT, false).on("guest-ping", args -> null)) {
            assertThatThrownBy(() -> new GuestAgent(100, peer.socket()).command("guest-ping", Map.of(), Duration.ofMillis(300)))
                    .isInstanceOf(QmpException.Timeout.class).hasMessage("VM 100 qmp command 'guest-ping' failed - got timeout");
        }
    }

    private QmpPeer agent(boolean omitIds) throws Exception {
        String[] frozen = {"thawed"};
        return new QmpPeer(dir.resolve("100.qga"), QmpPeer.Mode.AGENT, omitIds)
                .on("guest-ping", args -> Json.object())
                .on("guest-get-osinfo", args -> Map.of("id", "debian", "name", "Debian GNU/Linux", "version-id", "12"))
                .on("guest-network-get-interfaces", args -> List.of(Map.of("name", "lo", "hardware-address", "00:00:00:00:00:00")))
                .on("guest-fsfreeze-freeze", args -> {
                    frozen[0] = "frozen";
                    return 2;
                })
                .on("guest-fsfreeze-thaw", args -> {
                    frozen[0] = "thawed";
                    return 2;
                })
                .on("guest-fsfreeze-status", args -> frozen[0])
                .on("guest-exec", args -> args.path("path").asString().equals("/bin/echo")
                        && args.path("capture-output").asBoolean() ? Map.of("pid", 4242) : new QmpPeer.Failure("GenericError", "bad exec"))
                .on("guest-exec-status", args -> Map.of("exited", true, "exitcode", 0,
                        "out-data", Base64.getEncoder().encodeToString("hi\n".getBytes(StandardCharsets.UTF_8))));
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
