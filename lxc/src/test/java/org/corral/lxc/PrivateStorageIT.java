package org.corral.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.corral.core.api.HttpVerb;
import org.corral.core.io.FileTrees;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An unprivileged container on a btrfs storage below a directory closed to others (mode 0700,
 * like one below /root): its mapped root can't walk there, so the rootfs is bound where it can.
 */
class PrivateStorageIT {
    private static final int CT = 9401;

    private Path work;
    private Path closed;
    private Fixtures.BtrfsLoop btrfs;
    private TestLxc lxc;

    @BeforeEach
    void setUp() throws Exception {
        work = Fixtures.workDir("corral-lxc-private");
        closed = Files.createDirectories(work.resolve("closed"));
        btrfs = new Fixtures.BtrfsLoop(closed, 512L << 20);
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        lxc = new TestLxc(work).addStorage("local", "dir", work.resolve("local")).addStorage("vault", "btrfs", btrfs.mountPoint());
        lxc.withBusyboxTemplate("local");
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (lxc != null) {
                lxc.close();
                lxc.service().driver().forget(CT);
            }
        } finally {
            try {
                if (btrfs != null) {
                    btrfs.close();
                }
            } finally {
                FileTrees.deleteTree(work);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> call(HttpVerb verb, String path, Map<String, String> params) throws Exception {
        return (Map<String, Object>) lxc.call(verb, path, params);
    }

    @Test
    void unprivilegedContainerOnAStorageBelowAClosedDirectoryCreatesStartsRunsAndStops() throws Exception {
        lxc.run(HttpVerb.POST, "/nodes/pve1/lxc", Map.of("vmid", Integer.toString(CT), "ostemplate", "local:vztmpl/busybox.tar.gz",
                "rootfs", "vault:0.25", "memory", "128", "hostname", "hidden1"));
        Path volume = btrfs.mountPoint().resolve("images/" + CT + "/subvol-" + CT + "-disk-0.subvol");
        assertThat(Files.getAttribute(volume.resolve("bin/busybox"), "unix:uid")).isEqualTo(100000);
        assertThat(mountsBelow(lxc.service().driver().containerDir(CT))).as("no bind left after create").isEmpty();

        lxc.run(HttpVerb.POST, lxc.ct(CT) + "/status/start", Map.of());
        assertThat(call(HttpVerb.GET, lxc.ct(CT) + "/status/current", Map.of())).containsEntry("status", "running");
        Path bound = lxc.service().driver().containerDir(CT).resolve("rootfs");
        assertThat(mountsBelow(lxc.service().driver().containerDir(CT))).containsExactly(bound.toString());
        assertThat(Files.readString(lxc.service().driver().containerDir(CT).resolve("config"))).contains("lxc.rootfs.path = dir:" + bound);
        Map<String, Object> inside = call(HttpVerb.POST, lxc.ct(CT) + "/exec", Map.of("command", "id -u; hostname; echo hi > /root/note"));
        assertThat(inside).containsEntry("exitcode", 0).containsEntry("stdout", "0\nhidden1\n");
        assertThat(Files.readString(volume.resolve("root/note"))).isEqualTo("hi\n");

        lxc.run(HttpVerb.POST, lxc.ct(CT) + "/status/stop", Map.of());
        assertThat(call(HttpVerb.GET, lxc.ct(CT) + "/status/current", Map.of())).containsEntry("status", "stopped");
        assertThat(mountsBelow(lxc.service().driver().containerDir(CT))).as("no bind left after stop").isEmpty();

        lxc.run(HttpVerb.DELETE, lxc.ct(CT), Map.of("purge", "1"));
        assertThat(lxc.allVolumes()).isEmpty();
        assertThat(lxc.service().driver().containerDir(CT)).doesNotExist();
    }

    private static List<String> mountsBelow(Path dir) throws Exception {
        String prefix = dir.toAbsolutePath() + "/";
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" ")[4]).filter(m -> m.startsWith(prefix))
                .toList();
    }
}
