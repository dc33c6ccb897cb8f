package org.corral.lxc.template;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.corral.lxc.LxcConfigWriter;

/**
 * A container template or backup archive: a tar file, plain or compressed with gzip, xz, zstd
 * or bzip2. The compression is read from the file's first bytes, not its name, and the tar
 * header behind it is checked before anything is extracted. Extraction for an unprivileged
 * container runs tar inside {@code lxc-usernsexec} with the container's id map, so that every
 * file lands owned by 100000 and up with its setuid bits intact; device nodes are skipped as
 * Proxmox skips them.
 */
public final class TemplateArchive {
    /** How an archive is compressed, with tar's flag for it. */
    public enum Compression {
        GZIP("--gzip", "gzip"), XZ("--xz", "xz"), ZSTD("--zstd", "zstd"), BZIP2("--bzip2", "bzip2"), LZO("--lzop", "lzop"), NONE("", "");

        private final String tarFlag;
        private final String program;

        Compression(String tarFlag, String program) {
            this.tarFlag = tarFlag;
            this.program = program;
        }

        public Optional<String> tarFlag() {
            return tarFlag.isEmpty() ? Optional.empty() : Optional.of(tarFlag);
        }
    }

    private static final byte[] GZIP_MAGIC = {0x1f, (byte) 0x8b};
    private static final byte[] XZ_MAGIC = {(byte) 0xfd, '7', 'z', 'X', 'Z', 0};
    private static final byte[] ZSTD_MAGIC = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd};
    private static final byte[] BZIP2_MAGIC = {'B', 'Z', 'h'};
    private static final byte[] LZOP_MAGIC = {(byte) 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a};
    private static final int TAR_BLOCK = 512;

    private TemplateArchive() {}

    /**
     * The compression of {@code file}; throws IllegalArgumentException with a clear message when
     * it is not a tar archive at all.
     */
    public static Compression check(Path file) throws IOException {
        String name = file.getFileName().toString();
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("template '" + name + "' does not exist or is not a file");
        }
        byte[] head = new byte[TAR_BLOCK];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        Compression compression = compression(Arrays.copyOf(head, n));
        byte[] tarHeader = compression == Compression.NONE ? Arrays.copyOf(head, n) : decompressHead(file, compression);
        if (!isTarHeader(tarHeader)) {
            throw new IllegalArgumentException("'" + name + "' is not a template archive (expected a tar archive, "
                    + "optionally compressed with gzip, xz or zstd)");
        }
        return compression;
    }

    static Compression compression(byte[] head) {
        if (startsWith(head, GZIP_MAGIC)) {
            return Compression.GZIP;
        }
        if (startsWith(head, XZ_MAGIC)) {
            return Compression.XZ;
        }
        if (startsWith(head, ZSTD_MAGIC)) {
            return Compression.ZSTD;
        }
        if (startsWith(head, BZIP2_MAGIC)) {
            return Compression.BZIP2;
        }
        if (startsWith(head, LZOP_MAGIC)) {
            // vzdump's lzo archives
            return Compression.LZO;
        }
        return Compression.NONE;
    }

    private static boolean startsWith(byte[] data, byte[] prefix) {
        return data.length >= prefix.length && Arrays.equals(data, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** A POSIX/GNU tar header: "ustar" at offset 257 and a matching header checksum. */
    static boolean isTarHeader(byte[] block) {
        if (block.length < TAR_BLOCK) {
            return false;
        }
        String magic = new String(block, 257, 5, StandardCharsets.US_ASCII);
        if (!magic.equals("ustar")) {
            return false;
        }
        String stored = new String(block, 148, 8, StandardCharsets.US_ASCII).replace("\0", " ").trim();
        long sum = 0;
        for (int i = 0; i < TAR_BLOCK; i++) {
            sum += i >= 148 && i < 156 ? ' ' : block[i] & 0xff;
        }
        try {
            return Long.parseLong(stored, 8) == sum;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** The first 512 decompressed bytes; the decompressor is stopped then, so a large archive costs nothing. */
    private static byte[] decompressHead(Path file, Compression compression) throws IOException {
        Process process = new ProcessBuilder(compression.program, "-dc", file.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (InputStream out = process.getInputStream()) {
            return out.readNBytes(TAR_BLOCK);
        } finally {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Extracts {@code archive} into the existing, empty directory {@code rootfs}. With
     * {@code unprivileged}, tar runs as the container's root in a user namespace.
     */
    public static void extract(Path archive, Path rootfs, boolean unprivileged, Duration timeout) throws IOException {
        extract(archive, rootfs, unprivileged, timeout, false);
    }

    /**
     * As above; with {@code ignoreErrors} a tar that reports errors (files it could not create)
     * answers the error text instead of failing, as Proxmox's {@code ignore-unpack-errors}.
     */
    public static Optional<String> extract(Path archive, Path rootfs, boolean unprivileged, Duration timeout, boolean ignoreErrors)
            throws IOException {
        Compression compression = check(archive);
        // tar reads the archive from stdin: the namespace's root may not be allowed to open it
        try (InputStream in = Files.newInputStream(archive)) {
            return extract(in, compression, archive.getFileName().toString(), rootfs, unprivileged, timeout, ignoreErrors);
        }
    }

    /** As above, from an uncompressed tar stream {@code tar} (a backup read out of a datastore) named {@code name}. */
    public static Optional<String> extract(InputStream tar, String name, Path rootfs, boolean unprivileged, Duration timeout,
            boolean ignoreErrors) throws IOException {
        return extract(tar, Compression.NONE, name, rootfs, unprivileged, timeout, ignoreErrors);
    }

    private static Optional<String> extract(InputStream in, Compression compression, String name, Path rootfs, boolean unprivileged,
            Duration timeout, boolean ignoreErrors) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (unprivileged) {
            // the namespace's root must own the target to write into it
            Files.setAttribute(rootfs, "unix:uid", (int) LxcConfigWriter.ID_MAP_BASE);
            Files.setAttribute(rootfs, "unix:gid", (int) LxcConfigWriter.ID_MAP_BASE);
            String map = "0:" + LxcConfigWriter.ID_MAP_BASE + ":" + LxcConfigWriter.ID_MAP_SIZE;
            cmd.addAll(List.of("lxc-usernsexec", "-m", "u:" + map, "-m", "g:" + map, "--"));
        }
        cmd.addAll(List.of("tar", "xpf", "-"));
        compression.tarFlag().ifPresent(cmd::add);
        cmd.addAll(List.of("--totals", "--one-file-system", "--sparse", "--numeric-owner", "--xattrs",
                "--xattrs-include=user.*", "--xattrs-include=security.capability", "--warning=no-file-ignored",
                "--warning=no-xattr-write", "-C", rootfs.toString(), "--skip-old-files", "--anchored", "--exclude", "./dev/*"));
        ProcessResult result = ProcessRunner.of(cmd).stdin(in).timeout(timeout).run();
        if (!result.ok()) {
            if (ignoreErrors && !result.timedOut()) {
                return Optional.of(result.describeFailure());
            }
            throw new IOException("extracting '" + name + "' failed: " + result.describeFailure());
        }
        return Optional.empty();
    }
}
