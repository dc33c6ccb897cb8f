package org.corral.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.corral.core.node.Node;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.corral.qemu.config.VmConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmCgroupsTest {
    static Node node(String name, String runDir) {
        return new Node(name, Path.of("/var/lib/corral"), Path.of(runDir), "127.0.0.1", 8006, new Node.ZooKeeperPorts(1, 2, 3));
    }

    @Test
    void groupNamesKeepTwoNodesOfOneNameApart() {
        String a = VmCgroups.baseName(node("pve1", "/tmp/cqA/run"));
        String b = VmCgroups.baseName(node("pve1", "/tmp/cqB/run"));
        assertThat(a).matches("corral-pve1-[0-9a-f]{8}").isNotEqualTo(b);
        assertThat(VmCgroups.baseName(node("pve1", "/tmp/cqA/run"))).isEqualTo(a);
    }

    @Test
    void memoryLimitLeavesQemuRoomAboveTheGuestsRam() {
        assertThat(VmCgroups.memoryLimit(VmConfig.empty().with("memory", "256"))).isEqualTo((256L + 1024) << 20);
        assertThat(VmCgroups.memoryLimit(VmConfig.empty().with("memory", "16384"))).isEqualTo((16384L + 2048) << 20);
    }

    @Test
    void cpuOptionsAreReadAsProxmoxWritesThem() {
        VmConfig config = VmConfig.empty().with("cpulimit", "0.5").with("cpuunits", "2048");
        assertThat(VmCgroups.cpulimit(config)).isEqualTo(0.5);
        assertThat(VmCgroups.cpuunits(config)).isEqualTo(OptionalLong.of(2048));
        assertThat(VmCgroups.limitsCpu(config)).isTrue();
        assertThat(VmCgroups.limitsCpu(VmConfig.empty().with("cpulimit", "0"))).isFalse();
    }

    @Test
    void launcherJoinsEveryGroupBeforeItBecomesQemu() {
        List<String> command = QemuDriver.joiningCgroup(List.of(Path.of("/cg/cpu/x/cgroup.procs"), Path.of("/cg/memory/x/cgroup.procs")),
                List.of("qemu-system-x86_64", "-name", "a b"));
        assertThat(command.subList(0, 2)).containsExactly("/bin/sh", "-c");
        assertThat(command.subList(3, command.size())).containsExactly("corral-cgroup", "2", "/cg/cpu/x/cgroup.procs",
                "/cg/memory/x/cgroup.procs", "qemu-system-x86_64", "-name", "a b");
        assertThat(QemuDriver.joiningCgroup(List.of(), List.of("qemu-system-x86_64"))).containsExactly("qemu-system-x86_64");
    }

    @Test
    void theProcessThatJoinsIsTheOneThatRunsTheCommand(@TempDir Path dir) throws Exception {
        Path cpu = dir.resolve("cpu.procs");
        Path memory = dir.resolve("memory.procs");
        String printed = ProcessRunner.of(QemuDriver.joiningCgroup(List.of(cpu, memory), List.of("/bin/sh", "-c", "echo $$"))).output();
        assertThat(Files.readString(cpu)).isEqualTo(printed.strip() + "\n").isEqualTo(Files.readString(memory));
    }

    @Test
    void aGroupThatCanNotBeJoinedStopsTheLaunch(@TempDir Path dir) {
        ProcessResult result = ProcessRunner.of(QemuDriver.joiningCgroup(List.of(dir.resolve("missing/cgroup.procs")),
                List.of("/bin/echo", "started"))).run();
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stdout()).doesNotContain("started");
    }
}
