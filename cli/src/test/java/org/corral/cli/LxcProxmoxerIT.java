package org.corral.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.corral.lxc.template.BusyboxTemplate;
import org.junit.jupiter.api.Test;

/**
 * Issue 6 end to end: python3-proxmoxer drives a real node (its own process) through an
 * unprivileged container's life on btrfs; the node is killed with SIGKILL while the container
 * runs, and the restarted node still manages it.
 */
class LxcProxmoxerIT {
    private static final String PASSWORD = "lxc-e2e-admin-1";
    private static final String BRIDGE = "corrale2e0";

    @Test
    void proxmoxerRunsAnUnprivilegedContainerOnBtrfsThroughItsWholeLife() throws Exception {
        // under /var/tmp, open to others: the container's root (uid 100000) must reach its rootfs
        Path base = Files.createTempDirectory(Path.of("/var/tmp"), "corral-lxc-e2e-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path dataDir = base.resolve("data");
        Path btrfs = Files.createDirectories(base.resolve("btrfs"));
        Path image = base.resolve("btrfs.img");
        String loop = null;
        Process node = null;
        int port;
        port = E2e.freePort();
        try {
            E2e.run("truncate", "-s", "2G", image.toString());
            loop = E2e.run("losetup", "--find", "--show", image.toString()).strip();
            E2e.run("mkfs.btrfs", "-q", loop);
            E2e.run("mount", loop, btrfs.toString());
            E2e.quietly("ip", "link", "del", BRIDGE);
            E2e.run("ip", "link", "add", BRIDGE, "type", "bridge");
            E2e.run("ip", "addr", "add", "10.77.0.1/24", "dev", BRIDGE);
            E2e.run("ip", "link", "set", BRIDGE, "up");
            Path template = new BusyboxTemplate().build(Files.createDirectories(base.resolve("template")));
            Path script = E2e.resource(base, "lxc_e2e.py");
            String[] rest = {"127.0.0.1", Integer.toString(port), PASSWORD, btrfs.toString(), BRIDGE, template.toString()};

            node = E2e.startNode(dataDir, port, "e2elxc", PASSWORD);
            assertThat(E2e.python(script, E2e.with("phase1", rest))).contains("PHASE1 OK");

            node.destroyForcibly();
            node.waitFor(30, TimeUnit.SECONDS);
            Path lxcPath = dataDir.resolve("run/lxc");
            assertThat(E2e.run("lxc-info", "-P", lxcPath.toString(), "-n", "201", "-s")).contains("RUNNING");

            node = E2e.startNode(dataDir, port, "e2elxc", PASSWORD);
            assertThat(E2e.python(script, E2e.with("phase2", rest))).contains("PHASE2 OK");
            assertThat(E2e.run("btrfs", "subvolume", "list", btrfs.toString()).strip()).isEmpty();
        } catch (AssertionError | Exception e) {
            E2e.printNodeLog(base);
            throw e;
        } finally {
            if (node != null) {
                node.destroyForcibly();
                node.waitFor(30, TimeUnit.SECONDS);
            }
            Path lxcPath = dataDir.resolve("run/lxc");
            if (Files.isDirectory(lxcPath)) {
                try {
                    for (String ct : E2e.run("lxc-ls", "-P", lxcPath.toString(), "-1").split("\\s+")) {
                        if (!ct.isBlank()) {
                            E2e.quietly("lxc-stop", "-P", lxcPath.toString(), "-n", ct, "-k");
                        }
                    }
                } catch (IOException e) {
                    // nothing to stop
                }
            }
            E2e.quietly("umount", "-R", btrfs.toString());
            E2e.quietly("umount", "-l", btrfs.toString());
            if (loop != null) {
                E2e.quietly("losetup", "-d", loop);
            }
            E2e.quietly("ip", "link", "del", BRIDGE);
            E2e.deleteTree(base);
        }
    }
}
