package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import org.corral.core.node.Node;

/**
 * Where a running VM's sockets and files live: {@code <runDir>/qemu-server/<vmid>.qmp}, {@code .pid},
 * {@code .vnc}, {@code .serialN}, {@code .qga}, and the start log.
 */
public record VmPaths(Path dir, int vmid) {
    public VmPaths {
        requireNonNull(dir, "dir is null");
    }

    public static VmPaths of(Node node, int vmid) {
        return new VmPaths(directory(node), vmid);
    }

    public static Path directory(Node node) {
        return node.runDir().resolve("qemu-server");
    }

    public Path qmp() {
        return dir.resolve(vmid + ".qmp");
    }

    public Path pid() {
        return dir.resolve(vmid + ".pid");
    }

    public Path vnc() {
        return dir.resolve(vmid + ".vnc");
    }

    public Path serial(int index) {
        return dir.resolve(vmid + ".serial" + index);
    }

    public Path agent() {
        return dir.resolve(vmid + ".qga");
    }

    /** What QEMU printed while it started; read when it fails to. */
    public Path startLog() {
        return dir.resolve(vmid + ".log");
    }

    /** The cloud-init ISO built for the next start. */
    public Path cloudInitIso() {
        return dir.resolve(vmid + ".cloudinit.iso");
    }
}
