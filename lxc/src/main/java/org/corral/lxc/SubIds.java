package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure {@code /etc/subuid} and {@code /etc/subgid} give root the range that unprivileged
 * containers map ({@code root:100000:65536}); LXC refuses to start them otherwise. Adds the line
 * when no existing root range covers it, keeping every other line, and replaces the file
 * atomically.
 */
public final class SubIds {
    private static final Logger log = LoggerFactory.getLogger(SubIds.class);

    private final Path subuid;
    private final Path subgid;

    public SubIds() {
        this(Path.of("/etc/subuid"), Path.of("/etc/subgid"));
    }

    public SubIds(Path subuid, Path subgid) {
        this.subuid = requireNonNull(subuid, "subuid is null");
        this.subgid = requireNonNull(subgid, "subgid is null");
    }

    /** Adds root's container range to both files where it is missing; answers whether anything changed. */
    public boolean ensure() throws IOException {
        boolean changed = ensure(subuid);
        return ensure(subgid) || changed;
    }

    static boolean covers(List<String> lines, long start, long count) {
        for (String line : lines) {
            String[] f = line.trim().split(":");
            if (f.length != 3 || !(f[0].equals("root") || f[0].equals("0"))) {
                continue;
            }
            try {
                long s = Long.parseLong(f[1]);
                long n = Long.parseLong(f[2]);
                if (s <= start && s + n >= start + count) {
                    return true;
                }
            } catch (NumberFormatException e) {
                // a malformed line covers nothing
            }
        }
        return false;
    }

    private static boolean ensure(Path file) throws IOException {
        String text = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        if (covers(text.lines().toList(), LxcConfigWriter.ID_MAP_BASE, LxcConfigWriter.ID_MAP_SIZE)) {
            return false;
        }
        String line = "root:" + LxcConfigWriter.ID_MAP_BASE + ":" + LxcConfigWriter.ID_MAP_SIZE + "\n";
        String next = text.isEmpty() || text.endsWith("\n") ? text + line : text + "\n" + line;
        Path tmp = file.resolveSibling("." + file.getFileName() + ".corral-tmp");
        Files.writeString(tmp, next, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(tmp, Files.exists(file, LinkOption.NOFOLLOW_LINKS)
                ? Files.getPosixFilePermissions(file) : PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        log.info("Added '{}' to {} for unprivileged containers", line.strip(), file);
        return true;
    }
}
