package org.corral.backup.vzdump;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.corral.core.guest.DiskImageGuest;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskContext;

/**
 * A container backup as vzdump writes it: one tar of the root file system with numeric owners,
 * ACLs and xattrs, the guest config as {@code ./etc/vzdump/pct.conf} first, compressed by the
 * chosen tool. An unprivileged container's files are stored with the container's own ids
 * (100000 becomes 0), as Proxmox's tar inside the user namespace stores them.
 */
final class TarArchive {
    static final String CONFIG_MEMBER = "./etc/vzdump/pct.conf";
    static final String VM_CONFIG_MEMBER = "./etc/vzdump/qemu-server.conf";
    private static final Duration TIMEOUT = Duration.ofHours(24);
    private static final int ID_RANGE = 65536;

    /** What tar reported: its {@code Total bytes written} line, and the bytes it produced. */
    record Written(String totals, long tarBytes) {}

    private TarArchive() {}

    /**
     * Writes the archive of {@code rootfs} (with {@code configText}) to {@code target}, which must
     * not exist; {@code work} is an empty scratch directory.
     */
    static Written create(Path rootfs, String configText, long rootId, boolean stdexcludes, Compression compression, int zstdThreads,
            long bytesPerSecond, Path target, Path work, TaskContext ctx) throws IOException {
        List<String> tar = containerTar(rootfs, configText, rootId, stdexcludes, work);
        return write(tar, compression, zstdThreads, bytesPerSecond, target, ctx);
    }

    /** As {@link #create}, the plain tar stream written to {@code target} (a datastore's file archive) instead of a file. */
    static Written createStream(Path rootfs, String configText, long rootId, boolean stdexcludes, long bytesPerSecond,
            OutputStream target, Path work, TaskContext ctx) throws IOException {
        List<String> tar = containerTar(rootfs, configText, rootId, stdexcludes, work);
        // without access and change times an unchanged file's headers are the same bytes again, so its chunks dedupe
        tar.add(3, "--pax-option=delete=atime,delete=ctime");
        Throttle throttle = new Throttle(target, bytesPerSecond);
        ProcessResult result = ProcessRunner.of(tar).stdout(throttle).task(ctx).timeout(TIMEOUT).run();
        return checked(result, throttle.bytes());
    }

    /** The tar command writing a container's archive to stdout; the config goes into {@code work} first. */
    private static List<String> containerTar(Path rootfs, String configText, long rootId, boolean stdexcludes, Path work)
            throws IOException {
        Path conf = work.resolve("etc/vzdump/pct.conf");
        Files.createDirectories(conf.getParent());
        Files.writeString(conf, configText);
        List<String> tar = new ArrayList<>(List.of("tar", "cpf", "-", "--totals", "--one-file-system", "--sparse", "--numeric-owner",
                "--acls", "--xattrs", "--xattrs-include=user.*", "--xattrs-include=security.capability",
                "--warning=no-file-ignored", "--warning=no-xattr-write", "--warning=no-file-changed"));
        if (rootId != 0) {
            tar.add("--owner-map=" + idMap(work.resolve("owner.map"), rootId));
            tar.add("--group-map=" + idMap(work.resolve("group.map"), rootId));
        }
        tar.addAll(List.of("--directory=" + work, CONFIG_MEMBER, "--directory=" + rootfs,
                "--no-anchored", "--exclude=lost+found", "--anchored"));
        if (stdexcludes) {
            tar.addAll(List.of("--exclude=./tmp/?*", "--exclude=./var/tmp/?*", "--exclude=./var/run/?*.pid"));
        }
        tar.add("./");
        return tar;
    }

    /**
     * Writes a VM archive (Corral's own format, see backup/README.md): the config as
     * {@code ./etc/vzdump/qemu-server.conf}, then each disk as a sparse raw image
     * {@code ./disks/KEY.raw}, converted by qemu-img into {@code work} first.
     */
    static Written createVm(String configText, List<DiskImageGuest.DiskImage> disks, Compression compression, int zstdThreads,
            long bytesPerSecond, Path target, Path work, TaskContext ctx) throws IOException {
        Path conf = work.resolve("etc/vzdump/qemu-server.conf");
        Files.createDirectories(conf.getParent());
        Files.writeString(conf, configText);
        Path diskDir = Files.createDirectories(work.resolve("disks"));
        for (DiskImageGuest.DiskImage disk : disks) {
            String name = disk.path().getFileName().toString();
            String format = name.endsWith(".qcow2") ? "qcow2" : name.endsWith(".vmdk") ? "vmdk" : "raw";
            ctx.log("INFO: reading " + disk.key() + " (" + disk.volid() + ")");
            ProcessRunner.of("qemu-img", "convert", "-f", format, "-O", "raw", disk.path().toString(),
                    diskDir.resolve(disk.key() + ".raw").toString()).task(ctx).timeout(TIMEOUT).run().check();
        }
        List<String> tar = new ArrayList<>(List.of("tar", "cpf", "-", "--totals", "--sparse", "--numeric-owner",
                "--directory=" + work, VM_CONFIG_MEMBER));
        for (DiskImageGuest.DiskImage disk : disks) {
            tar.add("./disks/" + disk.key() + ".raw");
        }
        return write(tar, compression, zstdThreads, bytesPerSecond, target, ctx);
    }

