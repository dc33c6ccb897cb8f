package org.corral.lxc.template;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.io.FileTrees;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;

/**
 * Builds a tiny container template from the host's static busybox ({@code busybox-static}):
 * the binary with a link for each applet, a minimal {@code /etc} (root with a locked password,
 * an {@code inittab} whose init runs gettys on the console and ttys and halts on SIGPWR as
 * {@code lxc-stop} sends it) and nothing else. Corral detects it as {@code unmanaged}.
 */
public final class BusyboxTemplate {
    private static final Pattern VERSION = Pattern.compile("BusyBox v(\\d+(?:\\.\\d+)+)");
    private static final List<String> DIRS = List.of("bin", "sbin", "etc", "etc/init.d", "dev", "proc", "sys", "tmp", "root", "run",
            "var", "var/log", "var/run", "usr", "usr/bin", "usr/sbin", "mnt", "home", "lib");

    private final Path busybox;

    public BusyboxTemplate() {
        this(Path.of("/bin/busybox"));
    }

    /** A builder that takes busybox from {@code busybox} (must be statically linked). */
    public BusyboxTemplate(Path busybox) {
        this.busybox = requireNonNull(busybox, "busybox is null");
    }

    /** Writes {@code busybox-VERSION-corral_1_amd64.tar.gz} into {@code outputDir} and answers its path. */
    public Path build(Path outputDir) throws IOException {
        return build(outputDir, TemplateArchive.Compression.GZIP);
    }

    /** As {@link #build(Path)}, compressed with gzip ({@code .tar.gz}) or zstd ({@code .tar.zst}). */
    public Path build(Path outputDir, TemplateArchive.Compression compression) throws IOException {
        String suffix = switch (compression) {
            case GZIP -> ".tar.gz";
            case ZSTD -> ".tar.zst";
            case XZ -> ".tar.xz";
            case BZIP2, LZO, NONE -> throw new IllegalArgumentException("templates are written with gzip, xz or zstd");
        };
        checkStatic();
        String version = version();
        Files.createDirectories(outputDir);
        Path target = outputDir.resolve("busybox-" + version + "-corral_1_amd64" + suffix);
        Path staging = Files.createTempDirectory(outputDir, ".busybox-staging-");
        Path partial = outputDir.resolve("." + target.getFileName() + ".partial");
        try {
            populate(staging);
            ProcessRunner.of("tar", "--numeric-owner", "--owner=0", "--group=0", compression.tarFlag().orElseThrow(),
                            "-cf", partial.toString(), "-C", staging.toString(), ".")
                    .timeout(Duration.ofMinutes(5)).run().check();
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            Files.deleteIfExists(partial);
            FileTrees.deleteTree(staging);
        }
    }

    private void checkStatic() throws IOException {
        if (!Files.isRegularFile(busybox)) {
            throw new IOException("no busybox at " + busybox + " (install busybox-static)");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(busybox)) {
            head = in.readNBytes(4096);
        }
        // a dynamic binary names its loader near the start; the container has no libraries
        if (new String(head, StandardCharsets.ISO_8859_1).contains("/ld-linux")) {
            throw new IOException(busybox + " is dynamically linked; a template needs busybox-static");
        }
    }

    private String version() {
        ProcessResult result = ProcessRunner.of(busybox.toString()).timeout(Duration.ofSeconds(10)).run();
        Matcher m = VERSION.matcher(result.stdout() + result.stderr());
        return m.find() ? m.group(1) : "0";
    }

    private void populate(Path root) throws IOException {
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String dir : DIRS) {
            Files.createDirectories(root.resolve(dir));
        }
        // Java's permission sets have no sticky bit
        ProcessRunner.of("chmod", "1777", root.resolve("tmp").toString()).timeout(Duration.ofSeconds(10)).run().check();
        Files.setPosixFilePermissions(root.resolve("root"), PosixFilePermissions.fromString("rwx------"));
        Path binary = root.resolve("bin/busybox");
        Files.copy(busybox, binary);
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> applets = ProcessRunner.of(busybox.toString(), "--list-full").timeout(Duration.ofSeconds(10)).run().check()
                .stdout().lines().map(String::trim).filter(a -> !a.isEmpty()).toList();
        for (String applet : applets) {
            Path link = root.resolve(applet);
            if (applet.equals("bin/busybox") || Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, link.getParent().relativize(binary));
        }
        write(root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", "rw-r--r--");
        write(root, "etc/group", "root:x:0:\nnogroup:x:65534:\n", "rw-r--r--");
        write(root, "etc/shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", "rw-r-----");
        write(root, "etc/hostname", "busybox\n", "rw-r--r--");
        write(root, "etc/hosts", "127.0.0.1 localhost\n::1 localhost\n", "rw-r--r--");
        write(root, "etc/fstab", "", "rw-r--r--");
        write(root, "etc/profile", "export PATH=/bin:/sbin:/usr/bin:/usr/sbin\nexport PS1='\\h:\\w\\$ '\n", "rw-r--r--");
        write(root, "etc/shells", "/bin/sh\n/bin/ash\n", "rw-r--r--");
        write(root, "etc/init.d/rcS", """
                #!/bin/sh
                # first thing init runs: name the host and bring up what LXC did not
                /bin/mount -a 2>/dev/null
                /bin/hostname -F /etc/hostname 2>/dev/null
                /sbin/ip link set lo up 2>/dev/null
                exit 0
                """, "rwxr-xr-x");
        write(root, "etc/inittab", """
                ::sysinit:/etc/init.d/rcS
                console::respawn:/sbin/getty -L 0 console vt100
                tty1::respawn:/sbin/getty -L 0 tty1 vt100
                tty2::respawn:/sbin/getty -L 0 tty2 vt100
                ::ctrlaltdel:/sbin/reboot
                ::shutdown:/bin/umount -a -r
                """, "rw-r--r--");
    }

    private static void write(Path root, String name, String text, String perms) throws IOException {
        Path file = root.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms));
    }
}
