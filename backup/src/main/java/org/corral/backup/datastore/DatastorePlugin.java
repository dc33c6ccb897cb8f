package org.corral.backup.datastore;

import static org.corral.storage.OptionSpec.fixed;
import static org.corral.storage.OptionSpec.optional;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.core.error.NotFound;
import org.corral.storage.Availability;
import org.corral.storage.Capabilities;
import org.corral.storage.ContentType;
import org.corral.storage.OptionSpec;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageException;
import org.corral.storage.StoragePlugin;
import org.corral.storage.StorageStatus;
import org.corral.storage.Volume;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;
import org.corral.storage.VolumeNames;

/**
 * {@code datastore}: a deduplicating {@link Datastore} in a local directory, for backups only. Its snapshots are
 * the storage's backup volumes, named as Proxmox names PBS backups: {@code backup/ct/100/2026-12-03T12:00:00Z},
 * format {@code pbs-ct} or {@code pbs-vm}. The storage itself needs no key to list, annotate, protect or delete
 * snapshots; the {@code encryption-key} is used by backup and restore only.
 */
public final class DatastorePlugin implements StoragePlugin {
    public static final String TYPE = "datastore";
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.BACKUP),
            Set.of(ContentType.BACKUP),
            Set.of(),
            Optional.empty(),
            Map.of(),
            Set.of(),
            false,
            false);
    private static final String PREFIX = "backup/";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(fixed("path"), optional("nodes"), optional("disable"), optional("content"), optional("shared"),
                optional("encryption-key"),
                optional("prune-backups"), optional("max-protected-backups"));
    }

    /** The key file's suffix below {@code priv/storage/}: {@code ID.enc}, as Proxmox keeps PBS storages' keys. */
    public static final String KEY_SUFFIX = "enc";

    @Override
    public Map<String, String> privateOptions() {
        return Map.of("encryption-key", KEY_SUFFIX);
    }

    /** {@code autogen} makes a new key; any other value is a key file's JSON. storage.cfg keeps the fingerprint. */
    @Override
    public PrivateOption keepPrivate(String option, String value) {
        CryptKey key = value.equals("autogen") ? CryptKey.generate() : CryptKey.parse(value);
        return new PrivateOption(key.fingerprint(), key.toJson());
    }

    static Path root(StorageConfig config) {
        return Path.of(config.option("path").orElseThrow(() -> new StorageException("storage '" + config.id() + "' has no path")));
    }

    @Override
    public Availability availability(StorageConfig config) {
        Path root = root(config);
        if (Files.exists(root.resolve(".corral-datastore"))) {
            return Availability.ok();
        }
        if (Files.exists(root) && !Files.isDirectory(root)) {
            return Availability.inactive("'" + root + "' is not a directory");
        }
        if (Files.isDirectory(root) && !isEmpty(root)) {
            return Availability.inactive("'" + root + "' is neither a datastore nor empty");
        }
        return Availability.ok();
    }

    private static boolean isEmpty(Path dir) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            return !entries.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }

    /** Creates the datastore in an empty or missing directory on first use. */
    @Override
    public synchronized void activate(StorageConfig config) {
        Path root = root(config);
        if (Files.exists(root.resolve(".corral-datastore"))) {
            return;
        }
        try (Datastore created = Datastore.create(root, null, DatastoreOptions.defaults())) {
            // only the marker and layout are written here
        } catch (IOException e) {
            throw new StorageException("unable to activate storage '" + config.id() + "' - " + e.getMessage(), e);
        }
    }

    /** Opens the storage's datastore without a key: enough to list, annotate, protect, delete and prune. */
    public static Datastore open(StorageConfig config) {
        return open(config, null);
    }

    public static Datastore open(StorageConfig config, CryptKey key) {
        try {
            return Datastore.open(root(config), key, DatastoreOptions.defaults());
        } catch (IOException e) {
            throw new StorageException("storage '" + config.id() + "' - " + e.getMessage(), e);
        }
    }

    @Override
    public StorageStatus status(StorageConfig config) {
        try {
            FileStore store = Files.getFileStore(root(config));
            long total = store.getTotalSpace();
            long free = store.getUnallocatedSpace();
            return new StorageStatus(total, Math.max(0, total - free), Math.max(0, store.getUsableSpace()));
        } catch (IOException e) {
            throw new StorageException("unable to read the status of storage '" + config.id() + "' - " + e.getMessage(), e);
        }
    }

    @Override
    public Volume parseVolume(String volname) {
        VolumeNames.checkSafe(volname);
        SnapshotId id = snapshot(volname);
        return Volume.file(volname, ContentType.BACKUP, volname.substring(PREFIX.length()), vmid(id));
    }

    /** The snapshot a volume name names; IllegalArgumentException when it names none. */
    public static SnapshotId snapshot(String volname) {
        if (!volname.startsWith(PREFIX)) {
            throw new IllegalArgumentException("unable to parse datastore volume name '" + volname + "'");
        }
        SnapshotId id = SnapshotId.parse(volname.substring(PREFIX.length()));
        if (!id.timeString().equals(volname.substring(volname.lastIndexOf('/') + 1))) {
            throw new IllegalArgumentException("unable to parse datastore volume name '" + volname + "': time is not in RFC 3339 UTC seconds");
        }
        return id;
    }

    public static String volname(SnapshotId id) {
        return PREFIX + id;
    }

    private static Optional<Integer> vmid(SnapshotId id) {
        if (id.type().equals("host") || !id.id().matches("[1-9][0-9]{2,8}")) {
            return Optional.empty();
        }
        return Optional.of(Integer.parseInt(id.id()));
    }

    /** The guest type of a snapshot as Proxmox's backup subtype: {@code qemu}, {@code lxc}. */
    public static String subtype(SnapshotId id) {
        return switch (id.type()) {
            case "vm" -> "qemu";
            case "ct" -> "lxc";
            default -> "unknown";
        };
    }

    @Override
    public long spaceNeeded(StorageConfig config, VolumeFormat format, long sizeBytes) {
        return 0;
    }

    @Override
    public String alloc(StorageConfig config, int vmid, VolumeFormat format, Optional<String> name, long sizeBytes) {
        throw unsupported("guest volumes");
    }

    @Override
    public void free(StorageConfig config, Volume volume) {
        try (Datastore store = open(config)) {
            store.deleteSnapshot(snapshot(volume.volname()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<VolumeInfo> list(StorageConfig config, Optional<Integer> vmid, Set<ContentType> content) {
        List<VolumeInfo> out = new ArrayList<>();
        if (!content.isEmpty() && !content.contains(ContentType.BACKUP)) {
            return out;
        }
        try (Datastore store = open(config)) {
            for (SnapshotInfo snapshot : store.listSnapshots()) {
                Optional<Integer> owner = vmid(snapshot.id());
                if (!snapshot.complete() || owner.isEmpty() || vmid.isPresent() && !vmid.equals(owner)) {
                    continue;
                }
                out.add(info(store, snapshot.id(), snapshot.isProtected()));
            }
        } catch (IOException e) {
            throw new StorageException("unable to list storage '" + config.id() + "' - " + e.getMessage(), e);
        }
        return out;
    }

    private static VolumeInfo info(Datastore store, SnapshotId id, boolean isProtected) throws IOException {
        Manifest manifest = store.manifest(id);
        long size = manifest.files().stream().mapToLong(Manifest.FileEntry::size).sum();
        return new VolumeInfo(volname(id), ContentType.BACKUP, "pbs-" + id.type(), size, Optional.empty(), vmid(id),
                Optional.of(id.time().getEpochSecond()), Optional.empty(), store.notes(id), isProtected);
    }

    @Override
    public VolumeInfo info(StorageConfig config, Volume volume) {
        SnapshotId id = snapshot(volume.volname());
        try (Datastore store = open(config)) {
            return info(store, id, store.isProtected(id));
        } catch (NotFound e) {
            throw new NotFound("volume '" + config.id() + ":" + volume.volname() + "' does not exist");
        } catch (IOException e) {
            throw new StorageException("storage '" + config.id() + "' - " + e.getMessage(), e);
        }
    }

    @Override
    public VolumeLocation path(StorageConfig config, Volume volume, Optional<String> snapshot) {
        // the snapshot's directory: its manifest, indexes and blobs (its chunks are shared, below .chunks)
        return VolumeLocation.directory(snapshot(volume.volname()).dir(root(config)));
    }

    @Override
    public boolean isProtected(StorageConfig config, Volume volume) {
        try (Datastore store = open(config)) {
            return store.isProtected(snapshot(volume.volname()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void setAttribute(StorageConfig config, Volume volume, String attribute, String value) {
        SnapshotId id = snapshot(volume.volname());
        try (Datastore store = open(config)) {
            switch (attribute) {
                case "notes" -> store.setNotes(id, value);
                case "protected" -> store.setProtected(id, value.equals("1"));
                default -> throw unsupported("the volume attribute '" + attribute + "'");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
