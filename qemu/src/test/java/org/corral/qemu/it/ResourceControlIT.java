package org.corral.qemu.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.corral.core.cgroup.Cgroup;
import org.corral.core.cgroup.CgroupHost;
import org.corral.core.guest.GuestUsage;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** A VM's own cgroup: cpulimit held and changed live, measured figures, and the machine type a saved state needs. */
class ResourceControlIT {
    static final Duration BOOT = Duration.ofSeconds(120);

    static String cmdline(long pid) throws Exception {
        return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
    }

    static long pid(ApiClient api, int vmid) throws Exception {
        return ((JsonNode) api.get("/nodes/pve1/qemu/" + vmid + "/status/current", Map.of())).path("pid").asLong();
    }

    /** The cgroup (of the cpu controller) each of the process's threads is in. */
    static List<String> threadCgroups(long pid) throws Exception {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return tasks.map(t -> {
                try {
                    return Files.readAllLines(t.resolve("cgroup")).stream()
                            .filter(l -> l.startsWith("0::") || l.matches("\\d+:[^:]*\\bcpu\\b[^:]*:.*"))
                            .map(l -> l.substring(l.lastIndexOf(':') + 1)).findFirst().orElse("?");
                } catch (java.io.IOException e) {
                    return "gone";
                }
            }).filter(c -> !c.equals("gone")).toList();
        }
    }

    static long throttled(Cgroup group) {
        return group.read("cpu.stat").orElseThrow().lines().filter(l -> l.startsWith("nr_throttled "))
                .mapToLong(l -> Long.parseLong(l.substring(13).trim())).findFirst().orElseThrow();
    }

    static String quota(Cgroup group) {
        return group.host().layout() == CgroupHost.Layout.V1
                ? group.read("cpu.cfs_quota_us").orElseThrow() + "/" + group.read("cpu.cfs_period_us").orElseThrow()
                : group.read("cpu.max").orElseThrow().replace(' ', '/');
    }

    @Test
    void cpulimitHoldsInTheVmsCgroupAndChangesLiveWhileFiguresAreMeasured() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            ApiClient api = new ApiClient(node.service());
            Map<String, String> params = new java.util.LinkedHashMap<>(node.guestVm());
            params.put("cpulimit", "0.5");
            params.put("watchdog", "i6300esb,action=pause");
            node.createVm(api, 100, params);
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            long pid = pid(api, 100);
            Cgroup group = node.service().driver().cgroups().group(100);

            // every QEMU thread runs in the VM's group, not in the daemon's
            assertThat(group.pids()).contains(pid);
            assertThat(threadCgroups(pid)).hasSizeGreaterThan(1).allMatch(c -> c.equals("/" + group.path()));
            assertThat(quota(group)).isEqualTo("50000/100000");
            assertThat(cmdline(pid)).contains("i6300esb,id=watchdog,bus=pci.0,addr=0x4").contains("-action watchdog=pause")
                    .containsPattern("-machine type=pc-i440fx-\\d+\\.\\d+ ");

            // TCG booting the guest wants a whole core; the quota lets it have half of one
            long before = group.stats().cpuNanos().orElseThrow();
            long started = System.nanoTime();
            Thread.sleep(5000);
            double cores = (double) (group.stats().cpuNanos().orElseThrow() - before) / (System.nanoTime() - started);
            assertThat(cores).as("CPU used under cpulimit 0.5").isBetween(0.02, 0.55);
            // the kernel held QEMU back: some periods ran out of quota
            assertThat(throttled(group)).as("periods throttled").isPositive();

            api.put("/nodes/pve1/qemu/100/config", Map.of("cpulimit", "1", "cpuunits", "2048"));
            assertThat(quota(group)).isEqualTo("100000/100000");
            assertThat(group.read(group.host().layout() == CgroupHost.Layout.V1 ? "cpu.shares" : "cpu.weight")).contains(
                    group.host().layout() == CgroupHost.Layout.V1 ? "2048" : "2048");
            api.put("/nodes/pve1/qemu/100/config", Map.of("delete", "cpulimit"));
            assertThat(quota(group)).isIn("-1/100000", "max/100000");
            assertThat(node.config(100).orElseThrow()).doesNotContain("PENDING").doesNotContain("cpulimit").contains("cpuunits: 2048");
            assertThat(pid(api, 100)).as("no restart").isEqualTo(pid);

            node.serialLine(100, "CORRAL-GUEST-READY", BOOT);
            JsonNode status = (JsonNode) api.get("/nodes/pve1/qemu/100/status/current", Map.of());
            assertThat(status.path("cpu").asDouble()).isPositive();
            assertThat(status.path("mem").asLong()).isBetween(16L << 20, group.stats().memoryLimit());
            assertThat(status.path("uptime").asLong()).isPositive();
            GuestUsage.Usage usage = node.service().usage().running().get(100);
            assertThat(usage.cpu().orElseThrow()).isPositive();
            assertThat(usage.mem().orElseThrow()).isPositive();
            assertThat(usage.uptime().orElseThrow()).isPositive();
            assertThat(usage.diskread().orElseThrow()).as("the guest read its ISO").isPositive();

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/stop", Map.of()), Duration.ofSeconds(30));
            assertThat(group.exists()).as("group removed with the VM").isFalse();
            assertThat(node.service().usage().running()).doesNotContainKey(100);
        }
    }

    @Test
    void savedStatesResumeOnTheMachineTheyWereTakenWith() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            ApiClient api = new ApiClient(node.service());
            node.createVm(api, 101, node.guestVm());
            // an older version than a plain start pins, as after a QEMU upgrade
            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/start", Map.of("machine", "pc-i440fx-7.1")), BOOT);
            assertThat(cmdline(pid(api, 101))).contains("-machine type=pc-i440fx-7.1 ");
            node.serialLine(101, "CORRAL-GUEST-READY", BOOT);

            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/suspend", Map.of("todisk", "1")), Duration.ofSeconds(120));
            assertThat(node.service().configs().load(101).config().get("runningmachine")).contains("pc-i440fx-7.1");
            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/start", Map.of()), BOOT);
            assertThat(cmdline(pid(api, 101))).contains("-machine type=pc-i440fx-7.1 ");
            assertThat(((JsonNode) api.get("/nodes/pve1/qemu/101/status/current", Map.of())).path("running-machine").asString())
                    .isEqualTo("pc-i440fx-7.1");
            node.serialLine(101, "CORRAL-GUEST-READY", BOOT);
            assertThat(node.service().configs().load(101).config().has("runningmachine")).isFalse();

            node.requireOk((String) api.post("/nodes/pve1/qemu/101/snapshot", Map.of("snapname", "warm", "vmstate", "1")),
                    Duration.ofSeconds(120));
            assertThat(node.service().configs().load(101).config().snapshots().get("warm")).containsEntry("runningmachine", "pc-i440fx-7.1");
            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/stop", Map.of()), Duration.ofSeconds(30));
            node.requireOk((String) api.post("/nodes/pve1/qemu/101/status/start", Map.of()), BOOT);
            String pinned = cmdline(pid(api, 101));
            assertThat(pinned).containsPattern("-machine type=pc-i440fx-\\d+\\.\\d+ ").doesNotContain("type=pc-i440fx-7.1 ");

            node.requireOk((String) api.post("/nodes/pve1/qemu/101/snapshot/warm/rollback", Map.of()), Duration.ofSeconds(120));
            assertThat(cmdline(pid(api, 101))).contains("-machine type=pc-i440fx-7.1 ");
            assertThat(((JsonNode) api.get("/nodes/pve1/qemu/101/status/current", Map.of())).path("qmpstatus").asString())
                    .isEqualTo("running");
        }
    }
}
