package org.corral.storage.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.corral.core.process.ProcessRunner;

/** The {@code btrfs} commands the btrfs storage uses. */
final class Btrfs {
    // every subvolume's root directory has this inode number
    private static final long SUBVOLUME_INODE = 256;

    private Btrfs() {}

    /** Referenced and exclusive bytes of a subvolume's qgroup, and its referenced-bytes limit if any. */
    record Qgroup(long referenced, long exclusive, Optional<Long> limit) {}

    static void createSubvolume(Path path) {
        ProcessRunner.of("btrfs", "subvolume", "create", path.toString()).output();
    }

    static void deleteSubvolume(Path path) {
        ProcessRunner.of("btrfs", "subvolume", "delete", path.toString()).output();
    }

    static void snapshot(Path source, Path target, boolean readOnly) {
        List<String> command = new ArrayList<>(List.of("btrfs", "subvolume", "snapshot"));
        if (readOnly) {
            command.add("-r");
        }
        command.addAll(List.of(source.toString(), target.toString()));
        ProcessRunner.of(command).output();
    }

    static boolean isSubvolume(Path path) {
        try {
            return Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
                    && ((Number) Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue() == SUBVOLUME_INODE;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    static void setReadOnly(Path subvolume, boolean readOnly) {
        ProcessRunner.of("btrfs", "property", "set", "-ts", subvolume.toString(), "ro", Boolean.toString(readOnly)).output();
    }

    /** Turns quota groups on for the file system holding {@code path}; does nothing when they are on. */
    static void enableQuota(Path path) {
        if (qgroup(path).isEmpty()) {
            ProcessRunner.of("btrfs", "quota", "enable", path.toString()).output();
        }
    }

    /** Limits the data a subvolume refers to; empty removes the limit. */
    static void limit(Path subvolume, Optional<Long> bytes) {
        ProcessRunner.of("btrfs", "qgroup", "limit", bytes.map(String::valueOf).orElse("none"), subvolume.toString()).output();
    }

    /** The subvolume's own qgroup ({@code 0/ID}), or empty when quotas are off. */
    static Optional<Qgroup> qgroup(Path subvolume) {
        String out;
        try {
            out = ProcessRunner.of("btrfs", "qgroup", "show", "-re", "--raw", "-f", subvolume.toString()).output();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
        for (String line : out.lines().toList()) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length >= 5 && fields[0].startsWith("0/")) {
                Optional<Long> limit = fields[3].equals("none") ? Optional.empty() : Optional.of(Long.parseLong(fields[3]));
                return Optional.of(new Qgroup(Long.parseLong(fields[1]), Long.parseLong(fields[2]), limit));
            }
        }
        return Optional.empty();
    }

    /** Writes a send stream of a read-only subvolume, incremental against {@code parent} when given. */
    static void send(Path subvolume, Optional<Path> parent, OutputStream out) {
        List<String> command = new ArrayList<>(List.of("btrfs", "send", "-q"));
        parent.ifPresent(p -> command.addAll(List.of("-p", p.toString())));
        command.add(subvolume.toString());
        ProcessRunner.of(command).stdout(out).run().check();
    }

    /** Receives a send stream into {@code directory}, where it creates a read-only subvolume. */
    static void receive(Path directory, InputStream in) {
        ProcessRunner.of("btrfs", "receive", "-q", directory.toString()).stdin(in).run().check();
    }
}
