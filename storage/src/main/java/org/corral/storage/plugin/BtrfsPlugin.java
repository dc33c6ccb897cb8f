package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.fixed;
import static org.corral.storage.OptionSpec.optional;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.storage.Availability;
import org.corral.storage.Capabilities;
import org.corral.storage.ContentType;
import org.corral.storage.DiskName;
import org.corral.storage.Feature;
import org.corral.storage.Host;
import org.corral.storage.OptionSpec;
import org.corral.storage.SafePaths;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageException;
import org.corral.storage.Volume;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;
import org.corral.storage.VolumeNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code btrfs}: every volume is a subvolume, laid out as Proxmox's btrfs plugin does: a VM disk
 * {@code VMID/vm-VMID-disk-N.raw} is the file {@code images/VMID/vm-VMID-disk-N/disk.raw}, a
 * container volume {@code VMID/subvol-VMID-disk-N.subvol} is the subvolume directory itself, and
 * snapshot {@code S} of either is the read-only sibling subvolume {@code ...@S}. Snapshots and
 * clones are instant and share data; a container volume's size is a qgroup limit; export and
 * import use send/receive streams.
 */
public final class BtrfsPlugin extends FilePluginBase {
    private static final Logger log = LoggerFactory.getLogger(BtrfsPlugin.class);
    private static final String DISK_FILE = "disk.raw";
    private static final String EXPORT_SNAPSHOT = "__export__";
    private static final String ROLLBACK_ASIDE = "__rollback__";
    private static final Set<Feature> ALL = Set.of(Feature.SNAPSHOT, Feature.CLONE, Feature.TEMPLATE, Feature.RESIZE);
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.values()),
            Set.of(ContentType.IMAGES, ContentType.ROOTDIR),
            Set.of(VolumeFormat.RAW, VolumeFormat.SUBVOL),
            Optional.of(VolumeFormat.RAW),
            Map.of(VolumeFormat.RAW, ALL, VolumeFormat.SUBVOL, ALL),
            Set.of("btrfs", "raw+size"),
            false,
            true);

    public BtrfsPlugin(Host host) {
        super(host);
    }

    @Override
    public String type() {
        return "btrfs";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return DirPlugin.concat(List.of(fixed("path"), optional("is_mountpoint")), DirPlugin.COMMON_FILE_OPTIONS);
    }

    @Override
    public Availability availability(StorageConfig config) {
        if (!host.hasTool("btrfs")) {
            return Availability.inactive("btrfs-progs is not installed (no 'btrfs' tool)");
        }
        Availability directory = directoryAvailability(config);
        if (!directory.active()) {
            return directory;
        }
        Path existing = root(config);
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        try {
            FileStore store = Files.getFileStore(existing);
            if (!store.type().equals("btrfs")) {
                return Availability.inactive("path '" + root(config) + "' is not on a btrfs file system (it is on " + store.type() + ")");
            }
        } catch (IOException | NullPointerException e) {
            return Availability.inactive("unable to check the file system of '" + root(config) + "': " + e.getMessage());
        }
        return Availability.ok();
    }

    // ---- layout

    @Override
    protected String entryName(String volumeName) {
        return volumeName.endsWith(".raw") ? volumeName.substring(0, volumeName.length() - ".raw".length()) : volumeName;
    }

    @Override
    protected Path imageFile(StorageConfig config, Volume volume) {
        Path entry = entry(config, volume);
        return volume.requireFormat() == VolumeFormat.RAW ? entry.resolve(DISK_FILE) : entry;
    }

    private Path snapshotEntry(StorageConfig config, Volume volume, String snapshot) {
        Path entry = entry(config, volume);
        return entry.resolveSibling(entry.getFileName() + "@" + snapshot);
    }

    @Override
    public VolumeLocation path(StorageConfig config, Volume volume, Optional<String> snapshot) {
        snapshot.ifPresent(VolumeNames::checkSnapshotName);
        if (!volume.isImage()) {
            return super.path(config, volume, snapshot);
        }
        Path entry = snapshot.map(s -> snapshotEntry(config, volume, s)).orElseGet(() -> entry(config, volume));
        return volume.requireFormat() == VolumeFormat.RAW ? VolumeLocation.file(entry.resolve(DISK_FILE)) : VolumeLocation.directory(entry);
    }

    // ---- allocation and removal

    @Override
    public long spaceNeeded(StorageConfig config, VolumeFormat format, long sizeBytes) {
        // a qgroup limit reserves nothing
        return format == VolumeFormat.RAW && QemuImg.thick(format, config.option("preallocation")) ? sizeBytes : 0;
    }

    @Override
    protected void createImage(StorageConfig config, Volume volume, VolumeFormat format, long sizeBytes) {
        if (format == VolumeFormat.RAW && sizeBytes <= 0) {
            throw new IllegalArgumentException("image size must be larger than 0");
        }
        Path entry = entry(config, volume);
        Btrfs.createSubvolume(entry);
        try {
            if (format == VolumeFormat.RAW) {
                QemuImg.create(entry.resolve(DISK_FILE), format, sizeBytes, config.option("preallocation"));
            } else if (sizeBytes > 0) {
                Btrfs.enableQuota(root(config));
                Btrfs.limit(entry, Optional.of(sizeBytes));
            }
        } catch (RuntimeException e) {
            deleteSubvolumeQuietly(entry);
            throw e;
        }
    }

    @Override
    protected void deleteImage(StorageConfig config, Volume volume) {
        Path entry = entry(config, volume);
        for (Path snapshot : snapshotEntries(entry)) {
            Btrfs.deleteSubvolume(snapshot);
        }
        if (Btrfs.isSubvolume(entry)) {
            Btrfs.deleteSubvolume(entry);
        } else {
            deleteTree(entry);
        }
    }

    private static List<Path> snapshotEntries(Path entry) {
        List<Path> out = new ArrayList<>();
        String prefix = entry.getFileName() + "@";
        try (DirectoryStream<Path> siblings = Files.newDirectoryStream(entry.getParent(), p -> p.getFileName().toString().startsWith(prefix))) {
            siblings.forEach(out::add);
        } catch (IOException e) {
            // no directory, no snapshots
        }
        return out;
    }

    private static void deleteSubvolumeQuietly(Path entry) {
        try {
            if (Btrfs.isSubvolume(entry)) {
                Btrfs.deleteSubvolume(entry);
            }
        } catch (RuntimeException e) {
            log.warn("Could not remove subvolume {} after a failure: {}", entry, e.getMessage());
        }
    }

    @Override
    protected void createImportTarget(StorageConfig config, Volume volume) {
        Btrfs.createSubvolume(entry(config, volume));
    }

    // ---- listing

    @Override
    protected List<VolumeInfo> listImages(StorageConfig config, Optional<Integer> vmid) {
        Path images = root(config).resolve("images");
        SafePaths.checkNoLinks(root(config), images);
        String prefix = vmid.map(id -> id + "/").orElse("");
        Path start = vmid.map(id -> images.resolve(Integer.toString(id))).orElse(images);
        int depth = vmid.isPresent() ? 1 : 2;
        List<Entry> entries = findEntries(start, depth);
        Set<String> names = new HashSet<>();
        entries.forEach(e -> names.add(prefix + e.relative()));
        List<Entry> disks = findEntries(start, depth + 1, Optional.of(DISK_FILE));
        Map<String, Entry> diskByEntry = new HashMap<>();
        disks.forEach(d -> diskByEntry.put(prefix + d.relative().substring(0, d.relative().length() - DISK_FILE.length() - 1), d));
        List<VolumeInfo> out = new ArrayList<>();
        for (Entry entry : entries) {
            String relative = prefix + entry.relative();
            if (entry.type() != 'd' || relative.contains("@")) {
                continue;
            }
            Entry disk = diskByEntry.get(relative);
            String volname = disk != null ? relative + ".raw" : relative;
            Volume volume;
            try {
                volume = VolumeNames.parseFileVolume(volname);
            } catch (IllegalArgumentException e) {
                continue;
            }
            boolean raw = volume.requireFormat() == VolumeFormat.RAW;
            if (raw != (disk != null)) {
                continue;
            }
            long size;
            Optional<Long> used;
            if (raw) {
                size = disk.size();
                used = Optional.of(disk.blocks() * 512);
            } else {
                Optional<Btrfs.Qgroup> qgroup = Btrfs.qgroup(images.resolve(relative));
                size = qgroup.flatMap(Btrfs.Qgroup::limit).orElse(0L);
                used = qgroup.map(Btrfs.Qgroup::referenced);
            }
            String name = volume.name();
            Path notesFile = images.resolve(relative).resolveSibling(name + "." + NOTES);
            out.add(new VolumeInfo(volname, raw ? ContentType.IMAGES : ContentType.ROOTDIR, volume.requireFormat().proxmoxName(), size,
                    used, volume.vmid(), Optional.of(entry.ctime()), Optional.empty(),
                    names.contains(volume.vmid().orElseThrow() + "/" + name + "." + NOTES) ? readNotes(notesFile) : Optional.empty(),
                    names.contains(volume.vmid().orElseThrow() + "/" + name + "." + PROTECTED)));
        }
        return out;
    }

    private static Optional<String> readNotes(Path file) {
        try {
            return Optional.of(Files.readString(file));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    protected VolumeInfo imageInfo(StorageConfig config, Volume volume, Entry stat, Optional<String> notes, boolean isProtected) {
        if (volume.requireFormat() == VolumeFormat.RAW) {
            Entry disk = findEntries(imageFile(config, volume), 0).stream().findFirst()
                    .orElseThrow(() -> new NotFound("volume '" + volume.volname() + "' has no " + DISK_FILE));
            return new VolumeInfo(volume.volname(), ContentType.IMAGES, "raw", disk.size(), Optional.of(disk.blocks() * 512),
                    volume.vmid(), Optional.of(stat.ctime()), Optional.empty(), notes, isProtected);
        }
        Optional<Btrfs.Qgroup> qgroup = Btrfs.qgroup(entry(config, volume));
        return new VolumeInfo(volume.volname(), ContentType.ROOTDIR, "subvol", qgroup.flatMap(Btrfs.Qgroup::limit).orElse(0L),
                qgroup.map(Btrfs.Qgroup::referenced), volume.vmid(), Optional.of(stat.ctime()), Optional.empty(), notes, isProtected);
    }

    // ---- resize, snapshots, templates, clones

    @Override
    public void resize(StorageConfig config, Volume volume, long sizeBytes) {
        if (volume.requireFormat() == VolumeFormat.RAW) {
            super.resize(config, volume, sizeBytes);
            return;
        }
        Path entry = entry(config, volume);
        long current = Btrfs.qgroup(entry).flatMap(Btrfs.Qgroup::limit).orElse(0L);
        if (current > 0) {
            checkGrow(volume, current, sizeBytes);
        }
        Btrfs.enableQuota(root(config));
        Btrfs.limit(entry, Optional.of(sizeBytes));
    }

    @Override
    public void snapshot(StorageConfig config, Volume volume, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        Path target = snapshotEntry(config, volume, snapshot);
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new Conflict("snapshot '" + snapshot + "' of '" + volume.volname() + "' already exists");
        }
        Btrfs.snapshot(requireEntry(config, volume), target, true);
    }

    @Override
    public void rollback(StorageConfig config, Volume volume, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        Path source = requireSnapshot(config, volume, snapshot);
        Path entry = requireEntry(config, volume);
        Path aside = entry.resolveSibling(entry.getFileName() + "@" + ROLLBACK_ASIDE);
        Optional<Long> limit = Btrfs.qgroup(entry).flatMap(Btrfs.Qgroup::limit);
        move(entry, aside);
        try {
            Btrfs.snapshot(source, entry, false);
        } catch (RuntimeException e) {
            // put the old subvolume back so a failed rollback changes nothing
            move(aside, entry);
            throw e;
        }
        if (limit.isPresent()) {
            Btrfs.limit(entry, limit);
        }
        Btrfs.deleteSubvolume(aside);
    }

    @Override
    public void deleteSnapshot(StorageConfig config, Volume volume, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        Btrfs.deleteSubvolume(requireSnapshot(config, volume, snapshot));
    }

    @Override
    protected void renameImage(StorageConfig config, Volume from, Volume to) {
        Path source = entry(config, from);
        Path target = entry(config, to);
        for (Path snapshot : snapshotEntries(source)) {
            String suffix = snapshot.getFileName().toString().substring(source.getFileName().toString().length());
            move(snapshot, target.resolveSibling(target.getFileName() + suffix));
        }
        move(source, target);
    }

    @Override
    public String createBase(StorageConfig config, Volume volume) {
        String volname = super.createBase(config, volume);
        Btrfs.setReadOnly(entry(config, parseVolume(volname)), true);
        return volname;
    }

    @Override
    public String clone(StorageConfig config, Volume base, int vmid, Optional<String> snapshot) {
        VolumeFormat format = base.requireFormat();
        if (snapshot.isEmpty() && !base.isBase()) {
            throw new IllegalArgumentException("clone_image only works on base images or snapshots");
        }
        Path source = snapshot.isPresent() ? requireSnapshot(config, base, snapshot.get()) : requireEntry(config, base);
        Path dir = SafePaths.resolve(root(config), "images/" + vmid);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StorageException("unable to create directory '" + dir + "' - " + e.getMessage(), e);
        }
        String name = DiskName.disk(vmid, nextFreeDisk(config, vmid), format == VolumeFormat.SUBVOL) + format.extension();
        String volname = vmid + "/" + name;
        Volume clone = parseVolume(volname);
        Path target = entry(config, clone);
        Btrfs.snapshot(source, target, false);
        try {
            if (format == VolumeFormat.RAW) {
                // the base image file was made read-only; the clone's own file is written to
                Files.setPosixFilePermissions(target.resolve(DISK_FILE), PosixFilePermissions.fromString("rw-------"));
            } else {
                Optional<Long> limit = Btrfs.qgroup(entry(config, base)).flatMap(Btrfs.Qgroup::limit);
                if (limit.isPresent()) {
                    Btrfs.limit(target, limit);
                }
            }
        } catch (IOException | RuntimeException e) {
            deleteSubvolumeQuietly(target);
            throw new StorageException("clone of '" + base.volname() + "' failed - " + e.getMessage(), e);
        }
        return volname;
    }

    private Path requireEntry(StorageConfig config, Volume volume) {
        Path entry = entry(config, volume);
        if (!Btrfs.isSubvolume(entry)) {
            throw new NotFound("volume '" + volume.volname() + "' does not exist");
        }
        return entry;
    }

    private Path requireSnapshot(StorageConfig config, Volume volume, String snapshot) {
        Path path = snapshotEntry(config, volume, snapshot);
        if (!Btrfs.isSubvolume(path)) {
            throw new NotFound("snapshot '" + snapshot + "' of '" + volume.volname() + "' does not exist");
        }
        return path;
    }

    private static void move(Path from, Path to) {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new StorageException("unable to rename '" + from + "' to '" + to + "' - " + e.getMessage(), e);
        }
    }

    // ---- send/receive

    @Override
    public void exportVolume(StorageConfig config, Volume volume, String format, Optional<String> snapshot,
            Optional<String> baseSnapshot, OutputStream out) {
        if (!format.equals("btrfs")) {
            super.exportVolume(config, volume, format, snapshot, baseSnapshot, out);
            return;
        }
        Optional<Path> parent = baseSnapshot.map(s -> requireSnapshot(config, volume, s));
        if (snapshot.isPresent()) {
            Btrfs.send(requireSnapshot(config, volume, snapshot.get()), parent, out);
            return;
        }
        // send needs a read-only subvolume: a short-lived snapshot of the current state
        Path temporary = snapshotEntry(config, volume, EXPORT_SNAPSHOT);
        Btrfs.snapshot(requireEntry(config, volume), temporary, true);
        try {
            Btrfs.send(temporary, parent, out);
        } finally {
            Btrfs.deleteSubvolume(temporary);
        }
    }

    @Override
    public String importVolume(StorageConfig config, String volname, String format, InputStream in) {
        if (!format.equals("btrfs")) {
            return super.importVolume(config, volname, format, in);
        }
        Volume volume = parseVolume(volname);
        Path entry = entry(config, volume);
        if (Files.exists(entry, LinkOption.NOFOLLOW_LINKS)) {
            throw new Conflict("volume '" + volname + "' already exists");
        }
        Path staging = entry.resolveSibling(".import-" + UUID.randomUUID());
        try {
            Files.createDirectories(staging);
            Btrfs.receive(staging, in);
            List<Path> received = new ArrayList<>();
            try (DirectoryStream<Path> children = Files.newDirectoryStream(staging)) {
                children.forEach(received::add);
            }
            if (received.size() != 1 || !Btrfs.isSubvolume(received.get(0))) {
                throw new StorageException("the btrfs stream did not contain exactly one subvolume");
            }
            // received subvolumes are read-only; the volume is a writable snapshot of it
            Btrfs.snapshot(received.get(0), entry, false);
            Btrfs.deleteSubvolume(received.get(0));
        } catch (IOException e) {
            throw new StorageException("import of '" + volname + "' failed - " + e.getMessage(), e);
        } finally {
            cleanStaging(staging);
        }
        return volname;
    }

    private static void cleanStaging(Path staging) {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(staging)) {
            for (Path child : children) {
                deleteSubvolumeQuietly(child);
            }
        } catch (IOException e) {
            // nothing was created
        }
        deleteIfEmpty(staging);
    }
}
