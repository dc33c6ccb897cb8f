package org.corral.lxc.template;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.corral.core.io.FileTrees;
import org.corral.core.process.ProcessRunner;

/**
 * Builds a Debian container template with {@code debootstrap} from Debian's packages, named as
 * Proxmox names its own ({@code debian-12-standard_12.0-1_amd64.tar.zst}), into a template
 * directory (a storage's {@code vztmpl} cache). The root is trimmed of what must differ per
 * container (machine-id, ssh host keys, hostname, resolv.conf) before it is packed.
 */
public final class DebianTemplate {
    private static final Map<String, String> RELEASES = Map.of("bookworm", "12", "trixie", "13", "bullseye", "11");
    private static final Set<String> ARCHES = Set.of("amd64", "arm64", "i386", "armhf");
    private static final String INCLUDE = "ifupdown,iproute2,isc-dhcp-client,openssh-server,less,ca-certificates,locales,"
            + "iputils-ping,procps,systemd-sysv";

    /** What to build: a Debian suite for one architecture from a mirror. */
    public record Spec(String suite, String arch, URI mirror) {
        public Spec {
            requireNonNull(suite, "suite is null");
            requireNonNull(arch, "arch is null");
            requireNonNull(mirror, "mirror is null");
            if (!RELEASES.containsKey(suite)) {
                throw new IllegalArgumentException("unsupported Debian suite '" + suite + "' (supported: "
                        + String.join(", ", new TreeSet<>(RELEASES.keySet())) + ")");
            }
            if (!ARCHES.contains(arch)) {
                throw new IllegalArgumentException("unsupported architecture '" + arch + "'");
            }
            String scheme = mirror.getScheme();
            if (scheme == null || !(scheme.equals("http") || scheme.equals("https") || scheme.equals("file")) || mirror.getHost() == null
                    && !scheme.equals("file")) {
                throw new IllegalArgumentException("mirror must be an http, https or file URL: " + mirror);
            }
        }

        /** Debian 12 for amd64 from deb.debian.org. */
        public static Spec bookworm() {
            return new Spec("bookworm", "amd64", URI.create("http://deb.debian.org/debian"));
        }

        public String fileName() {
            String release = RELEASES.get(suite);
            return "debian-" + release + "-standard_" + release + ".0-1_" + arch + ".tar.zst";
        }
    }

    private final Spec spec;
    private final Duration timeout;

    public DebianTemplate(Spec spec, Duration timeout) {
        this.spec = requireNonNull(spec, "spec is null");
        this.timeout = requireNonNull(timeout, "timeout is null");
    }

    /** The debootstrap command that fills {@code target}. */
    public List<String> debootstrapCommand(Path target) {
        List<String> cmd = new ArrayList<>(List.of("debootstrap", "--variant=minbase", "--arch=" + spec.arch(),
                "--include=" + INCLUDE, spec.suite(), target.toString(), spec.mirror().toString()));
        return List.copyOf(cmd);
    }

    /** Runs debootstrap (slow: minutes, needs the mirror) and writes the template into {@code outputDir}. */
    public Path build(Path outputDir) throws IOException {
        if (!ProcessRunner.available("debootstrap")) {
            throw new IOException("debootstrap is not installed");
        }
        Files.createDirectories(outputDir);
        Path target = outputDir.resolve(spec.fileName());
        Path staging = Files.createTempDirectory(outputDir, ".debian-staging-");
        Path partial = outputDir.resolve("." + spec.fileName() + ".partial");
        try {
            ProcessRunner.of(debootstrapCommand(staging)).timeout(timeout).run().check();
            trim(staging);
            ProcessRunner.of("tar", "--numeric-owner", "--zstd", "--one-file-system", "--xattrs", "-cf", partial.toString(),
                    "-C", staging.toString(), ".").timeout(timeout).run().check();
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            Files.deleteIfExists(partial);
            FileTrees.deleteTree(staging);
        }
    }

    private static void trim(Path root) throws IOException {
        Files.writeString(root.resolve("etc/machine-id"), "");
        Files.deleteIfExists(root.resolve("var/lib/dbus/machine-id"));
        Files.writeString(root.resolve("etc/hostname"), "localhost\n");
        Files.deleteIfExists(root.resolve("etc/resolv.conf"));
        Files.writeString(root.resolve("etc/resolv.conf"), "");
        try (var keys = Files.newDirectoryStream(root.resolve("etc/ssh"), "ssh_host_*")) {
            for (Path key : keys) {
                Files.delete(key);
            }
        } catch (NoSuchFileException e) {
            // no ssh server in this root
        }
        FileTrees.deleteTree(root.resolve("var/cache/apt/archives"));
        Files.createDirectories(root.resolve("var/cache/apt/archives/partial"));
    }
}