    private static Written write(List<String> tar, Compression compression, int zstdThreads, long bytesPerSecond, Path target,
            TaskContext ctx) throws IOException {
        ProcessResult tarResult;
        long tarBytes;
        try (OutputStream file = Files.newOutputStream(target, java.nio.file.StandardOpenOption.CREATE_NEW)) {
            if (compression == Compression.NONE) {
                Throttle throttle = new Throttle(file, bytesPerSecond);
                tarResult = ProcessRunner.of(tar).stdout(throttle).task(ctx).timeout(TIMEOUT).run();
                tarBytes = throttle.bytes();
            } else {
                BytePipe pipe = new BytePipe();
                AtomicReference<Object> compressed = new AtomicReference<>();
                Thread compressor = Thread.ofVirtual().name("vzdump compressor").start(() -> {
                    try (InputStream in = pipe.source()) {
                        compressed.set(ProcessRunner.of(compression.compressCommand(zstdThreads)).stdin(in).stdout(file)
                                .task(ctx).timeout(TIMEOUT).run());
                    } catch (RuntimeException | IOException e) {
                        compressed.set(e);
                    }
                });
                Throttle throttle = new Throttle(pipe.sink(), bytesPerSecond);
                try {
                    tarResult = ProcessRunner.of(tar).stdout(throttle).task(ctx).timeout(TIMEOUT).run();
                } finally {
                    throttle.close();
                    try {
                        compressor.join();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted waiting for the compressor", e);
                    }
                }
                tarBytes = throttle.bytes();
                Object result = compressed.get();
                if (result instanceof Exception e) {
                    throw new IOException("compressing with " + compression.compressCommand(zstdThreads).getFirst() + " failed: "
                            + e.getMessage(), e);
                }
                ProcessResult c = (ProcessResult) result;
                if (!c.ok()) {
                    throw new IOException(c.describeFailure());
                }
            }
        }
        return checked(tarResult, tarBytes);
    }

    private static Written checked(ProcessResult tarResult, long tarBytes) throws IOException {
        // exit code 1: a file changed while it was read; the archive is complete, as vzdump accepts it
        if (tarResult.exitCode() != 0 && tarResult.exitCode() != 1 || tarResult.timedOut()) {
            throw new IOException(tarResult.describeFailure());
        }
        String totals = tarResult.stderr().lines().filter(l -> l.startsWith("Total bytes written")).findFirst()
                .orElse("Total bytes written: " + tarBytes);
        return new Written(totals, tarBytes);
    }

    /** A tar owner or group map taking the container's id range back to 0..65535. */
    private static Path idMap(Path file, long rootId) throws IOException {
        StringBuilder text = new StringBuilder(ID_RANGE * 16);
        for (int i = 0; i < ID_RANGE; i++) {
            text.append('+').append(rootId + i).append(" +").append(i).append('\n');
        }
        Files.writeString(file, text);
        return file;
    }

    /** The guest config stored in a container archive. */
    static String readConfig(Path archive) throws IOException {
        return readConfig(archive, CONFIG_MEMBER);
    }

    /** The member {@code member} (a guest config) of an archive. */
    static String readConfig(Path archive, String member) throws IOException {
        Compression compression = Compression.ofName(archive.getFileName().toString());
        List<String> tar = List.of("tar", "xf", "-", "--to-stdout", "--occurrence=1", member);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ProcessResult result;
        try (InputStream in = Files.newInputStream(archive)) {
            if (compression == Compression.NONE) {
                result = ProcessRunner.of(tar).stdin(in).stdout(out).timeout(Duration.ofMinutes(10)).run();
            } else {
                BytePipe pipe = new BytePipe();
                AtomicReference<Object> decompressed = new AtomicReference<>();
                OutputStream sink = pipe.sink();
                Thread decompressor = Thread.ofVirtual().start(() -> {
                    try (sink) {
                        decompressed.set(ProcessRunner.of(compression.decompressCommand()).stdin(in).stdout(sink)
                                .timeout(Duration.ofMinutes(10)).run());
                    } catch (RuntimeException | IOException e) {
                        decompressed.set(e);
                    }
                });
                try (InputStream source = pipe.source()) {
                    result = ProcessRunner.of(tar).stdin(source).stdout(out).timeout(Duration.ofMinutes(10)).run();
                }
                try {
                    decompressor.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        if (!result.ok() || out.size() == 0) {
            throw new IOException("unable to read the configuration from '" + archive.getFileName() + "': "
                    + Optional.of(result.describeFailure()).filter(s -> !result.ok()).orElse("archive has no " + member));
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
