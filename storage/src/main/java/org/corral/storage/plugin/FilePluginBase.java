package org.corral.storage.plugin;

import static java.util.Objects.requireNonNull;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.io.FileTrees;
import org.corral.core.process.ProcessRunner;
import org.corral.storage.Availability;
import org.corral.storage.ContentType;
import org.corral.storage.DiskName;
import org.corral.storage.Feature;
import org.corral.storage.Host;
import org.corral.storage.SafePaths;
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
 * What every storage with a directory tree shares (dir, btrfs, nfs, cifs, cephfs), as pve-storage's
 * base plugin: Proxmox's layout below {@code path} ({@code images/VMID/}, {@code template/iso/},
 * {@code template/cache/}, {@code dump/}, {@code snippets/}, {@code import/}), images through
 * qemu-img, notes and protection as {@code NAME.notes} / {@code NAME.protected} files beside a volume.
 * Every path is resolved with {@link SafePaths}, so no link below the root is followed.
 */
public abstract class FilePluginBase implements StoragePlugin {
    public static final String NOTES = "notes";
    public static final String PROTECTED = "protected";
    private static final Pattern LINKED_BACKING = Pattern.compile("\\.\\./([1-9][0-9]{2,8})/(base-[1-9][0-9]{2,8}-[^/]+)");
    private static final Pattern DISK_SUFFIX = Pattern.compile("(.+?)(\\.(?:raw|qcow2|vmdk|subvol))?");
    private static final int MAX_DISKS = 100_000;
    private static final int MAX_NOTES = 64 * 1024;

    protected final Host host;

    protected FilePluginBase(Host host) {
        this.host = requireNonNull(host, "host is null");
    }

    // ---- configuration

    protected Path root(StorageConfig config) {
        String path = config.option("path").orElseThrow(() -> new StorageException("storage '" + config.id() + "' has no path"));
        return Path.of(path).toAbsolutePath().normalize();
    }

    protected boolean createBasePath(StorageConfig config) {
        return config.flag("create-base-path", config.flag("mkdir", true));
    }

    protected boolean createSubdirs(StorageConfig config) {
        return config.flag("create-subdirs", config.flag("mkdir", true));
    }

    /** The mount point that {@code is_mountpoint} asks for: {@code yes} means the path itself. */
    protected Optional<Path> requiredMountPoint(StorageConfig config) {
        return config.option("is_mountpoint").flatMap(value -> switch (value.toLowerCase(Locale.ROOT)) {
            case "", "0", "no", "off", "false" -> Optional.empty();
            case "1", "yes", "on", "true" -> Optional.of(root(config));
            default -> Optional.of(Path.of(value));
        });
    }

    @Override
    public void checkOptions(Map<String, String> options, Map<String, String> errors) {
        for (String name : List.of("path", "is_mountpoint", "export", "mountpoint")) {
            String value = options.get(name);
            if (value != null && value.startsWith("/") && (value.contains("//") || (value + "/").contains("/./")
                    || (value + "/").contains("/../"))) {
                errors.put(name, "path '" + VolumeNames.printable(value) + "' must be normalised (no '.', '..' or '//')");
            }
        }
    }

    // ---- availability and activation

    @Override
    public Availability availability(StorageConfig config) {
        return directoryAvailability(config);
    }

