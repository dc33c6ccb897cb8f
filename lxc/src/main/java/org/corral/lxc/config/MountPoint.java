package org.corral.lxc.config;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.corral.core.schema.PropertyFormat;

/**
 * The container's root file system ({@code rootfs}) or one of its mount points ({@code mpN}):
 * a storage volume, a bind-mounted host directory or a host device. Kept as Proxmox's text
 * values so that writing it back gives Proxmox's string.
 */
public record MountPoint(String key, Map<String, String> values) {
    /** Proxmox's {@code classify_mountpoint}. */
    public enum Type { VOLUME, BIND, DEVICE }

    public MountPoint {
        requireNonNull(key, "key is null");
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Parses and checks the format; throws IllegalArgumentException naming the problem. */
    public static MountPoint parse(String key, String text) {
        Map<String, String> values = PropertyValues.parse(format(key), text);
        values.computeIfPresent("size", (k, v) -> DiskSize.format(DiskSize.parse(v).orElseThrow(
                () -> new IllegalArgumentException("invalid size: " + v))));
        return new MountPoint(key, values);
    }

    private static PropertyFormat format(String key) {
        return key.equals("rootfs") ? CtOptions.ROOTFS : CtOptions.MOUNT_POINT;
    }

    public boolean isRoot() {
        return key.equals("rootfs");
    }

    public String volume() {
        return values.get("volume");
    }

    /** The path inside the container: {@code /} for the root. */
    public String path() {
        return isRoot() ? "/" : values.getOrDefault("mp", "");
    }

    public Type type() {
        String volume = volume();
        if (volume.startsWith("/")) {
            return volume.startsWith("/dev/") ? Type.DEVICE : Type.BIND;
        }
        return Type.VOLUME;
    }

    public OptionalLong sizeBytes() {
        String size = values.get("size");
        return size == null ? OptionalLong.empty() : DiskSize.parse(size);
    }

    public boolean readOnly() {
        return flag("ro", false);
    }

    public boolean backup() {
        return flag("backup", false);
    }

    public boolean quota() {
        return flag("quota", false);
    }

    public Optional<Boolean> acl() {
        return Optional.ofNullable(values.get("acl")).map(v -> v.equals("1"));
    }

    public Optional<String> mountOptions() {
        return Optional.ofNullable(values.get("mountoptions"));
    }

    private boolean flag(String name, boolean defaultValue) {
        String value = values.get(name);
        return value == null ? defaultValue : value.equals("1");
    }

    public MountPoint with(String name, String value) {
        Map<String, String> next = new LinkedHashMap<>(values);
        if (value == null) {
            next.remove(name);
        } else {
            next.put(name, value);
        }
        return new MountPoint(key, next);
    }

    public MountPoint withVolume(String volume) {
        return with("volume", volume);
    }

    public MountPoint withSize(long bytes) {
        return with("size", DiskSize.format(bytes));
    }

    /** Proxmox's {@code verify_lxc_mp_string} on the volume and the path, and the path being absolute. */
    public void validate() {
        checkSequences(volume());
        if (!isRoot()) {
            String mp = values.get("mp");
            if (mp == null || mp.isEmpty()) {
                throw new IllegalArgumentException("mp: property is missing and it is not optional");
            }
            checkSequences(mp);
            if (!mp.startsWith("/")) {
                throw new IllegalArgumentException("mount point path '" + mp + "' must be absolute");
            }
            if (mp.equals("/")) {
                throw new IllegalArgumentException("mount point path must not be '/'");
            }
        }
    }

    private static void checkSequences(String path) {
        if (path.matches(".*/\\.\\.?/.*") || path.matches(".*/\\.\\.?") || path.startsWith("../")) {
            throw new IllegalArgumentException(path + " contains illegal character sequences");
        }
    }

    /** The text Proxmox writes for it. */
    public String format() {
        return PropertyValues.format(format(key), values);
    }

    @Override
    public String toString() {
        return key + ": " + format();
    }
}
