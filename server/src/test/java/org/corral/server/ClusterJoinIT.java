package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.cluster.ClusterConfig;
import org.corral.core.config.ConfigStore;
import org.corral.core.json.Json;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Three daemons in this JVM on loopback form one cluster: node 1 creates it, node 2 joins with a
 * join token and brings its guest along, node 3 joins after a wrong fingerprint, a used token, a
 * wrong root password, a taken name and a VMID clash were each refused with nothing changed. The
 * root@pam password path is only tested for refusal: PAM checks this host's real root password.
 */
class ClusterJoinIT {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;
    private final List<DaemonRunner> runners = new ArrayList<>();

    @AfterEach
    void stop() {
        for (int i = runners.size() - 1; i >= 0; i--) {
            runners.get(i).close();
        }
    }

    private DaemonRunner start(String name, String dataDir) throws Exception {
        DaemonRunner runner = DaemonRunner.start(new CorralDaemon.Options(name, dir.resolve(dataDir), "127.0.0.1", 0,
                Optional.of("admin-pass-1")));
        runners.add(runner);
        return runner;
    }

    private static JsonNode localAccess(CorralDaemon daemon) throws Exception {
        return Json.read(Files.readString(CorralDaemon.localAccessFile(daemon.node().dataDir())));
    }

    private static TestClient root(CorralDaemon daemon) throws Exception {
        return new TestClient(daemon.port()).local(localAccess(daemon).path("secret").asString());
    }

    private static String fingerprint(CorralDaemon daemon) throws Exception {
        return localAccess(daemon).path("fingerprint").asString();
    }