    protected final Availability directoryAvailability(StorageConfig config) {
        Path root = root(config);
        Optional<Path> mountPoint = requiredMountPoint(config);
        if (mountPoint.isPresent() && !isMounted(mountPoint.get())) {
            return Availability.inactive("directory is expected to be a mount point but is not mounted: '" + mountPoint.get() + "'");
        }
        if (Files.isDirectory(root)) {
            return Availability.ok();
        }
        if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return Availability.inactive("'" + root + "' is not a directory");
        }
        if (!createBasePath(config) || mountPoint.isPresent()) {
            return Availability.inactive("directory '" + root + "' does not exist");
        }
        return Availability.ok();
    }

    /** Whether {@code path} is a mount point now, from the host's mount table. */
    protected boolean isMounted(Path path) {
        String wanted = path.toAbsolutePath().normalize().toString();
        return host.read("/proc/self/mounts").or(() -> host.read("/proc/mounts")).orElse("").lines()
                .map(line -> line.split(" "))
                .filter(fields -> fields.length > 1)
                .anyMatch(fields -> unescapeMount(fields[1]).equals(wanted));
    }

    private static String unescapeMount(String field) {
        Matcher m = Pattern.compile("\\\\([0-7]{3})").matcher(field);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(String.valueOf((char) Integer.parseInt(m.group(1), 8))));
        }
        m.appendTail(out);
        return out.toString();
    }

    @Override
    public void activate(StorageConfig config) {
        Path root = root(config);
        try {
            if (!Files.isDirectory(root)) {
                if (!createBasePath(config)) {
                    throw new StorageException("unable to activate storage '" + config.id() + "' - directory '" + root + "' does not exist");
                }
                Files.createDirectories(root);
            }
        } catch (IOException e) {
            throw new StorageException("unable to activate storage '" + config.id() + "' - " + e.getMessage(), e);
        }
        activateDirectories(config);
    }

    /** Creates the content type directories below the root, when {@code create-subdirs} allows it. */
    protected void activateDirectories(StorageConfig config) {
        Path root = root(config);
        try {
            if (createSubdirs(config)) {
                for (ContentType content : config.content(capabilities())) {
                    Path dir = root.resolve(VolumeNames.subdir(content));
                    SafePaths.checkNoLinks(root, dir);
                    Files.createDirectories(dir);
                }
            }
        } catch (IOException e) {
            throw new StorageException("unable to activate storage '" + config.id() + "' - " + e.getMessage(), e);
        }
    }

    @Override
    public StorageStatus status(StorageConfig config) {
        try {
            FileStore store = Files.getFileStore(root(config));
            long total = store.getTotalSpace();
            long free = store.getUnallocatedSpace();
            long avail = store.getUsableSpace();
            return new StorageStatus(total, Math.max(0, total - free), Math.max(0, avail));
        } catch (IOException e) {
            throw new StorageException("unable to read the status of storage '" + config.id() + "' - " + e.getMessage(), e);
        }
    }

    // ---- names and paths

    @Override
    public Volume parseVolume(String volname) {
        return VolumeNames.parseFileVolume(volname);
    }

    @Override
    public Optional<Path> contentDirectory(StorageConfig config, ContentType content) {
        return Optional.of(root(config).resolve(VolumeNames.subdir(content)));
    }

    /** The directory entry of a volume: an image file, a subvolume or directory, or an ISO, template, backup ... file. */
    protected Path entry(StorageConfig config, Volume volume) {
        if (volume.isImage()) {
            int vmid = volume.vmid().orElseThrow();
            return SafePaths.resolve(root(config), "images/" + vmid + "/" + entryName(volume.name()));
        }
        return SafePaths.resolve(root(config), VolumeNames.subdir(volume.content()) + "/" + volume.name());
    }

    /** The name of an image's directory entry for its volume name; btrfs drops the {@code .raw}. */
    protected String entryName(String volumeName) {
        return volumeName;
    }

    /** The file QEMU opens for an image; the entry itself here, a file inside it on btrfs. */
    protected Path imageFile(StorageConfig config, Volume volume) {
        return entry(config, volume);
    }

    protected Path sidecar(StorageConfig config, Volume volume, String attribute) {
        return entry(config, volume).resolveSibling(volume.name() + "." + attribute);
    }

    @Override
    public VolumeLocation path(StorageConfig config, Volume volume, Optional<String> snapshot) {
        snapshot.ifPresent(VolumeNames::checkSnapshotName);
        if (volume.format().filter(VolumeFormat::isDirectory).isPresent()) {
            return VolumeLocation.directory(entry(config, volume));
        }
        // qcow2 snapshots are internal: QEMU opens the same file
        return VolumeLocation.file(volume.isImage() ? imageFile(config, volume) : entry(config, volume));
    }

    // ---- allocation

    @Override
    public long spaceNeeded(StorageConfig config, VolumeFormat format, long sizeBytes) {
        return QemuImg.thick(format, config.option("preallocation")) ? sizeBytes : 0;
    }

    @Override
    public String alloc(StorageConfig config, int vmid, VolumeFormat format, Optional<String> name, long sizeBytes) {
        if (!allows(format)) {
            throw new StorageException("unsupported format '" + format + "' on storage type '" + type() + "'");
        }
        Path dir = SafePaths.resolve(root(config), "images/" + vmid);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StorageException("unable to create directory '" + dir + "' - " + e.getMessage(), e);
        }
        String fileName = volumeName(config, vmid, format, name);
        String volname = vmid + "/" + fileName;
        Volume volume = parseVolume(volname);
        Path entry = entry(config, volume);
        if (Files.exists(entry, LinkOption.NOFOLLOW_LINKS)) {
            throw new Conflict("disk image '" + entry + "' already exists");
        }
        createImage(config, volume, format, sizeBytes);
        return volname;
    }

    /** The volume's file name: {@code name} with its format suffix checked or added, or the next free disk. */
    protected String volumeName(StorageConfig config, int vmid, VolumeFormat format, Optional<String> name) {
        if (name.isEmpty()) {
            int number = nextFreeDisk(config, vmid);
            return DiskName.disk(vmid, number, format == VolumeFormat.SUBVOL) + format.extension();
        }
        String given = name.get();
        VolumeNames.checkSafe(given);
        Matcher m = DISK_SUFFIX.matcher(given);
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid volume name '" + VolumeNames.printable(given) + "'");
        }
        if (m.group(2) != null && !m.group(2).equals(format.extension())) {
            throw new IllegalArgumentException("different storage formats (" + format + " != " + m.group(2).substring(1) + ")");
        }
        DiskName disk = DiskName.parse(m.group(1)).orElseThrow(() -> new IllegalArgumentException(
                "illegal name '" + VolumeNames.printable(given) + "' - should be 'vm-" + vmid + "-*'"));
        if (disk.vmid() != vmid) {
            throw new IllegalArgumentException("illegal name '" + given + "' - should be 'vm-" + vmid + "-*'");
        }
        return m.group(1) + format.extension();
    }

    /** The lowest disk number no volume of {@code vmid} uses here, whatever its prefix. */
    protected int nextFreeDisk(StorageConfig config, int vmid) {
        BitSet used = new BitSet();
        Path dir = SafePaths.resolve(root(config), "images/" + vmid);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                int at = name.indexOf('@');
                Matcher m = DISK_SUFFIX.matcher(at >= 0 ? name.substring(0, at) : name);
                if (m.matches()) {
                    DiskName.parse(m.group(1)).filter(d -> d.vmid() == vmid).flatMap(d -> {
                        var n = d.diskNumber();
                        return n.isPresent() ? Optional.of(n.getAsInt()) : Optional.empty();
                    }).ifPresent(used::set);
                }
            }
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int free = used.nextClearBit(0);
        if (free >= MAX_DISKS) {
            throw new StorageException("unable to allocate an image name for VM " + vmid + " in storage '" + config.id() + "'");
        }
        return free;
    }

    /** Creates the image or directory of a new volume. */
    protected void createImage(StorageConfig config, Volume volume, VolumeFormat format, long sizeBytes) {
        Path entry = entry(config, volume);
        if (format == VolumeFormat.SUBVOL) {
            try {
                Files.createDirectory(entry);
            } catch (IOException e) {
                throw new StorageException("unable to create directory '" + entry + "' - " + e.getMessage(), e);
            }
            return;
        }
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("image size must be larger than 0");
        }
        try {
            QemuImg.create(entry, format, sizeBytes, config.option("preallocation"));
        } catch (RuntimeException e) {
            deleteQuietly(entry);
            throw e;
        }
    }

    // ---- removal

    @Override
    public void free(StorageConfig config, Volume volume) {
        if (volume.isImage()) {
            if (volume.isBase()) {
                List<String> clones = linkedClones(config, volume);
                if (!clones.isEmpty()) {
                    throw new Conflict("base volume '" + volume.volname() + "' is still in use by linked clone(s) " + String.join(", ", clones));
                }
            }
            Path entry = entry(config, volume);
            if (!Files.exists(entry, LinkOption.NOFOLLOW_LINKS)) {
                throw new NotFound("volume '" + volume.volname() + "' does not exist");
            }
            deleteImage(config, volume);
            deleteSidecars(config, volume);
            deleteIfEmpty(entry.getParent());
            return;
        }
        Path entry = entry(config, volume);
        try {
            if (!Files.deleteIfExists(entry)) {
                throw new NotFound("volume '" + volume.volname() + "' does not exist");
            }
        } catch (IOException e) {
            throw new StorageException("unable to delete '" + entry + "' - " + e.getMessage(), e);
        }
        deleteSidecars(config, volume);
    }

    protected void deleteImage(StorageConfig config, Volume volume) {
        deleteTree(entry(config, volume));
    }

    protected void deleteSidecars(StorageConfig config, Volume volume) {
        for (String attribute : List.of(NOTES, PROTECTED)) {
            deleteQuietly(sidecar(config, volume, attribute));
        }
        // vzdump's log sits beside its archive as BASENAME.log, as Proxmox removes it with the archive
        VolumeNames.backupLogName(volume.content(), volume.name())
                .ifPresent(log -> deleteQuietly(entry(config, volume).resolveSibling(log)));
    }

    /** Linked clones ({@code qcow2} files) whose backing file is this base volume. */
    protected List<String> linkedClones(StorageConfig config, Volume base) {
        String backing = "../" + base.vmid().orElseThrow() + "/" + base.name();
        List<String> clones = new ArrayList<>();
        for (Entry entry : findEntries(root(config).resolve("images"), 2)) {
            if (entry.type() == 'f' && entry.relative().endsWith(".qcow2")) {
                Path file = root(config).resolve("images").resolve(entry.relative());
                try {
                    if (QemuImg.header(file, VolumeFormat.QCOW2).backingFile().filter(backing::equals).isPresent()) {
                        clones.add(entry.relative());
                    }
                } catch (RuntimeException e) {
                    // not a readable qcow2 file, so nobody's clone
                }
            }
        }
        return clones;
    }

    // ---- listing

    /** One directory entry as {@code find -printf} reports it: path below the start, sizes, change time, type. */
    protected record Entry(String relative, long size, long blocks, long ctime, char type) {}

    /** Entries exactly {@code depth} levels below {@code dir}, with allocated blocks (which Java cannot read). */
    protected static List<Entry> findEntries(Path dir, int depth) {
        return findEntries(dir, depth, Optional.empty());
    }

    /** As above, only entries called {@code name}. */
    protected static List<Entry> findEntries(Path dir, int depth, Optional<String> name) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS) || depth > 0 && !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        List<String> command = new ArrayList<>(List.of("find", dir.toString(), "-mindepth", Integer.toString(depth), "-maxdepth",
                Integer.toString(depth)));
        name.ifPresent(n -> command.addAll(List.of("-name", n)));
        command.addAll(List.of("-printf", "%P\\0%s\\0%b\\0%C@\\0%y\\0"));
        String out = ProcessRunner.of(command).output();
        String[] fields = out.split("\0", -1);
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i + 4 < fields.length; i += 5) {
            double ctime = Double.parseDouble(fields[i + 3]);
            entries.add(new Entry(fields[i], Long.parseLong(fields[i + 1]), Long.parseLong(fields[i + 2]), (long) ctime,
                    fields[i + 4].isEmpty() ? '?' : fields[i + 4].charAt(0)));
        }
        return entries;
    }

    @Override
    public List<VolumeInfo> list(StorageConfig config, Optional<Integer> vmid, Set<ContentType> content) {
        List<VolumeInfo> out = new ArrayList<>();
        if (content.contains(ContentType.IMAGES) || content.contains(ContentType.ROOTDIR)) {
            for (VolumeInfo info : listImages(config, vmid)) {
                if (content.contains(info.content())) {
                    out.add(info);
                }
            }
        }
        for (ContentType type : EnumSet.of(ContentType.ISO, ContentType.VZTMPL, ContentType.BACKUP, ContentType.SNIPPETS,
                ContentType.IMPORT)) {
            // as Proxmox: asking for one guest's volumes lists its backups, not the shared files
            if (content.contains(type) && (vmid.isEmpty() || type == ContentType.BACKUP)) {
                listFiles(config, type, vmid, out);
            }
        }
        return out;
    }

    /** Guest volumes below {@code images/}; those in subvol format count as container content. */
    protected List<VolumeInfo> listImages(StorageConfig config, Optional<Integer> vmid) {
        Path images = root(config).resolve("images");
        SafePaths.checkNoLinks(root(config), images);
        List<Entry> entries = vmid.isPresent()
                ? findEntries(images.resolve(Integer.toString(vmid.get())), 1).stream()
                        .map(e -> new Entry(vmid.get() + "/" + e.relative(), e.size(), e.blocks(), e.ctime(), e.type())).toList()
                : findEntries(images, 2);
        Set<String> names = new HashSet<>();
        entries.forEach(e -> names.add(e.relative()));
        List<VolumeInfo> out = new ArrayList<>();
        for (Entry entry : entries) {
            Volume volume;
            try {
                volume = VolumeNames.parseFileVolume(entry.relative());
            } catch (IllegalArgumentException e) {
                continue;
            }
            VolumeFormat format = volume.format().orElseThrow();
            if (format.isDirectory() ? entry.type() != 'd' : entry.type() != 'f') {
                continue;
            }
            long size = 0;
            Optional<String> parent = Optional.empty();
            String volname = volume.volname();
            Path file = images.resolve(entry.relative());
            try {
                switch (format) {
                    case QCOW2 -> {
                        QemuImg.Header header = QemuImg.header(file, format);
                        size = header.virtualSize();
                        Optional<Matcher> linked = header.backingFile().map(LINKED_BACKING::matcher).filter(Matcher::matches);
                        if (linked.isPresent()) {
                            parent = Optional.of(linked.get().group(2));
                            volname = linked.get().group(1) + "/" + linked.get().group(2) + "/" + volname;
                        }
                    }
                    case RAW -> size = entry.size();
                    case VMDK -> size = QemuImg.info(file, format).virtualSize();
                    case SUBVOL -> size = 0;
                }
            } catch (RuntimeException e) {
                // a file that is not a readable image of its format is not listed
                continue;
            }
            out.add(new VolumeInfo(volname, format == VolumeFormat.SUBVOL ? ContentType.ROOTDIR : ContentType.IMAGES,
                    format.proxmoxName(), size, format.isDirectory() ? Optional.empty() : Optional.of(entry.blocks() * 512),
                    volume.vmid(), Optional.of(entry.ctime()), parent, notes(file.resolveSibling(volume.name() + "." + NOTES),
                    names.contains(entry.relative() + "." + NOTES)), names.contains(entry.relative() + "." + PROTECTED)));
        }
        return out;
    }

    private void listFiles(StorageConfig config, ContentType type, Optional<Integer> vmid, List<VolumeInfo> out) {
        Path dir = root(config).resolve(VolumeNames.subdir(type));
        SafePaths.checkNoLinks(root(config), dir);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        String prefix = switch (type) {
            case ISO -> "iso/";
            case VZTMPL -> "vztmpl/";
            case BACKUP -> "backup/";
            case SNIPPETS -> "snippets/";
            case IMPORT -> "import/";
            case IMAGES, ROOTDIR -> throw new IllegalArgumentException("images are not plain files");
        };
        List<Path> files = new ArrayList<>();
        Set<String> names = new HashSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                files.add(entry);
                names.add(entry.getFileName().toString());
            }
        } catch (IOException e) {
            throw new StorageException("unable to list '" + dir + "' - " + e.getMessage(), e);
        }
        files.sort(null);
        for (Path file : files) {
            String name = file.getFileName().toString();
            Volume volume;
            try {
                volume = VolumeNames.parseFileVolume(prefix + name);
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (volume.content() != type || vmid.isPresent() && !vmid.equals(volume.vmid())) {
                continue;
            }
            BasicFileAttributes attributes;
            try {
                attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (IOException e) {
                continue;
            }
            // links are never listed: they could point anywhere
            if (!attributes.isRegularFile()) {
                continue;
            }
            out.add(new VolumeInfo(volume.volname(), type, VolumeNames.fileFormat(type, name), attributes.size(),
                    Optional.of(attributes.size()), volume.vmid(), Optional.of(attributes.lastModifiedTime().toMillis() / 1000),
                    Optional.empty(), notes(file.resolveSibling(name + "." + NOTES), names.contains(name + "." + NOTES)),
                    names.contains(name + "." + PROTECTED)));
        }
    }

    private static Optional<String> notes(Path file, boolean exists) {
        if (!exists) {
            return Optional.empty();
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(channel.size(), MAX_NOTES));
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                // small file
            }
            return Optional.of(new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public VolumeInfo info(StorageConfig config, Volume volume) {
        Path entry = entry(config, volume);
        if (!Files.exists(entry, LinkOption.NOFOLLOW_LINKS)) {
            throw new NotFound("volume '" + volume.volname() + "' does not exist");
        }
        Path notesFile = sidecar(config, volume, NOTES);
        Optional<String> notes = notes(notesFile, Files.exists(notesFile, LinkOption.NOFOLLOW_LINKS));
        boolean isProtected = Files.exists(sidecar(config, volume, PROTECTED), LinkOption.NOFOLLOW_LINKS);
        Entry stat = findEntries(entry, 0).stream().findFirst()
                .orElseThrow(() -> new NotFound("volume '" + volume.volname() + "' does not exist"));
        if (!volume.isImage()) {
            if (stat.type() != 'f') {
                throw new NotFound("volume '" + volume.volname() + "' is not a regular file");
            }
            return new VolumeInfo(volume.volname(), volume.content(), VolumeNames.fileFormat(volume.content(), volume.name()),
                    stat.size(), Optional.of(stat.size()), volume.vmid(), Optional.of(stat.ctime()), Optional.empty(), notes, isProtected);
        }
        return imageInfo(config, volume, stat, notes, isProtected);
    }

    protected VolumeInfo imageInfo(StorageConfig config, Volume volume, Entry stat, Optional<String> notes, boolean isProtected) {
        VolumeFormat format = volume.requireFormat();
        ContentType content = format.isDirectory() ? ContentType.ROOTDIR : ContentType.IMAGES;
        if (format.isDirectory()) {
            return new VolumeInfo(volume.volname(), content, format.proxmoxName(), 0, Optional.empty(), volume.vmid(),
                    Optional.of(stat.ctime()), Optional.empty(), notes, isProtected);
        }
        QemuImg.Header header = format == VolumeFormat.VMDK
                ? new QemuImg.Header(QemuImg.info(imageFile(config, volume), format).virtualSize(), Optional.empty())
                : QemuImg.header(imageFile(config, volume), format);
        return new VolumeInfo(volume.volname(), content, format.proxmoxName(), header.virtualSize(), Optional.of(stat.blocks() * 512),
                volume.vmid(), Optional.of(stat.ctime()), volume.baseName(), notes, isProtected);
    }

    // ---- attributes

    @Override
    public boolean isProtected(StorageConfig config, Volume volume) {
        return Files.exists(sidecar(config, volume, PROTECTED), LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void setAttribute(StorageConfig config, Volume volume, String attribute, String value) {
        Path entry = entry(config, volume);
        if (!Files.exists(entry, LinkOption.NOFOLLOW_LINKS)) {
            throw new NotFound("volume '" + volume.volname() + "' does not exist");
        }
        Path file = sidecar(config, volume, attribute);
        try {
            switch (attribute) {
                case NOTES -> {
                    if (value.isEmpty()) {
                        Files.deleteIfExists(file);
                    } else {
                        writeAtomically(file, value.getBytes(StandardCharsets.UTF_8));
                    }
                }
                case PROTECTED -> {
                    if (value.equals("1")) {
                        writeAtomically(file, new byte[0]);
                    } else {
                        Files.deleteIfExists(file);
                    }
                }
                default -> throw new IllegalArgumentException("unknown volume attribute '" + attribute + "'");
            }
        } catch (IOException e) {
            throw new StorageException("unable to update " + attribute + " of '" + volume.volname() + "' - " + e.getMessage(), e);
        }
    }

    private static void writeAtomically(Path file, byte[] content) throws IOException {
        Path temporary = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.write(temporary, content, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    // ---- image operations (qcow2 on file storages)

    @Override
    public void resize(StorageConfig config, Volume volume, long sizeBytes) {
        VolumeFormat format = volume.requireFormat();
        if (!supports(format, Feature.RESIZE)) {
            throw unsupported("resizing " + format + " volumes");
        }
        Path file = imageFile(config, volume);
        long current = format == VolumeFormat.VMDK ? QemuImg.info(file, format).virtualSize() : QemuImg.header(file, format).virtualSize();
        checkGrow(volume, current, sizeBytes);
        if (sizeBytes > current) {
            QemuImg.resize(file, format, sizeBytes);
        }
    }

    protected static void checkGrow(Volume volume, long current, long wanted) {
        if (wanted < current) {
            throw new IllegalArgumentException("shrinking disks is not supported (volume '" + volume.volname() + "' has "
                    + current + " bytes, asked for " + wanted + ")");
        }
    }

    protected boolean supports(VolumeFormat format, Feature feature) {
        return capabilities().supports(feature, format);
    }

    @Override
    public void snapshot(StorageConfig config, Volume volume, String snapshot) {
        qcow2Snapshot(config, volume, "-c", snapshot);
    }

    @Override
    public void rollback(StorageConfig config, Volume volume, String snapshot) {
        qcow2Snapshot(config, volume, "-a", snapshot);
    }

    @Override
    public void deleteSnapshot(StorageConfig config, Volume volume, String snapshot) {
        qcow2Snapshot(config, volume, "-d", snapshot);
    }

    private void qcow2Snapshot(StorageConfig config, Volume volume, String operation, String snapshot) {
        VolumeNames.checkSnapshotName(snapshot);
        VolumeFormat format = volume.requireFormat();
        if (!supports(format, Feature.SNAPSHOT)) {
            throw unsupported("snapshots of " + format + " volumes");
        }
        QemuImg.snapshot(operation, snapshot, imageFile(config, volume));
    }

    @Override
    public String createBase(StorageConfig config, Volume volume) {
        if (volume.isBase()) {
            throw new IllegalArgumentException("create_base not possible with base image");
        }
        VolumeFormat format = volume.requireFormat();
        if (!supports(format, Feature.TEMPLATE)) {
            throw unsupported("templates of " + format + " volumes");
        }
        Matcher m = DISK_SUFFIX.matcher(volume.name());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid volume name '" + volume.name() + "'");
        }
        DiskName disk = DiskName.parse(m.group(1)).orElseThrow();
        String newName = disk.withPrefix(disk.prefix().asBase()) + format.extension();
        int vmid = volume.vmid().orElseThrow();
        String newVolname = volume.baseName().map(b -> volume.baseVmid().orElseThrow() + "/" + b + "/").orElse("") + vmid + "/" + newName;
        Volume target = parseVolume(newVolname);
        Path from = entry(config, volume);
        Path to = entry(config, target);
        if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
            throw new Conflict("base volume '" + newVolname + "' already exists");
        }
        renameImage(config, volume, target);
        if (!format.isDirectory()) {
            try {
                // a base image is shared by its clones: nothing may write to it any more
                Files.setPosixFilePermissions(imageFile(config, target), PosixFilePermissions.fromString("r--------"));
            } catch (IOException | UnsupportedOperationException e) {
                throw new StorageException("unable to make '" + to + "' read-only - " + e.getMessage(), e);
            }
        }
        moveSidecars(config, volume, target);
        return newVolname;
    }

    protected void renameImage(StorageConfig config, Volume from, Volume to) {
        try {
            Files.move(entry(config, from), entry(config, to), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new StorageException("rename '" + from.volname() + "' to '" + to.volname() + "' failed - " + e.getMessage(), e);
        }
    }

    private void moveSidecars(StorageConfig config, Volume from, Volume to) {
        for (String attribute : List.of(NOTES, PROTECTED)) {
            Path source = sidecar(config, from, attribute);
            if (Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.move(source, sidecar(config, to, attribute));
                } catch (IOException e) {
                    throw new StorageException("unable to move " + attribute + " of '" + from.volname() + "' - " + e.getMessage(), e);
                }
            }
        }
    }

    @Override
    public String clone(StorageConfig config, Volume base, int vmid, Optional<String> snapshot) {
        if (snapshot.isPresent()) {
            throw unsupported("linked clones from snapshots");
        }
        if (!base.isBase()) {
            throw new IllegalArgumentException("clone_image only works on base images");
        }
        VolumeFormat format = base.requireFormat();
        if (!supports(format, Feature.CLONE)) {
            throw unsupported("linked clones of " + format + " volumes");
        }
        Path dir = SafePaths.resolve(root(config), "images/" + vmid);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StorageException("unable to create directory '" + dir + "' - " + e.getMessage(), e);
        }
        String name = DiskName.disk(vmid, nextFreeDisk(config, vmid), false) + VolumeFormat.QCOW2.extension();
        int baseVmid = base.vmid().orElseThrow();
        String volname = baseVmid + "/" + base.name() + "/" + vmid + "/" + name;
        Volume clone = parseVolume(volname);
        Path target = entry(config, clone);
        try {
            // a relative backing file keeps working when the storage is mounted elsewhere
            QemuImg.createLinked(target, "../" + baseVmid + "/" + base.name(), format);
        } catch (RuntimeException e) {
            deleteQuietly(target);
            throw e;
        }
        return volname;
    }

    // ---- export and import: the file with its length in front, as Proxmox's "FORMAT+size" streams

    @Override
    public void exportVolume(StorageConfig config, Volume volume, String format, Optional<String> snapshot,
            Optional<String> baseSnapshot, OutputStream out) {
        VolumeFormat volumeFormat = volume.requireFormat();
        if (!format.equals(volumeFormat.proxmoxName() + "+size") || volumeFormat.isDirectory()) {
            throw unsupported("export of " + volumeFormat + " volumes as '" + format + "'");
        }
        if (snapshot.isPresent() || baseSnapshot.isPresent()) {
            throw unsupported("export of snapshots of " + volumeFormat + " volumes");
        }
        Path file = imageFile(config, volume);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            long size = channel.size();
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(size).array());
            channel.transferTo(0, size, Channels.newChannel(out));
            out.flush();
        } catch (IOException e) {
            throw new StorageException("export of '" + volume.volname() + "' failed - " + e.getMessage(), e);
        }
    }

    @Override
    public String importVolume(StorageConfig config, String volname, String format, InputStream in) {
        Volume volume = parseVolume(volname);
        VolumeFormat volumeFormat = volume.requireFormat();
        if (!format.equals(volumeFormat.proxmoxName() + "+size") || volumeFormat.isDirectory()) {
            throw unsupported("import of " + volumeFormat + " volumes from '" + format + "'");
        }
        Path entry = entry(config, volume);
        try {
            Files.createDirectories(entry.getParent());
        } catch (IOException e) {
            throw new StorageException("unable to create '" + entry.getParent() + "' - " + e.getMessage(), e);
        }
        if (Files.exists(entry, LinkOption.NOFOLLOW_LINKS)) {
            throw new Conflict("volume '" + volname + "' already exists");
        }
        createImportTarget(config, volume);
        Path file = imageFile(config, volume);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            DataInputStream data = new DataInputStream(in);
            byte[] header = new byte[8];
            data.readFully(header);
            long size = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (size < 0) {
                throw new StorageException("import stream announces a negative size");
            }
            long copied = channel.transferFrom(Channels.newChannel(data), 0, size);
            while (copied < size) {
                long more = channel.transferFrom(Channels.newChannel(data), copied, size - copied);
                if (more <= 0) {
                    throw new EOFException("stream ended after " + copied + " of " + size + " bytes");
                }
                copied += more;
            }
        } catch (IOException | RuntimeException e) {
            deleteImage(config, volume);
            throw e instanceof StorageException se ? se
                    : new StorageException("import of '" + volname + "' failed - " + e.getMessage(), e);
        }
        return volname;
    }

    /** Prepares the entry an imported image file goes into (a subvolume on btrfs); nothing for plain files. */
    protected void createImportTarget(StorageConfig config, Volume volume) {}

    // ---- file helpers

    protected static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // best effort: the caller reports the original failure
        }
    }

    protected static void deleteIfEmpty(Path dir) {
        try {
            Files.delete(dir);
        } catch (IOException e) {
            // not empty or already gone: both fine
        }
    }

    /** Deletes a file or a directory tree without following links (a link is removed, not its target). */
    protected static void deleteTree(Path path) {
        try {
            FileTrees.deleteTree(path);
        } catch (IOException e) {
            throw new StorageException("unable to delete '" + path + "' - " + e.getMessage(), e);
        }
    }
}
