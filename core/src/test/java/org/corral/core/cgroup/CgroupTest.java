package org.corral.core.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupTest {
    @TempDir
    Path root;

    @Test
    void cpulimitBecomesAQuotaOfTheHundredMillisecondPeriod() {
        assertThat(Cgroup.cpuFiles(CgroupHost.Layout.V1, 0.5, OptionalLong.empty(), true)).containsExactly(
                entry("cpu.shares", "1024"), entry("cpu.cfs_period_us", "100000"), entry("cpu.cfs_quota_us", "50000"));
        assertThat(Cgroup.cpuFiles(CgroupHost.Layout.V2, 2, OptionalLong.of(200), true)).containsExactly(
                entry("cpu.weight", "200"), entry("cpu.max", "200000 100000"));
    }

    @Test
    void cpulimitZeroLiftsTheQuotaOrLeavesItOutOfANewGroup() {
        assertThat(Cgroup.cpuFiles(CgroupHost.Layout.V1, 0, OptionalLong.empty(), true))
                .containsEntry("cpu.cfs_quota_us", "-1");
        assertThat(Cgroup.cpuFiles(CgroupHost.Layout.V2, 0, OptionalLong.empty(), true)).containsEntry("cpu.max", "max 100000");
        assertThat(Cgroup.cpuFiles(CgroupHost.Layout.V2, 0, OptionalLong.empty(), false)).containsOnlyKeys("cpu.weight");
    }

    @Test
    void cpuunitsAreClampedToWhatEachLayoutTakesWithProxmoxDefaults() {
        assertThat(Cgroup.cpuWeight(CgroupHost.Layout.V2, OptionalLong.empty())).isEqualTo(100);
        assertThat(Cgroup.cpuWeight(CgroupHost.Layout.V1, OptionalLong.empty())).isEqualTo(1024);
        assertThat(Cgroup.cpuWeight(CgroupHost.Layout.V2, OptionalLong.of(262_144))).isEqualTo(10_000);
        assertThat(Cgroup.cpuWeight(CgroupHost.Layout.V1, OptionalLong.of(1))).isEqualTo(2);
        assertThat(Cgroup.cpuQuota(0.001)).hasValue(1000);
    }

    @Test
    void v1GroupIsMadeInEveryMountedControllerAndRemovedFromEach() throws IOException {
        for (String controller : new String[] {"cpu", "cpuacct", "memory"}) {
            Files.createDirectories(root.resolve(controller));
        }
        Cgroup group = new CgroupHost(CgroupHost.Layout.V1, root, false, 2).group("corral-pve1/qemu-100");
        group.create();
        assertThat(group.exists()).isTrue();
        assertThat(group.procsFiles()).containsExactly(root.resolve("cpu/corral-pve1/qemu-100/cgroup.procs"),
                root.resolve("cpuacct/corral-pve1/qemu-100/cgroup.procs"), root.resolve("memory/corral-pve1/qemu-100/cgroup.procs"));
        Files.writeString(root.resolve("cpuacct/corral-pve1/qemu-100/cpuacct.usage"), "1500\n");
        assertThat(group.stats().cpuNanos()).hasValue(1500);
        assertThat(group.stats().memory()).isEmpty();
        Files.delete(root.resolve("cpuacct/corral-pve1/qemu-100/cpuacct.usage"));
        assertThat(group.remove()).isTrue();
        assertThat(Files.exists(root.resolve("memory/corral-pve1/qemu-100"))).isFalse();
        assertThat(Files.exists(root.resolve("memory/corral-pve1"))).isTrue();
    }

    @Test
    void v2GroupEnablesTheControllersOfTheDirectoriesAboveIt() throws IOException {
        Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
        Files.writeString(root.resolve("cgroup.subtree_control"), "memory\n");
        Path node = root.resolve("corral-pve1");
        Files.createDirectories(node);
        Files.writeString(node.resolve("cgroup.controllers"), "cpu io memory pids\n");
        Files.writeString(node.resolve("cgroup.subtree_control"), "\n");
        Cgroup group = new CgroupHost(CgroupHost.Layout.V2, root, false, 2).group("corral-pve1/qemu-100");
        group.create();
        assertThat(Files.readString(root.resolve("cgroup.subtree_control"))).isEqualTo("+cpu +io +pids");
        assertThat(Files.readString(node.resolve("cgroup.subtree_control"))).isEqualTo("+cpu +memory +io +pids");
        assertThat(group.procsFiles()).containsExactly(node.resolve("qemu-100/cgroup.procs"));
        Files.writeString(node.resolve("qemu-100/cpu.stat"), "usage_usec 7\nuser_usec 5\n");
        assertThat(group.stats().cpuNanos()).hasValue(7000);
    }

    @Test
    void pathsLeavingTheCgroupRootAreRefused() {
        CgroupHost host = new CgroupHost(CgroupHost.Layout.V2, root, false, 2);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> host.group("../etc")).isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> host.group("/x")).isInstanceOf(IllegalArgumentException.class);
    }
}
