package org.corral.storage.plugin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.corral.core.json.Json;
import org.corral.core.process.ProcessRunner;
import org.corral.storage.StorageException;
import org.corral.storage.VolumeFormat;
import tools.jackson.databind.JsonNode;

/** The image operations of file storages, through {@code qemu-img}; qcow2 headers are read directly for speed. */
final class QemuImg {
    private static final int QCOW2_MAGIC = 0x514649fb;
    private static final int MAX_BACKING_NAME = 1023;

    private QemuImg() {}

    /** A qcow2 file's virtual size and backing file, or a raw file's length. */
    record Header(long virtualSize, Optional<String> backingFile) {}

    /** Info as {@code qemu-img info} reports it: virtual size, bytes allocated, format, backing file. */
    record Info(long virtualSize, long actualSize, String format, Optional<String> backingFile) {}

    /**
     * The qemu-img {@code preallocation} option for a storage's mode (default {@code metadata});
     * raw has no metadata mode and vmdk no preallocation at all, as in Proxmox.
     */
    static Optional<String> preallocation(VolumeFormat format, Optional<String> mode) {
        String value = mode.orElse("metadata");
        return switch (format) {
            case RAW -> value.equals("metadata") || value.equals("off") ? Optional.empty() : Optional.of(value);
            case QCOW2 -> Optional.of(value);
            case VMDK, SUBVOL -> Optional.empty();
        };
    }

    /** Whether images made with this preallocation take their whole size from free space at once. */
    static boolean thick(VolumeFormat format, Optional<String> mode) {
        return preallocation(format, mode).filter(v -> v.equals("falloc") || v.equals("full")).isPresent();
    }

    static void create(Path path, VolumeFormat format, long sizeBytes, Optional<String> preallocation) {
        List<String> command = new ArrayList<>(List.of("qemu-img", "create"));
        preallocation(format, preallocation).ifPresent(p -> command.addAll(List.of("-o", "preallocation=" + p)));
        command.addAll(List.of("-f", format.proxmoxName(), path.toString(), kib(sizeBytes)));
        ProcessRunner.of(command).output();
        ownerOnly(path);
    }

    /** A guest's disk is its data: only root (QEMU runs as root) may read it. */
    static void ownerOnly(Path path) {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new StorageException("unable to restrict '" + path + "' to root - " + e.getMessage(), e);
        }
    }

    /** A qcow2 image on top of {@code backing} (a path relative to the new image's directory). */
    static void createLinked(Path path, String backing, VolumeFormat backingFormat) {
        ProcessRunner.of("qemu-img", "create", "-b", backing, "-F", backingFormat.proxmoxName(), "-f", "qcow2", path.toString()).output();
        ownerOnly(path);
    }

    static void resize(Path path, VolumeFormat format, long sizeBytes) {
        ProcessRunner.of("qemu-img", "resize", "-f", format.proxmoxName(), path.toString(), Long.toString(sizeBytes)).output();
    }

    /** {@code -c} creates, {@code -a} applies (rollback), {@code -d} deletes an internal snapshot. */
    static void snapshot(String operation, String snapshot, Path path) {
        ProcessRunner.of("qemu-img", "snapshot", operation, snapshot, path.toString()).output();
    }

    static List<String> snapshots(Path path) {
        JsonNode info = Json.read(ProcessRunner.of("qemu-img", "info", "--output=json", "-f", "qcow2", path.toString()).output());
        List<String> names = new ArrayList<>();
        info.path("snapshots").forEach(s -> names.add(s.path("name").asString()));
        return names;
    }

    static Info info(Path path, VolumeFormat format) {
        JsonNode info = Json.read(ProcessRunner.of("qemu-img", "info", "--output=json", "-f", format.proxmoxName(), path.toString()).output());
        String backing = info.path("backing-filename").asString("");
        return new Info(info.path("virtual-size").asLong(0), info.path("actual-size").asLong(0),
                info.path("format").asString(format.proxmoxName()), backing.isEmpty() ? Optional.empty() : Optional.of(backing));
    }

    /** Reads a qcow2 header (or a raw file's length) without starting a process; vmdk needs {@link #info}. */
    static Header header(Path path, VolumeFormat format) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            if (format != VolumeFormat.QCOW2) {
                return new Header(channel.size(), Optional.empty());
            }
            ByteBuffer head = ByteBuffer.allocate(32);
            while (head.hasRemaining() && channel.read(head) >= 0) {
                // read the fixed part of the header
            }
            head.flip();
            if (head.remaining() < 32 || head.getInt(0) != QCOW2_MAGIC) {
                throw new StorageException("'" + path + "' is not a qcow2 image");
            }
            long backingOffset = head.getLong(8);
            int backingLength = head.getInt(16);
            long size = head.getLong(24);
            Optional<String> backing = Optional.empty();
            if (backingOffset > 0 && backingLength > 0 && backingLength <= MAX_BACKING_NAME) {
                ByteBuffer name = ByteBuffer.allocate(backingLength);
                channel.position(backingOffset);
                while (name.hasRemaining() && channel.read(name) >= 0) {
                    // read the backing file name
                }
                backing = Optional.of(new String(name.array(), 0, name.position(), StandardCharsets.UTF_8));
            }
            return new Header(size, backing);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read image header of " + path, e);
        }
    }

    private static String kib(long bytes) {
        return ((bytes + 1023) / 1024) + "K";
    }
}
