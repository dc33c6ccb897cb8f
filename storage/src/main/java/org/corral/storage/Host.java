package org.corral.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a storage type needs to know about the machine to decide whether it can run here: which
 * tools are installed and which kernel interfaces exist. Tests may pass a fake host to see the
 * answers for a machine they are not on.
 */
public interface Host {
    /** Whether an executable of this name is in the usual bin/sbin directories. */
    boolean hasTool(String name);

    /** Whether an absolute host path exists ({@code /dev/mapper/control}, {@code /dev/zfs}). */
    boolean exists(String path);

    /** A small host file's text ({@code /proc/mounts}, {@code /proc/filesystems}); empty if unreadable. */
    Optional<String> read(String path);

    /** The real machine. */
    static Host system() {
        return new Local();
    }

    /** This machine, looking for tools in fixed directories (no PATH lookup: the daemon's environment is not trusted). */
    final class Local implements Host {
        private static final List<Path> BIN_DIRS = List.of(Path.of("/usr/local/sbin"), Path.of("/usr/local/bin"),
                Path.of("/usr/sbin"), Path.of("/usr/bin"), Path.of("/sbin"), Path.of("/bin"));

        @Override
        public boolean hasTool(String name) {
            return BIN_DIRS.stream().map(dir -> dir.resolve(name)).anyMatch(Files::isExecutable);
        }

        @Override
        public boolean exists(String path) {
            return Files.exists(Path.of(path));
        }

        @Override
        public Optional<String> read(String path) {
            try {
                return Optional.of(Files.readString(Path.of(path)));
            } catch (IOException e) {
                return Optional.empty();
            }
        }
    }
}