    /** Waits for a task that may outlive the daemon that ran it (a join restarts the node). */
    private static TaskStatus awaitTask(DaemonRunner runner, String upid) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                TaskStatus status = runner.current().tasks().status(Upid.parse(upid));
                if (status.status().equals(TaskStatus.STOPPED)) {
                    return status;
                }
            } catch (RuntimeException restarting) {
                // the daemon is between stop and start
            }
            Thread.sleep(200);
        }
        throw new AssertionError("task " + upid + " did not end within " + WAIT);
    }

    private static String join(DaemonRunner joiner, CorralDaemon member, String fingerprint, String password) throws Exception {
        TestClient.Answer answer = root(joiner.current()).post("/cluster/config/join", Map.of(
                "hostname", "127.0.0.1:" + member.port(), "fingerprint", fingerprint, "password", password));
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        return answer.data().asString();
    }

    private static String token(CorralDaemon member) throws Exception {
        TestClient.Answer answer = root(member).post("/cluster/config/join-token", Map.of());
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        return answer.data().path("token").asString();
    }

    private static String exit(TaskStatus status) {
        return status.exitstatus().orElse("");
    }

    private static JsonNode status(CorralDaemon daemon) throws Exception {
        return root(daemon).get("/cluster/status").data();
    }

    @Test
    void threeNodesFormOneClusterAndEveryBadJoinIsRefusedWithNothingChanged() throws Exception {
        DaemonRunner n1 = start("pve1", "n1");
        DaemonRunner n2 = start("pve2", "n2");
        DaemonRunner n3 = start("pve3", "n3");
        CorralDaemon first = n1.current();

        // node 1 names the cluster it forms alone
        TestClient.Answer created = root(first).post("/cluster/config", Map.of("clustername", "lab"));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        assertThat(exit(awaitTask(n1, created.data().asString()))).isEqualTo("OK");
        assertThat(root(first).post("/cluster/config", Map.of("clustername", "again")).status()).isEqualTo(500);
        JsonNode info = root(first).get("/cluster/config/join").data();
        assertThat(info.path("totem").path("cluster_name").asString()).isEqualTo("lab");
        assertThat(info.path("nodelist").get(0).path("pve_fp").asString()).isEqualTo(fingerprint(first));

        n2.current().store().write("nodes/pve2/qemu-server/200.conf", "memory: 128\n", ConfigStore.NEW);
        String token = token(first);

        // a wrong fingerprint is refused before the token is even sent
        // another first byte (a fixed "00" would be the right one in 1 of 256 runs)
        String wrong = (fingerprint(first).startsWith("00") ? "11" : "00") + fingerprint(first).substring(2);
        TaskStatus refused = awaitTask(n2, join(n2, first, wrong, token));
        assertThat(exit(refused)).contains("fingerprint");
        assertThat(status(n2.current()).get(0).path("nodes").asInt()).isEqualTo(1);

        // node 2 joins with the token and keeps its guest
        CorralDaemon before = n2.current();
        assertThat(exit(awaitTask(n2, join(n2, first, fingerprint(first), token)))).isEqualTo("OK");
        CorralDaemon second = n2.awaitRestart(before, WAIT);
        assertThat(second.store().read("user.cfg")).isEqualTo(first.store().read("user.cfg"));
        first.store().sync();
        assertThat(first.store().read("nodes/pve2/qemu-server/200.conf").orElseThrow().text()).isEqualTo("memory: 128\n");

        // the used token, a wrong root password, a taken name and a VMID clash change nothing
        CorralDaemon third = n3.current();
        assertThat(exit(awaitTask(n3, join(n3, first, fingerprint(first), token)))).contains("invalid or used join token");
        assertThat(exit(awaitTask(n3, join(n3, first, fingerprint(first), "not-the-root-password")))).contains("401");
        DaemonRunner impostor = start("pve2", "impostor");
        String fresh = token(first);
        assertThat(exit(awaitTask(impostor, join(impostor, first, fingerprint(first), fresh)))).contains("already used");
        third.store().write("nodes/pve3/lxc/200.conf", "memory: 64\n", ConfigStore.NEW);
        assertThat(exit(awaitTask(n3, join(n3, first, fingerprint(first), fresh)))).contains("VMIDs already used in the cluster: 200");
        assertThat(n3.current()).isSameAs(third);
        assertThat(status(third).get(0).path("nodes").asInt()).isEqualTo(1);
        assertThat(new org.corral.cluster.ClusterMembership(first.store()).read().members()).hasSize(2);

        // with the clash gone the still unused token lets node 3 in
        third.store().delete("nodes/pve3/lxc/200.conf", 0);
        assertThat(exit(awaitTask(n3, join(n3, first, fingerprint(first), fresh)))).isEqualTo("OK");
        third = n3.awaitRestart(third, WAIT);

        for (CorralDaemon daemon : List.of(first, n2.current(), third)) {
            JsonNode entries = awaitOnline(daemon, 3);
            assertThat(entries.get(0).path("name").asString()).isEqualTo("lab");
            assertThat(entries.get(0).path("nodes").asInt()).isEqualTo(3);
            assertThat(entries.get(0).path("quorate").asInt()).isEqualTo(1);
            assertThat(entries.valueStream().filter(e -> e.path("type").asString().equals("node")).map(e -> e.path("name").asString()))
                    .containsExactlyInAnyOrder("pve1", "pve2", "pve3");
        }
        JsonNode nodes = root(third).get("/cluster/config/nodes").data();
        assertThat(nodes.valueStream().map(n -> n.path("nodeid").asInt())).containsExactly(1, 2, 3);
        // each joined node serves a certificate from the cluster CA, recorded for the next joiner to pin
        JsonNode joinInfo = root(first).get("/cluster/config/join").data();
        assertThat(joinInfo.path("nodelist").get(2).path("pve_fp").asString()).isEqualTo(fingerprint(third));
        assertThat(third.store().read("pve-root-ca.pem")).isEqualTo(first.store().read("pve-root-ca.pem"));

        // a user made on node 1 logs in on node 3
        TestClient admin = new TestClient(first.port()).login("admin@pve", "admin-pass-1");
        assertThat(admin.post("/access/users", Map.of("userid", "carol@pve", "password", "carol-pass-1")).status()).isEqualTo(200);
        new TestClient(third.port()).login("carol@pve", "carol-pass-1");
        assertThat(first.store().read(ClusterConfig.PATH).orElseThrow().text()).contains("cluster: lab");

        // any node serves any node's calls: node 1 forwards /nodes/pve3/... to node 3 with the caller's ticket
        JsonNode pve3Tasks = admin.get("/nodes/pve3/tasks").data();
        assertThat(pve3Tasks.valueStream().map(t -> t.path("upid").asString()))
                .anyMatch(upid -> upid.startsWith("UPID:pve3:") && upid.contains(":clusterjoin:"));
        TestClient.Answer createdVm = admin.post("/nodes/pve3/qemu", Map.of("vmid", "300", "memory", "64", "name", "through-pve1"));
        assertThat(createdVm.status()).as(createdVm.toString()).isEqualTo(200);
        assertThat(createdVm.data().asString()).startsWith("UPID:pve3:");
        assertThat(exit(awaitTask(n3, createdVm.data().asString()))).isEqualTo("OK");
        assertThat(third.store().read("nodes/pve3/qemu-server/300.conf").orElseThrow().text()).contains("name: through-pve1");
        // the owner's answers come back as they are: its errors, and its refusal of a caller without privileges
        TestClient.Answer missing = admin.get("/nodes/pve3/qemu/399/config");
        assertThat(missing.status()).isEqualTo(500);
        assertThat(missing.body().path("message").asString()).contains("399").contains("does not exist");
        assertThat(new TestClient(first.port()).login("carol@pve", "carol-pass-1").get("/nodes/pve3/qemu/300/config").status())
                .isEqualTo(403);
        // local root credentials are this node's only
        assertThat(root(first).get("/nodes/pve3/tasks").status()).isEqualTo(401);

        // a joined node restarted on its data directory is back in the cluster, with its guest
        runners.remove(n2);
        n2.close();
        DaemonRunner again = start("pve2", "n2");
        JsonNode entries = awaitOnline(again.current(), 3);
        assertThat(entries.get(0).path("nodes").asInt()).isEqualTo(3);
        assertThat(entries.get(0).path("quorate").asInt()).isEqualTo(1);
        assertThat(again.current().store().read("nodes/pve2/qemu-server/200.conf")).isPresent();
        new TestClient(again.current().port()).login("carol@pve", "carol-pass-1");

        // a stopped node is removed from the cluster; running ones and the node itself are not
        runners.remove(n3);
        n3.close();
        TestClient clusterAdmin = new TestClient(first.port()).login("admin@pve", "admin-pass-1");
        TestClient.Answer online = clusterAdmin.delete("/cluster/config/nodes/pve2");
        assertThat(online.status()).isEqualTo(500);
        assertThat(online.body().path("message").asString()).contains("is online");
        assertThat(clusterAdmin.delete("/cluster/config/nodes/pve1").body().path("message").asString().strip())
                .isEqualTo("Cannot delete myself from cluster!");
        assertThat(clusterAdmin.delete("/cluster/config/nodes/nosuch").body().path("message").asString())
                .contains("is not a known host of the cluster");
        awaitOffline(first, "pve3");
        TestClient.Answer removed = clusterAdmin.delete("/cluster/config/nodes/pve3");
        assertThat(removed.status()).as(removed.toString()).isEqualTo(200);
        assertThat(clusterAdmin.get("/cluster/config/nodes").data().valueStream().map(n -> n.path("name").asString()))
                .containsExactlyInAnyOrder("pve1", "pve2");
        assertThat(first.store().read(ClusterConfig.PATH).orElseThrow().text()).doesNotContain("pve3");
        assertThat(clusterAdmin.post("/access/users", Map.of("userid", "dave@pve")).status()).isEqualTo(200);

        // node 1 alone is 1 of 2 voters: it answers reads and logins, and refuses writes with Proxmox's words
        runners.remove(again);
        again.close();
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode alone = readableStatus(first);
        while ((alone == null || alone.get(0).path("quorate").asInt() != 0) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            alone = readableStatus(first);
        }
        assertThat(alone).isNotNull();
        assertThat(alone.get(0).path("quorate").asInt()).isEqualTo(0);
        TestClient minority = new TestClient(first.port()).login("carol@pve", "carol-pass-1");
        assertThat(minority.get("/nodes/pve1/qemu").status()).isEqualTo(200);
        TestClient.Answer refusedWrite = new TestClient(first.port()).login("admin@pve", "admin-pass-1")
                .post("/nodes/pve1/qemu", Map.of("vmid", "301", "memory", "64"));
        assertThat(refusedWrite.status()).isEqualTo(500);
        assertThat(refusedWrite.body().path("message").asString()).contains("cluster not ready - no quorum?");
        assertThat(first.store().read("nodes/pve1/qemu-server/301.conf")).isEmpty();

        // restarted while its cluster has no quorum, node 1 comes up read-only, as a Proxmox node does
        int port = first.port();
        runners.remove(n1);
        n1.close();
        DaemonRunner lone = DaemonRunner.start(new CorralDaemon.Options("pve1", dir.resolve("n1"), "127.0.0.1", port,
                Optional.of("admin-pass-1")));
        runners.add(lone);
        first = lone.current();
        assertThat(status(first).get(0).path("quorate").asInt()).isEqualTo(0);
        assertThat(new TestClient(first.port()).login("carol@pve", "carol-pass-1").get("/nodes/pve1/qemu").status()).isEqualTo(200);
        assertThat(new TestClient(first.port()).login("admin@pve", "admin-pass-1").post("/nodes/pve1/qemu",
                Map.of("vmid", "302", "memory", "64")).body().path("message").asString()).contains("cluster not ready - no quorum?");

        // `expected 1` on purpose: root's only, and only with the votes this node reaches; then it writes alone
        TestClient.Answer notRoot = new TestClient(first.port()).login("admin@pve", "admin-pass-1")
                .post("/cluster/config/expected", Map.of("expected", "1"));
        assertThat(notRoot.status()).isEqualTo(403);
        TestClient.Answer tooMany = root(first).post("/cluster/config/expected", Map.of("expected", "2"));
        assertThat(tooMany.status()).as(tooMany.toString()).isEqualTo(400);
        assertThat(tooMany.errors().get("expected")).contains("reaches 1 of the cluster's 2 voters (pve1)");
        TestClient.Answer expected = root(first).post("/cluster/config/expected", Map.of("expected", "1"));
        assertThat(expected.status()).as(expected.toString()).isEqualTo(200);
        assertThat(exit(awaitTask(lone, expected.data().asString()))).isEqualTo("OK");
        CorralDaemon survivor = lone.awaitRestart(first, WAIT);
        assertThat(status(survivor).get(0).path("quorate").asInt()).isEqualTo(1);
        TestClient.Answer written = new TestClient(survivor.port()).login("admin@pve", "admin-pass-1")
                .post("/access/users", Map.of("userid", "after-expected@pve"));
        assertThat(written.status()).as(written.toString()).isEqualTo(200);
        ClusterConfig roles = ClusterConfig.parse(survivor.store().read(ClusterConfig.PATH).orElseThrow().text());
        assertThat(roles.member("pve2").orElseThrow().observer()).isTrue();
        assertThat(roles.voters()).isEqualTo(1);
    }

    private static void awaitOffline(CorralDaemon daemon, String node) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (status(daemon).valueStream().anyMatch(e -> e.path("name").asString().equals(node) && e.path("online").asInt() == 1)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(node + " still online after " + WAIT);
            }
            Thread.sleep(200);
        }
    }

    /** /cluster/status, or null while the node's store reconnects. */
    private static JsonNode readableStatus(CorralDaemon daemon) throws Exception {
        TestClient.Answer answer = root(daemon).get("/cluster/status");
        return answer.status() == 200 ? answer.data() : null;
    }

    private static JsonNode awaitOnline(CorralDaemon daemon, int nodes) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode entries = status(daemon);
        while (entries.valueStream().filter(e -> e.path("online").asInt() == 1).count() < nodes && System.nanoTime() < deadline) {
            Thread.sleep(200);
            entries = status(daemon);
        }
        return entries;
    }
}
