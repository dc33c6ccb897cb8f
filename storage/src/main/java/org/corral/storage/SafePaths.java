package org.corral.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Turns a checked relative name into a path below a storage root, and refuses it when any existing
 * component below the root is a symbolic link: a link could lead anywhere, so no link is followed.
 * The root itself may be a link (as /var/lib/vz often is).
 */
public final class SafePaths {
    private SafePaths() {}

    public static Path resolve(Path root, String relative) {
        VolumeNames.checkSafe(relative);
        Path base = root.toAbsolutePath().normalize();
        Path resolved = base.resolve(relative).normalize();
        if (!resolved.startsWith(base) || resolved.equals(base)) {
            throw new IllegalArgumentException("'" + VolumeNames.printable(relative) + "' is outside the storage");
        }
        checkNoLinks(base, resolved);
        return resolved;
    }

    /** Refuses {@code path} if a component between {@code base} (exclusive) and it is a symbolic link. */
    public static void checkNoLinks(Path base, Path path) {
        Path current = base;
        for (Path part : base.relativize(path)) {
            current = current.resolve(part);
            BasicFileAttributes attributes;
            try {
                attributes = Files.readAttributes(current, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                return;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (attributes.isSymbolicLink()) {
                throw new IllegalArgumentException("'" + base.relativize(current) + "' is a symbolic link; links are not followed");
            }
        }
    }
}
