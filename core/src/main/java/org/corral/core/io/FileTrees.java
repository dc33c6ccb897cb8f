package org.corral.core.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The one way Corral removes a directory tree. Symbolic links are removed, never followed (a link
 * into a guest's or a user's files must not take those files along). Parts that someone else
 * removes meanwhile, or a path that is not there at all, are fine: the tree is gone either way.
 */
public final class FileTrees {
    private FileTrees() {}

    /** Removes {@code path}: a file, a link, or a directory with everything below it. */
    public static void deleteTree(Path path) throws IOException {
        if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(path);
            return;
        }
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** {@link #deleteTree}, with a failure as an {@link UncheckedIOException} naming the path. */
    public static void deleteTreeUnchecked(Path path) {
        try {
            deleteTree(path);
        } catch (IOException e) {
            throw new UncheckedIOException("can't remove " + path + ": " + e.getMessage(), e);
        }
    }
}
