package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds an unprivileged container's volumes where its mapped root can reach them. That root
 * (uid 100000 on the host) must walk every directory down to its root file system, and a
 * storage below a directory closed to others (mode 0700, e.g. below /root) stops it: tar in
 * {@code lxc-usernsexec} can't open the target and LXC can't mount it. Such a volume is bound
 * at {@code RUN/lxc/VMID/NAME}, as Proxmox mounts a rootfs at {@code /var/lib/lxc/VMID/rootfs};
 * volumes on open paths are used where they are.
 */
final class ReachableMounts {
    private static final Logger log = LoggerFactory.getLogger(ReachableMounts.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern OCTAL_ESCAPE = Pattern.compile("\\\\([0-7]{3})");

    private final Path lxcPath;

    ReachableMounts(Path lxcPath) {
        this.lxcPath = requireNonNull(lxcPath, "lxcPath is null").toAbsolutePath().normalize();
    }

    /** {@code source} itself, or a bind of it at {@code RUN/lxc/VMID/NAME} when a directory above it is closed to others. */
    Path reach(int vmid, String name, Path source) throws IOException {
        Optional<Path> closed = closedDirectory(source);
        if (closed.isEmpty()) {
            return source;
        }
        Path target = containerDir(vmid).resolve(name);
        openWay(target.getParent());
        // a bind left from an earlier run may hold a subvolume that a rollback has replaced since
        unmount(target);
        Files.createDirectories(target);
        ProcessRunner.of("mount", "--bind", source.toString(), target.toString()).timeout(TIMEOUT).run().check();
        log.debug("Bound {} at {}: '{}' is closed to others", source, target, closed.get());
        return target;
    }

    /** Removes every bind below {@code RUN/lxc/VMID}, deepest first. */
    void release(int vmid) throws IOException {
        List<Path> mounts = mountsBelow(containerDir(vmid));
        for (Path mount : mounts.stream().sorted(Comparator.comparingInt(Path::getNameCount).reversed()).toList()) {
            unmount(mount);
        }
    }

    /** Mount points strictly below {@code dir}, from this process's mount table. */
    static List<Path> mountsBelow(Path dir) throws IOException {
        Path base = dir.toAbsolutePath().normalize();
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(line -> line.split(" "))
                .filter(fields -> fields.length > 4)
                .map(fields -> Path.of(unescape(fields[4])))
                .filter(mount -> mount.startsWith(base) && !mount.equals(base))
                .distinct()
                .toList();
    }

    /** The first directory above {@code path} that others may not traverse, if any. */
    static Optional<Path> closedDirectory(Path path) throws IOException {
        for (Path dir = path.toAbsolutePath().normalize().getParent(); dir != null; dir = dir.getParent()) {
            if (!Files.getPosixFilePermissions(dir).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    private Path containerDir(int vmid) {
        return lxcPath.resolve(Integer.toString(vmid));
    }

    /** Lets others traverse the node's run directory and open the lxcpath and the container's directory. */
    private void openWay(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path runDir = lxcPath.getParent();
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(runDir);
        if (perms.add(PosixFilePermission.OTHERS_EXECUTE)) {
            Files.setPosixFilePermissions(runDir, perms);
        }
        Files.setPosixFilePermissions(lxcPath, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static void unmount(Path target) throws IOException {
        while (mountsBelow(target.getParent()).contains(target)) {
            ProcessResult result = ProcessRunner.of("umount", target.toString()).timeout(TIMEOUT).run();
            if (!result.ok()) {
                // busy: detach it now, the kernel frees it once the last user is gone
                log.warn("Could not unmount {} ({}); detaching it", target, result.describeFailure());
                ProcessRunner.of("umount", "-l", target.toString()).timeout(TIMEOUT).run().check();
            }
        }
    }

    private static String unescape(String field) {
        Matcher m = OCTAL_ESCAPE.matcher(field);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(String.valueOf((char) Integer.parseInt(m.group(1), 8))));
        }
        m.appendTail(out);
        return out.toString();
    }
}
