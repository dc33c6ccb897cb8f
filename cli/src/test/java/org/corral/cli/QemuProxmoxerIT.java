package org.corral.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.corral.qemu.it.GuestImage;
import org.junit.jupiter.api.Test;

/**
 * Issue 5 end to end: python3-proxmoxer drives VMs under TCG on a real node in its own process,
 * from ISO upload to purge; the node is killed with SIGKILL while a VM runs, and the restarted
 * node finds it running and stops it.
 */
class QemuProxmoxerIT {
    private static final String PASSWORD = "qemu-e2e-admin-1";
    private static final String BRIDGE = "corralvme2e0";

    @Test
    void proxmoxerRunsVmsFromIsoUploadToPurge() throws Exception {
        Path iso = GuestImage.iso();
        Path base = Files.createTempDirectory(Path.of("/var/tmp"), "corral-qemu-e2e-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path dataDir = base.resolve("data");
        Path upload = base.resolve("corral-guest.iso");
        Files.copy(iso, upload);
        Process node = null;
        int port = E2e.freePort();
        try {
            E2e.quietly("ip", "link", "del", BRIDGE);
            E2e.run("ip", "link", "add", BRIDGE, "type", "bridge");
            E2e.run("ip", "link", "set", BRIDGE, "up");
            Path script = E2e.resource(base, "qemu_e2e.py");
            String[] args = {"127.0.0.1", Integer.toString(port), PASSWORD, BRIDGE, upload.toString()};

            node = E2e.startNode(dataDir, port, "e2eqemu", PASSWORD);
            assertThat(E2e.python(script, E2e.with("phase1", args))).contains("PHASE1 OK");
            Path pidFile = dataDir.resolve("run/qemu-server/301.pid");
            long vmPid = Long.parseLong(Files.readString(pidFile).strip());

            node.destroyForcibly();
            node.waitFor(30, TimeUnit.SECONDS);
            assertThat(ProcessHandle.of(vmPid).map(ProcessHandle::isAlive)).as("QEMU of VM 301 outlives the node").contains(true);

            node = E2e.startNode(dataDir, port, "e2eqemu", PASSWORD);
            assertThat(E2e.python(script, E2e.with("phase2", args))).contains("PHASE2 OK");
            assertThat(ProcessHandle.of(vmPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        } catch (AssertionError | Exception e) {
            E2e.printNodeLog(base);
            throw e;
        } finally {
            if (node != null) {
                node.destroyForcibly();
                node.waitFor(30, TimeUnit.SECONDS);
            }
            Path pids = dataDir.resolve("run/qemu-server");
            if (Files.isDirectory(pids)) {
                try (var files = Files.list(pids)) {
                    for (Path pid : files.filter(p -> p.toString().endsWith(".pid")).toList()) {
                        try {
                            ProcessHandle.of(Long.parseLong(Files.readString(pid).strip())).ifPresent(ProcessHandle::destroyForcibly);
                        } catch (NumberFormatException e) {
                            // not a pid file of ours
                        }
                    }
                }
            }
            E2e.quietly("ip", "link", "del", BRIDGE);
            // the node was killed, so it could not remove its VMs' cgroups itself
            E2e.removeCgroups("corral-e2eqemu-");
            E2e.deleteTree(base);
        }
    }
}
