package org.corral.storage;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One storage type (dir, btrfs, nfs, lvmthin ...): its options, what it can do, and the volume
 * operations. One class per type, registered in {@link PluginRegistry}. Methods get the storage's
 * configuration section; volume names come parsed by {@link #parseVolume}. Operations a type lacks
 * throw {@link StorageException}; callers check {@link #capabilities()} first.
 */
public interface StoragePlugin {
    /** The storage.cfg type name. */
    String type();

    Capabilities capabilities();

    /** The options this type takes; their schemas are in {@link StorageOptions}. */
    List<OptionSpec> options();

    /** Values set on create when the caller gave none (NFS: {@code path /mnt/pve/ID}). */
    default Map<String, String> createDefaults(String storageId) {
        return Map.of();
    }

    /** Checks that go beyond single values; puts one message per bad option into {@code errors}. */
    default void checkOptions(Map<String, String> options, Map<String, String> errors) {}

    /**
     * Whether this host can use the storage now, cheaply: missing tools or kernel support, an
     * unmounted mount point, a missing path. An inactive answer carries the reason users see.
     */
    Availability availability(StorageConfig config);

    /** Makes the storage usable (creates directories, mounts); only called when {@link #availability} is active. */
    default void activate(StorageConfig config) {}

    default void deactivate(StorageConfig config) {}

    StorageStatus status(StorageConfig config);

    /** Parses the part of a volume id after {@code storage:}; IllegalArgumentException when it is not one of ours. */
    Volume parseVolume(String volname);

    /**
     * Bytes a new volume takes from free space at once: its size when thick-provisioned, a little or
     * nothing when thin. The service refuses an allocation whose need exceeds {@code avail}.
     */
    long spaceNeeded(StorageConfig config, VolumeFormat format, long sizeBytes);

    /**
     * Creates a volume of {@code sizeBytes} for {@code vmid} and answers its volume name.
     * {@code name} is a disk name with or without format suffix; empty picks the next free {@code disk-N}.
     */
    String alloc(StorageConfig config, int vmid, VolumeFormat format, Optional<String> name, long sizeBytes);

    /** Removes a volume and everything that belongs to it (snapshots, notes). */
    void free(StorageConfig config, Volume volume);

    /** Volumes of the given content types, of {@code vmid} only if given; names are volume names. */
    List<VolumeInfo> list(StorageConfig config, Optional<Integer> vmid, Set<ContentType> content);

    /** One volume's sizes and attributes; {@link org.corral.core.error.NotFound} when it does not exist. */
    VolumeInfo info(StorageConfig config, Volume volume);

    /** Where QEMU or LXC find the volume, or its snapshot. */
    VolumeLocation path(StorageConfig config, Volume volume, Optional<String> snapshot);

    /** The directory that holds files of {@code content} on file-based storages (uploads go there). */
    default Optional<Path> contentDirectory(StorageConfig config, ContentType content) {
        return Optional.empty();
    }

    /** Grows a volume to {@code sizeBytes}; shrinking is refused. */
    default void resize(StorageConfig config, Volume volume, long sizeBytes) {
        throw unsupported("resize");
    }

    default void snapshot(StorageConfig config, Volume volume, String snapshot) {
        throw unsupported("snapshots");
    }

    default void rollback(StorageConfig config, Volume volume, String snapshot) {
        throw unsupported("snapshot rollback");
    }

    default void deleteSnapshot(StorageConfig config, Volume volume, String snapshot) {
        throw unsupported("snapshots");
    }

    /** Turns a guest volume into a read-only base volume for linked clones; answers the new volume name. */
    default String createBase(StorageConfig config, Volume volume) {
        throw unsupported("templates");
    }

    /** A linked clone of a base volume (or of a snapshot) for {@code vmid}; answers the new volume name. */
    default String clone(StorageConfig config, Volume base, int vmid, Optional<String> snapshot) {
        throw unsupported("linked clones");
    }

    /** Writes the volume (or a snapshot) to {@code out} in one of {@link Capabilities#exportFormats()}. */
    default void exportVolume(StorageConfig config, Volume volume, String format, Optional<String> snapshot,
            Optional<String> baseSnapshot, OutputStream out) {
        throw unsupported("export");
    }

    /** Creates the volume {@code volname} from a stream made by {@link #exportVolume}; answers its volume name. */
    default String importVolume(StorageConfig config, String volname, String format, InputStream in) {
        throw unsupported("import");
    }

    /** Whether the volume is protected from removal; storages without attributes protect nothing. */
    default boolean isProtected(StorageConfig config, Volume volume) {
        return false;
    }

    /** Stores a volume attribute ({@code notes}, {@code protected}); an empty value removes it. */
    default void setAttribute(StorageConfig config, Volume volume, String attribute, String value) {
        throw unsupported("volume attributes");
    }

    /**
     * A secret option turned into what storage.cfg keeps ({@code shown}, such as a key's fingerprint) and the text of
     * its private file {@code priv/storage/ID.SUFFIX}.
     */
    record PrivateOption(String shown, String privateText) {}

    /** Options whose secret lives in a private file, by option name, with the file's suffix ({@code encryption-key} to {@code enc}). */
    default Map<String, String> privateOptions() {
        return Map.of();
    }

    /** Turns a given value of one of {@link #privateOptions()}; IllegalArgumentException says why it is bad. */
    default PrivateOption keepPrivate(String option, String value) {
        throw new IllegalArgumentException("option '" + option + "' is not private for storage type '" + type() + "'");
    }

    default StorageException unsupported(String what) {
        return new StorageException("storage type '" + type() + "' does not support " + what);
    }

    /** Whether a volume of this format may be created here. */
    default boolean allows(VolumeFormat format) {
        return capabilities().formats().contains(format);
    }

    /** A readable set of {@link Feature}s of a format, for messages. */
    default Set<Feature> features(VolumeFormat format) {
        return capabilities().features().getOrDefault(format, Set.of());
    }
}
