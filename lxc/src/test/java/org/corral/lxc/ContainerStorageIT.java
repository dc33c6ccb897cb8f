package org.corral.lxc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.corral.core.api.HttpVerb;
import org.corral.core.error.Conflict;
import org.corral.core.io.FileTrees;
import org.corral.core.process.ProcessRunner;
import org.corral.lxc.config.CtConfigCodec;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.config.MountPoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Volumes of real containers on dir and btrfs storage: size limits, resize, full clones, moves, restore. */
class ContainerStorageIT {
    private Path work;
    private Fixtures.BtrfsLoop btrfs;
    private TestLxc lxc;

    @BeforeEach
    void setUp() throws Exception {
        work = Fixtures.workDir("corral-lxc-storage-it");
        btrfs = new Fixtures.BtrfsLoop(work, 1024L << 20);
        lxc = new TestLxc(work).addStorage("local", "dir", work.resolve("local")).addStorage("tank", "btrfs", btrfs.mountPoint());
        lxc.withBusyboxTemplate("local");
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            lxc.close();
            for (int vmid : List.of(9301, 9302, 9303, 9304)) {
                lxc.service().driver().forget(vmid);
            }
        } finally {
            try {
                btrfs.close();
            } finally {
                FileTrees.deleteTree(work);
            }
        }
    }

    private void create(int vmid, String rootfs, String... extra) throws Exception {
        Map<String, String> p = new java.util.LinkedHashMap<>(Map.of("vmid", Integer.toString(vmid),
                "ostemplate", "local:vztmpl/busybox.tar.gz", "rootfs", rootfs, "memory", "64", "swap", "0"));
        for (int i = 0; i < extra.length; i += 2) {
            p.put(extra[i], extra[i + 1]);
        }
        lxc.run(HttpVerb.POST, "/nodes/pve1/lxc", p);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> exec(int vmid, String command, String... extra) throws Exception {
        Map<String, String> p = new java.util.LinkedHashMap<>(Map.of("command", command));
        for (int i = 0; i < extra.length; i += 2) {
            p.put(extra[i], extra[i + 1]);
        }
        return (Map<String, Object>) lxc.call(HttpVerb.POST, lxc.ct(vmid) + "/exec", p);
    }

    private MountPoint rootfs(int vmid) {
        CtSection conf = CtConfigCodec.parse(lxc.store().read(lxc.configPath(vmid)).orElseThrow().text()).main();
        return MountPoint.parse("rootfs", conf.get("rootfs").orElseThrow());
    }

    @Test
    void btrfsEnforcesTheRootfsSizeAndResizeGrowsIt() throws Exception {
        create(9301, "tank:0.125");
        lxc.run(HttpVerb.POST, lxc.ct(9301) + "/status/start", Map.of());
        Map<String, Object> fill = exec(9301, "dd if=/dev/zero of=/root/fill bs=1M count=200 2>&1; sync", "timeout", "60");
        assertThat((String) fill.get("stdout")).containsIgnoringCase("quota");
        exec(9301, "rm -f /root/fill; sync");
        lxc.run(HttpVerb.PUT, lxc.ct(9301) + "/resize", Map.of("disk", "rootfs", "size", "+64M"));
        assertThat(rootfs(9301).sizeBytes()).hasValue(192L << 20);
        assertThat(lxc.storageService().info(rootfs(9301).volume()).size()).isEqualTo(192L << 20);
        assertThatThrownBy(() -> lxc.call(HttpVerb.PUT, lxc.ct(9301) + "/resize", Map.of("disk", "rootfs", "size", "100M")))
                .hasMessageContaining("unable to shrink disk size");
        Map<String, Object> slow = exec(9301, "sleep 10", "timeout", "1");
        assertThat(slow).containsEntry("timeout", 1);
        lxc.run(HttpVerb.DELETE, lxc.ct(9301), Map.of("force", "1", "purge", "1"));
        assertThat(lxc.allVolumes()).isEmpty();
    }

    @Test
    void fullCloneAndMoveVolumeCopyTheFilesBetweenStorages() throws Exception {
        create(9302, "tank:0.25", "hostname", "source");
        lxc.run(HttpVerb.POST, lxc.ct(9302) + "/status/start", Map.of());
        exec(9302, "echo kept > /root/marker; sync");
        assertThatThrownBy(() -> lxc.call(HttpVerb.POST, lxc.ct(9302) + "/clone", Map.of("newid", "9303")))
                .isInstanceOf(Conflict.class).hasMessageContaining("running");
        lxc.run(HttpVerb.POST, lxc.ct(9302) + "/status/stop", Map.of());

        lxc.run(HttpVerb.POST, lxc.ct(9302) + "/clone", Map.of("newid", "9303", "storage", "local", "full", "1", "hostname", "copy"));
        assertThat(rootfs(9303).volume()).isEqualTo("local:9303/subvol-9303-disk-0.subvol");
        lxc.run(HttpVerb.POST, lxc.ct(9303) + "/status/start", Map.of());
        assertThat(exec(9303, "cat /root/marker; hostname; id -u").get("stdout")).isEqualTo("kept\ncopy\n0\n");
        lxc.run(HttpVerb.POST, lxc.ct(9303) + "/status/stop", Map.of());

        lxc.run(HttpVerb.POST, lxc.ct(9302) + "/move_volume", Map.of("volume", "rootfs", "storage", "local", "delete", "1"));
        assertThat(rootfs(9302).volume()).isEqualTo("local:9302/subvol-9302-disk-0.subvol");
        assertThat(rootfs(9302).sizeBytes()).hasValue(256L << 20);
        lxc.run(HttpVerb.POST, lxc.ct(9302) + "/status/start", Map.of());
        assertThat(exec(9302, "cat /root/marker").get("stdout")).isEqualTo("kept\n");
        lxc.run(HttpVerb.DELETE, lxc.ct(9302), Map.of("force", "1", "purge", "1"));
        lxc.run(HttpVerb.DELETE, lxc.ct(9303), Map.of("purge", "1"));
        assertThat(lxc.allVolumes()).isEmpty();
        assertThat(ProcessRunner.of("btrfs", "subvolume", "list", btrfs.mountPoint().toString()).run().check().stdout()).isBlank();
    }

    @Test
    void backupArchiveRestoresWithItsConfigurationOntoANewVolume() throws Exception {
        Path staging = Files.createDirectories(work.resolve("backup-staging"));
        ProcessRunner.of("tar", "xzf", Fixtures.busyboxTemplate().toString(), "-C", staging.toString()).run().check();
        Files.createDirectories(staging.resolve("etc/vzdump"));
        Files.writeString(staging.resolve("etc/vzdump/pct.conf"), "#restored from backup\narch: amd64\nhostname: restored\nmemory: 200\n"
                + "ostype: unmanaged\nrootfs: old:9000/subvol-9000-disk-0.subvol,size=1G\nswap: 0\nunprivileged: 1\n");
        Files.writeString(staging.resolve("root/marker"), "from backup\n");
        Path dump = Files.createDirectories(work.resolve("local/dump"));
        ProcessRunner.of("tar", "--numeric-owner", "-czf", dump.resolve("vzdump-lxc-9000-2026_01_01-00_00_00.tar.gz").toString(),
                "-C", staging.toString(), ".").run().check();

        lxc.run(HttpVerb.POST, "/nodes/pve1/lxc", Map.of("vmid", "9304", "restore", "1", "rootfs", "tank:0.25",
                "ostemplate", "local:backup/vzdump-lxc-9000-2026_01_01-00_00_00.tar.gz"));
        String text = lxc.store().read(lxc.configPath(9304)).orElseThrow().text();
        assertThat(text).startsWith("#restored from backup\n").contains("hostname: restored\n", "memory: 200\n",
                "rootfs: tank:9304/subvol-9304-disk-0.subvol,size=256M\n", "unprivileged: 1\n");
        lxc.run(HttpVerb.POST, lxc.ct(9304) + "/status/start", Map.of());
        assertThat(exec(9304, "cat /root/marker; ls /etc/vzdump 2>&1 | head -c 0; id -u").get("stdout")).isEqualTo("from backup\n0\n");
        lxc.run(HttpVerb.DELETE, lxc.ct(9304), Map.of("force", "1", "purge", "1"));
        assertThat(lxc.allVolumes()).isEmpty();
    }

    @Test
    void onbootContainersStartInStartupOrder() throws Exception {
        create(9301, "local:0", "onboot", "1", "startup", "order=2");
        create(9302, "local:0", "onboot", "1", "startup", "order=1,up=1");
        create(9303, "local:0");
        String upid = lxc.service().power().startOnBoot("root@pam").orElseThrow();
        assertThat(lxc.await(upid).exitstatus()).contains("OK");
        List<String> log = lxc.log(upid);
        assertThat(String.join("\n", log).indexOf("CT 9302 started")).isLessThan(String.join("\n", log).indexOf("CT 9301 started"));
        assertThat(lxc.service().driver().running()).containsExactly(9301, 9302);
        assertThat(lxc.service().power().startOnBoot("root@pam")).isEmpty();
        for (int vmid : List.of(9301, 9302, 9303)) {
            lxc.run(HttpVerb.DELETE, lxc.ct(vmid), Map.of("force", "1", "purge", "1"));
        }
        assertThat(lxc.allVolumes()).isEmpty();
    }

    @Test
    void aplinfoBuildsTheBusyboxTemplateIntoTheStorage() throws Exception {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> list = (List<Map<String, Object>>) lxc.call(HttpVerb.GET, "/nodes/pve1/aplinfo", Map.of());
        String busybox = (String) list.stream().filter(e -> e.get("package").equals("busybox")).findFirst().orElseThrow().get("template");
        lxc.run(HttpVerb.POST, "/nodes/pve1/aplinfo", Map.of("storage", "local", "template", busybox));
        Path file = lxc.storage().templateDirectory("local").resolve(busybox);
        assertThat(file).exists();
        create(9301, "local:0", "ostemplate", "local:vztmpl/" + busybox);
        assertThat(lxc.store().read(lxc.configPath(9301)).orElseThrow().text()).contains("ostype: unmanaged\n");
        lxc.run(HttpVerb.DELETE, lxc.ct(9301), Map.of("purge", "1"));
        Files.delete(file);
    }
}
