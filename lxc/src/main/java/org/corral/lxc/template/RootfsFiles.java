package org.corral.lxc.template;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Files inside a container's root file system, reached the way the container would see them:
 * symbolic links are followed but can never lead out of the root (like openat2's
 * RESOLVE_IN_ROOT), because a template or a guest controls every link in there. New files are
 * owned by the container's root ({@code rootUid}, 100000 for an unprivileged container).
 */
public final class RootfsFiles {
    private static final int MAX_LINKS = 40;

    private final Path root;
    private final int rootUid;
    private final int rootGid;

    public RootfsFiles(Path root, int rootUid, int rootGid) {
        this.root = requireNonNull(root, "root is null").toAbsolutePath().normalize();
        this.rootUid = rootUid;
        this.rootGid = rootGid;
    }

    public Path root() {
        return root;
    }

    /** The host path of {@code guestPath} (absolute inside the container), links resolved inside the root. */
    public Path resolve(String guestPath) throws IOException {
        Deque<String> pending = new ArrayDeque<>(split(guestPath));
        List<String> resolved = new ArrayList<>();
        int links = 0;
        while (!pending.isEmpty()) {
            String part = pending.removeFirst();
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!resolved.isEmpty()) {
                    resolved.removeLast();
                }
                continue;
            }
            Path candidate = join(resolved).resolve(part);
            if (Files.isSymbolicLink(candidate)) {
                if (++links > MAX_LINKS) {
                    throw new IOException("too many levels of symbolic links in " + guestPath);
                }
                String target = Files.readSymbolicLink(candidate).toString();
                List<String> targetParts = split(target);
                if (target.startsWith("/")) {
                    resolved.clear();
                }
                for (int i = targetParts.size() - 1; i >= 0; i--) {
                    pending.addFirst(targetParts.get(i));
                }
                continue;
            }
            resolved.add(part);
        }
        return join(resolved);
    }

    private Path join(List<String> parts) {
        Path p = root;
        for (String part : parts) {
            p = p.resolve(part);
        }
        return p;
    }

    private static List<String> split(String path) {
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (!part.isEmpty()) {
                parts.add(part);
            }
        }
        return parts;
    }

    public boolean exists(String guestPath) throws IOException {
        return Files.exists(resolve(guestPath), LinkOption.NOFOLLOW_LINKS);
    }

    public Optional<String> read(String guestPath) throws IOException {
        Path p = resolve(guestPath);
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        return Optional.of(Files.readString(p, StandardCharsets.ISO_8859_1));
    }

    /**
     * Replaces {@code guestPath} atomically with {@code text} (mode {@code perms}, owned by the
     * container's root), creating missing parent directories (mode 755).
     */
    public void write(String guestPath, String text, String perms) throws IOException {
        Path target = resolve(guestPath);
        Path parent = target.getParent();
        mkdirs(parent);
        Path tmp = parent.resolve("." + target.getFileName() + ".corral-tmp");
        Files.deleteIfExists(tmp);
        Files.writeString(tmp, text, StandardCharsets.ISO_8859_1);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(perms));
        chown(tmp);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Replaces {@code guestPath} by a symbolic link to {@code target} (a path as the container sees it). */
    public void symlink(String guestPath, String target) throws IOException {
        Path link = resolveParent(guestPath);
        mkdirs(link.getParent());
        Path tmp = link.resolveSibling("." + link.getFileName() + ".corral-tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, Path.of(target));
        chown(tmp);
        Files.move(tmp, link, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The host path of {@code guestPath}'s directory resolved, the last name kept as it is (not followed). */
    private Path resolveParent(String guestPath) throws IOException {
        List<String> parts = split(guestPath);
        if (parts.isEmpty()) {
            throw new IOException("no file name in '" + guestPath + "'");
        }
        String name = parts.removeLast();
        Path parent = resolve("/" + String.join("/", parts));
        if (name.equals("..") || name.equals(".")) {
            throw new IOException("invalid file name in '" + guestPath + "'");
        }
        return parent.resolve(name);
    }

    /** Creates a directory and its missing parents inside the root, owned by the container's root. */
    public void mkdir(String guestPath, String perms) throws IOException {
        Path dir = resolve(guestPath);
        mkdirs(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(perms));
    }

    private void mkdirs(Path dir) throws IOException {
        if (!dir.startsWith(root)) {
            throw new IOException(dir + " is outside " + root);
        }
        List<Path> missing = new ArrayList<>();
        for (Path p = dir; !p.equals(root) && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            missing.addFirst(p);
        }
        for (Path p : missing) {
            Files.createDirectory(p);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            chown(p);
        }
    }

    private void chown(Path p) throws IOException {
        Files.setAttribute(p, "unix:uid", rootUid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", rootGid, LinkOption.NOFOLLOW_LINKS);
    }
}
