package org.corral.qemu.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.qemu.KvmProbe;
import org.corral.qemu.QemuCommandLine;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** A guest's life through the API: boot under TCG, pause, reset, monitor, ACPI shutdown, stop, restart of the daemon. */
class VmLifecycleIT {
    static final Duration BOOT = Duration.ofSeconds(90);

    static JsonNode status(ApiClient api, int vmid) throws Exception {
        return (JsonNode) api.get("/nodes/pve1/qemu/" + vmid + "/status/current", Map.of());
    }

    /** A field of /proc/PID/stat after the command name: 0 state, 1 ppid, 2 pgrp, 3 session. */
    static long statField(long pid, int index) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[index]);
    }

    @Test
    void guestBootsPausesResetsShutsDownAndIsFoundAgainAfterADaemonRestart() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            ApiClient api = new ApiClient(node.service());
            Path hookLog = node.dir().resolve("hook.log");
            Path hook = node.node().dataDir().resolve("storage/local/snippets/hook.sh");
            Files.createDirectories(hook.getParent());
            Files.writeString(hook, "#!/bin/sh\necho \"$1 $2\" >> " + hookLog + "\n");
            hook.toFile().setExecutable(true);
            Map<String, String> params = new java.util.LinkedHashMap<>(node.guestVm());
            params.put("hookscript", "local:snippets/hook.sh");
            node.createVm(api, 100, params);
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            assertThat(Files.readAllLines(hookLog)).containsExactly("100 pre-start", "100 post-start");
            String ready = node.serialLine(100, "CORRAL-GUEST-READY", BOOT);
            assertThat(ready).contains("disk=/dev/sda");

            JsonNode running = status(api, 100);
            assertThat(running.path("status").asString()).isEqualTo("running");
            assertThat(running.path("qmpstatus").asString()).isEqualTo("running");
            long pid = running.path("pid").asLong();
            assertThat(pid).isPositive();
            assertThat(running.path("maxmem").asLong()).isEqualTo(256L << 20);
            assertThat(running.path("mem").asLong()).isPositive();
            assertThat(running.path("running-qemu").asString()).matches("\\d+\\.\\d+\\.\\d+");
            // QEMU runs in its own session, not as a child of this JVM, so it outlives the daemon
            assertThat(statField(pid, 1)).isNotEqualTo(ProcessHandle.current().pid());
            assertThat(statField(pid, 3)).isNotEqualTo(statField(ProcessHandle.current().pid(), 3));

            assertThat((String) api.post("/nodes/pve1/qemu/100/monitor", Map.of("command", "info status"))).contains("running");
            assertThatThrownBy(() -> api.post("/nodes/pve1/qemu/100/status/start", Map.of()))
                    .isInstanceOf(ApiException.class).hasMessage("VM 100 already running");

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/suspend", Map.of()), Duration.ofSeconds(10));
            assertThat(status(api, 100).path("qmpstatus").asString()).isEqualTo("paused");
            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/resume", Map.of()), Duration.ofSeconds(10));
            assertThat(status(api, 100).path("qmpstatus").asString()).isEqualTo("running");

            node.requireOk((String) api.post("/nodes/pve1/qemu/100/status/reset", Map.of()), Duration.ofSeconds(10));
            // after the reset the guest boots again and writes a new marker; the previous one is its first boot's
            String previous = node.serialLine(100, "CORRAL-PREVIOUS", BOOT);
            assertThat(previous).contains(GuestImage.DISK_MARKER);

            // a new service on the same node is a restarted daemon: it finds the VM by pidfile and QMP socket
            ApiClient restarted = new ApiClient(node.restartService());
            JsonNode again = status(restarted, 100);
            assertThat(again.path("status").asString()).isEqualTo("running");
            assertThat(again.path("pid").asLong()).isEqualTo(pid);
            assertThat(again.path("qmpstatus").asString()).isEqualTo("running");

            node.serialLine(100, "CORRAL-GUEST-READY", BOOT);
            node.requireOk((String) restarted.post("/nodes/pve1/qemu/100/status/shutdown", Map.of("timeout", "60")), BOOT);
            assertThat(status(restarted, 100).path("status").asString()).isEqualTo("stopped");
            assertThat(Files.readAllLines(hookLog)).endsWith("100 pre-stop", "100 post-stop");
            assertThat(node.firstSector(node.service().configs().load(100).config().drives().get("scsi0").file()))
                    .startsWith(GuestImage.DISK_MARKER);

            node.requireOk((String) restarted.post("/nodes/pve1/qemu/100/status/start", Map.of()), BOOT);
            node.requireOk((String) restarted.post("/nodes/pve1/qemu/100/status/stop", Map.of()), Duration.ofSeconds(30));
            assertThat(status(restarted, 100).path("status").asString()).isEqualTo("stopped");
            assertThat(Files.exists(node.service().driver().runtime().paths(100).qmp())).isFalse();

            node.requireOk((String) restarted.delete("/nodes/pve1/qemu/100", Map.of("purge", "1")), Duration.ofSeconds(30));
            assertThat(node.storageFiles()).isEmpty();
            assertThat(node.config(100)).isEmpty();
        }
    }

    @Test
    void onbootVmsStartInTheirStartupOrder() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            ApiClient api = new ApiClient(node.service());
            node.createVm(api, 103, Map.of("kvm", "0", "memory", "64", "onboot", "1", "startup", "order=2"));
            node.createVm(api, 104, Map.of("kvm", "0", "memory", "64", "onboot", "1", "startup", "order=1,up=1"));
            node.createVm(api, 105, Map.of("kvm", "0", "memory", "64"));
            String upid = node.service().startOnBoot(ApiClient.ROOT).orElseThrow();
            node.requireOk(upid, BOOT);
            assertThat(node.log(upid)).containsSubsequence("Starting VM 104", "Starting VM 103");
            assertThat(node.service().running()).containsExactly(103, 104);
            assertThat(node.service().startOnBoot(ApiClient.ROOT)).isEmpty();
        }
    }

    @Test
    void startOfALockedVmIsRefusedAndNothingRuns() throws Exception {
        try (TestNode node = new TestNode("pve1")) {
            ApiClient api = new ApiClient(node.service());
            node.createVm(api, 101, node.guestVm());
            node.store().update("nodes/pve1/qemu-server/101.conf", t -> t + "lock: migrate\n");
            assertThatThrownBy(() -> api.post("/nodes/pve1/qemu/101/status/start", Map.of()))
                    .isInstanceOf(Conflict.class).hasMessage("VM is locked (migrate)");
            assertThat(node.service().driver().runtime().isRunning(101)).isFalse();
            assertThat(node.tasks().list(new org.corral.core.task.TaskFilter(java.util.Optional.empty(), java.util.Optional.empty(),
                    java.util.Optional.empty(), java.util.Optional.of("qmstart"), java.util.Optional.empty(), java.util.Optional.empty(),
                    java.util.Optional.empty(), java.util.Optional.empty(), java.util.Optional.empty(), java.util.Optional.empty()))
                    .tasks()).isEmpty();
        }
    }

    @Test
    void startWithKvmWhereKvmIsUnusableIsRefusedSayingWhy() throws Exception {
        KvmProbe broken = new KvmProbe(Path.of("/nonexistent/kvm"), QemuCommandLine.QEMU, "kvm", Duration.ofSeconds(1), Path.of("/tmp"));
        try (TestNode node = new TestNode("pve1", broken)) {
            ApiClient api = new ApiClient(node.service());
            Map<String, String> params = new java.util.LinkedHashMap<>(node.guestVm());
            params.remove("kvm");
            node.createVm(api, 102, params);
            assertThatThrownBy(() -> api.post("/nodes/pve1/qemu/102/status/start", Map.of()))
                    .isInstanceOf(ApiException.class)
                    .hasMessageStartingWith("KVM virtualisation configured, but not available: /nonexistent/kvm does not exist")
                    .hasMessageContaining("kvm: 0");
            assertThat(node.service().driver().runtime().isRunning(102)).isFalse();
        }
    }
}
