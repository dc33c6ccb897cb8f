package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.awaitility.Awaitility;
import org.corral.core.guest.GuestIds;
import org.corral.lxc.template.BusyboxTemplate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VMIDs are reserved under one lock for VMs and containers alike: racing creates give each id once. */
class GuestIdReservationIT {
    private static final String PASSWORD = "vmid-race-admin-1";

    @TempDir
    Path dir;

    @Test
    void fiftyParallelCreatesOfVmsAndContainersOverTenIdsGiveTenGuests() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options("racenode", dir.resolve("data"), "127.0.0.1", 0,
                Optional.of(PASSWORD)))) {
            Path templates = Files.createDirectories(dir.resolve("data/storage/local/template/cache"));
            Files.move(new BusyboxTemplate().build(dir.resolve("build")), templates.resolve("busybox.tar.gz"));
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<TestClient.Answer>> answers = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 50; i++) {
                    String vmid = Integer.toString(700 + i % 10);
                    boolean vm = i / 10 % 2 == 0; // each VMID asked for as a VM and as a container
                    answers.add(pool.submit(() -> {
                        go.await();
                        return vm
                                ? admin.post("/nodes/racenode/qemu", Map.of("vmid", vmid, "memory", "64", "kvm", "0"))
                                : admin.post("/nodes/racenode/lxc", Map.of("vmid", vmid, "ostemplate", "local:vztmpl/busybox.tar.gz",
                                        "rootfs", "local:0", "unprivileged", "0"));
                    }));
                }
                go.countDown();
            }
            List<String> accepted = new ArrayList<>();
            List<String> refusals = new ArrayList<>();
            for (Future<TestClient.Answer> f : answers) {
                TestClient.Answer answer = f.get();
                if (answer.status() == 200) {
                    accepted.add(answer.data().asString());
                } else {
                    refusals.add(answer.status() + " " + answer.body().path("message").asString());
                }
            }
            assertThat(accepted).hasSize(10);
            for (String upid : accepted) {
                Awaitility.await().atMost(Duration.ofMinutes(2)).until(() ->
                        admin.get("/nodes/racenode/tasks/" + upid + "/status").data().path("status").asString().equals("stopped"));
                assertThat(admin.get("/nodes/racenode/tasks/" + upid + "/status").data().path("exitstatus").asString()).isEqualTo("OK");
            }
            assertThat(refusals).hasSize(40).allSatisfy(r -> assertThat(r).matches("(?s)(409|500) (VM|CT) 7\\d\\d already exists on node 'racenode'\\n?"));
            GuestIds ids = new GuestIds(daemon.store());
            List<Integer> held = new ArrayList<>(ids.list("racenode", GuestIds.Kind.QEMU));
            held.addAll(ids.list("racenode", GuestIds.Kind.LXC));
            assertThat(held).containsExactlyInAnyOrder(700, 701, 702, 703, 704, 705, 706, 707, 708, 709);
        }
    }
}
