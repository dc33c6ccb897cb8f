package org.corral.storage;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a volume is for QEMU or LXC: a file, a directory (container root), a block device, or a
 * URL QEMU opens itself ({@code rbd:pool/vm-100-disk-0:...}, {@code iscsi://portal/target/0}).
 */
public record VolumeLocation(Kind kind, String value) {
    public enum Kind { FILE, DIRECTORY, BLOCK_DEVICE, URL }

    public VolumeLocation {
        requireNonNull(kind, "kind is null");
        requireNonNull(value, "value is null");
    }

    public static VolumeLocation file(Path path) {
        return new VolumeLocation(Kind.FILE, path.toString());
    }

    public static VolumeLocation directory(Path path) {
        return new VolumeLocation(Kind.DIRECTORY, path.toString());
    }

    public static VolumeLocation device(Path path) {
        return new VolumeLocation(Kind.BLOCK_DEVICE, path.toString());
    }

    public static VolumeLocation url(String url) {
        return new VolumeLocation(Kind.URL, url);
    }

    /** The local path, for everything but URLs. */
    public Optional<Path> path() {
        return kind == Kind.URL ? Optional.empty() : Optional.of(Path.of(value));
    }
}
