package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * POST /access/vncticket over HTTPS against a real node, with the tickets of real termproxy and
 * vncproxy calls on a running QEMU guest: a ticket verifies for its user, its guest's ACL path,
 * its port and privileges the user holds there, before and after its websocket took the console,
 * and is refused for anything else. Expiry is shown on a test clock (ConsoleProxiesTest, VncTicketApiTest), not by
 * waiting a minute here.
 */
class VncTicketIT {
    private static final String NODE = "vncnode";
    private static final String PASSWORD = "admin-pass-1";
    private static final int VM = 931;
    private static final String ACL_PATH = "/vms/" + VM;

    @TempDir
    Path dataDir;

    private static void requireOk(TestClient admin, String upid) {
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() ->
                admin.get("/nodes/" + NODE + "/tasks/" + upid + "/status").data().path("status").asString().equals("stopped"));
        assertThat(admin.get("/nodes/" + NODE + "/tasks/" + upid + "/status").data().path("exitstatus").asString()).isEqualTo("OK");
    }

    /** POST /access/vncticket without any login, as a console proxy calls it. */
    private static TestClient.Answer check(TestClient anyone, String authid, String ticket, String path, String privs, String... more) {
        Map<String, String> params = new LinkedHashMap<>(Map.of("authid", authid, "vncticket", ticket, "path", path, "privs", privs));
        for (int i = 0; i < more.length; i += 2) {
            params.put(more[i], more[i + 1]);
        }
        return anyone.post("/access/vncticket", params);
    }

    private static void accepted(TestClient.Answer answer) {
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        assertThat(answer.data().isNull()).as(answer.body().toString()).isTrue();
    }

    private static void refused(TestClient.Answer answer) {
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(401);
        assertThat(answer.data().isNull()).isTrue();
    }

    private static final class Received implements WebSocket.Listener {
        final LinkedBlockingQueue<String> messages = new LinkedBlockingQueue<>();

        @Override
        public CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
            messages.add(StandardCharsets.UTF_8.decode(data).toString());
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            messages.add(data.toString());
            socket.request(1);
            return null;
        }
    }

    @Test
    @Timeout(150)
    void consoleTicketsVerifyForTheirUserPathPortAndPrivilegesOnlyAndUntilTheyExpire() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, dataDir, "127.0.0.1", 0, Optional.of(PASSWORD)))) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            for (String user : new String[] {"alice@pve", "bob@pve"}) {
                assertThat(admin.post("/access/users", Map.of("userid", user, "password", "console-pass-1")).status()).isEqualTo(200);
            }
            // both may use every guest's console, and alice may audit everything: only the ticket's binding refuses the wrong ones
            assertThat(admin.put("/access/acl", Map.of("path", "/vms", "roles", "PVEVMUser", "users", "alice@pve,bob@pve")).status())
                    .isEqualTo(200);
            assertThat(admin.put("/access/acl", Map.of("path", "/", "roles", "PVEAuditor", "users", "alice@pve")).status()).isEqualTo(200);
            TestClient alice = new TestClient(daemon.port()).login("alice@pve", "console-pass-1");
            TestClient anyone = new TestClient(daemon.port());
            // no boot device: SeaBIOS runs and the VNC display and serial socket are there
            daemon.store().overwrite("nodes/" + NODE + "/qemu-server/" + VM + ".conf", "memory: 64\nkvm: 0\nserial0: socket\n");
            requireOk(admin, admin.post("/nodes/" + NODE + "/qemu/" + VM + "/status/start", Map.of()).data().asString());
            try {
                TestClient.Answer termAnswer = alice.post("/nodes/" + NODE + "/qemu/" + VM + "/termproxy", Map.of());
                assertThat(termAnswer.status()).as(termAnswer.body().toString()).isEqualTo(200);
                JsonNode term = termAnswer.data();
                String ticket = term.path("ticket").asString();
                String port = term.path("port").asString();
                TestClient.Answer vncAnswer = alice.post("/nodes/" + NODE + "/qemu/" + VM + "/vncproxy", Map.of("websocket", "1"));
                assertThat(vncAnswer.status()).as(vncAnswer.body().toString()).isEqualTo(200);
                JsonNode vnc = vncAnswer.data();

                accepted(check(anyone, "alice@pve", ticket, ACL_PATH, "VM.Console"));
                accepted(check(anyone, "alice@pve", ticket, ACL_PATH + "/", "VM.Console,VM.Audit", "port", port));
                accepted(check(anyone, "alice@pve", vnc.path("ticket").asString(), ACL_PATH, "VM.Console", "port", vnc.path("port").asString()));
                // a caller's own login changes nothing: the ticket is what is checked
                accepted(check(admin, "alice@pve", ticket, ACL_PATH, "VM.Console"));

                refused(check(anyone, "bob@pve", ticket, ACL_PATH, "VM.Console"));
                refused(check(anyone, "alice@pve", ticket, "/vms/" + (VM + 1), "VM.Console"));
                refused(check(anyone, "alice@pve", ticket, "/nodes/" + NODE + "/qemu/" + VM, "Sys.Audit"));
                refused(check(anyone, "alice@pve", ticket, ACL_PATH, "VM.Console", "port", vnc.path("port").asString()));
                refused(check(anyone, "alice@pve", vnc.path("ticket").asString(), ACL_PATH, "VM.Console", "port", port));
                String tampered = ticket.substring(0, ticket.length() - 1) + (ticket.endsWith("x") ? "y" : "x");
                refused(check(anyone, "alice@pve", tampered, ACL_PATH, "VM.Console"));
                refused(check(anyone, "alice@pve", ticket, ACL_PATH, "VM.Console,VM.Allocate"));
                TestClient.Answer bad = check(anyone, "alice@pve", ticket, ACL_PATH, "VM.Console", "port", "x");
                assertThat(bad.status()).isEqualTo(400);
                assertThat(bad.errors()).containsKey("port");

                // the check took nothing: the websocket still opens the console, once, and the ticket still verifies after
                Received received = new Received();
                WebSocket socket = alice.webSocket("/nodes/" + NODE + "/qemu/" + VM + "/vncwebsocket",
                        Map.of("port", port, "vncticket", ticket), received).get(10, TimeUnit.SECONDS);
                socket.sendBinary(ByteBuffer.wrap(("alice@pve:" + ticket + "\n").getBytes(StandardCharsets.UTF_8)), true).join();
                assertThat(received.messages.poll(10, TimeUnit.SECONDS)).isEqualTo("OK");
                assertThatThrownBy(() -> alice.webSocket("/nodes/" + NODE + "/qemu/" + VM + "/vncwebsocket",
                        Map.of("port", port, "vncticket", ticket), new Received()).get(10, TimeUnit.SECONDS))
                        .as("a console is taken once").hasStackTraceContaining("status code 403");
                accepted(check(anyone, "alice@pve", ticket, ACL_PATH, "VM.Console", "port", port));
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "").join();

                // privileges are those of now, not of when the console was opened
                assertThat(admin.put("/access/acl", Map.of("path", "/vms", "roles", "PVEVMUser", "users", "alice@pve", "delete", "1"))
                        .status()).isEqualTo(200);
                refused(check(anyone, "alice@pve", ticket, ACL_PATH, "VM.Console"));
                assertThat(admin.put("/access/acl", Map.of("path", "/vms", "roles", "PVEVMUser", "users", "alice@pve")).status())
                        .isEqualTo(200);
                accepted(check(anyone, "alice@pve", ticket, ACL_PATH, "VM.Console"));

                String log = Files.readString(daemon.node().localDir().resolve("log/audit.log"));
                assertThat(log).contains("/access/vncticket").doesNotContain(ticket);

            } finally {
                requireOk(admin, admin.post("/nodes/" + NODE + "/qemu/" + VM + "/status/stop", Map.of()).data().asString());
            }
        }
    }
}
