package org.corral.storage;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rules for names inside volume ids and for file names that come from callers. A volume name
 * is one or more '/'-separated components of {@code [A-Za-z0-9_.+-]}, none starting with a dot, no
 * {@code ..} anywhere; everything else (absolute paths, NUL, newlines, backslashes, '%' escapes,
 * other Unicode look-alikes) is refused, never repaired. Also the layouts of file-based and
 * block-based storages (Proxmox's {@code parse_volname}).
 */
public final class VolumeNames {
    public static final int MAX_LENGTH = 1024;
    public static final Pattern ISO_EXT = Pattern.compile(".+\\.(?:iso|img)", Pattern.CASE_INSENSITIVE);
    public static final Pattern VZTMPL_EXT = Pattern.compile(".+\\.(tar\\.(?:gz|xz|zst|bz2)|tgz)", Pattern.CASE_INSENSITIVE);
    public static final Pattern BACKUP_EXT = Pattern.compile(
            ".+\\.(tgz|(?:tar|vma)(?:\\.(?:gz|lzo|zst|bz2|xz))?)", Pattern.CASE_INSENSITIVE);
    public static final Pattern IMPORT_EXT = Pattern.compile(".+\\.(ova|ovf|qcow2|raw|vmdk)", Pattern.CASE_INSENSITIVE);
    private static final Pattern COMPONENT = Pattern.compile("[A-Za-z0-9_+\\-][A-Za-z0-9_.+\\-]*");
    // the only component with ':' allowed: a datastore snapshot's time, as in Proxmox's PBS volume names (backup/ct/100/2026-11-01T10:00:00Z)
    private static final Pattern SNAPSHOT_TIME = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z");
    private static final Pattern BACKUP_OWNER = Pattern.compile("vzdump-(?:openvz|lxc|qemu)-([1-9][0-9]{2,8})-.+");
    private static final Pattern IMAGE_FILE = Pattern.compile("(.+)\\.(raw|qcow2|vmdk|subvol)");
    private static final Pattern VMID = Pattern.compile("[1-9][0-9]{2,8}");
    private static final Pattern SNAPSHOT = Pattern.compile("[A-Za-z][A-Za-z0-9_\\-]{0,39}");

    private static final Pattern BACKUP_NAME = Pattern.compile(
            "(vzdump-(openvz|lxc|qemu)-[1-9][0-9]{2,8}-(\\d{4}_\\d{2}_\\d{2}-\\d{2}_\\d{2}_\\d{2}))\\.(?:tgz|(?:tar|vma)(?:\\.(?:gz|lzo|zst|bz2|xz))?)");
    private static final DateTimeFormatter BACKUP_TIME = DateTimeFormatter.ofPattern("yyyy_MM_dd-HH_mm_ss");

    /** What a vzdump archive's name tells: the guest type ({@code lxc}, {@code qemu}, {@code openvz}) and, in local time, when it was taken. */
    public record BackupName(String subtype, LocalDateTime time) {}

    private VolumeNames() {}

    /** Parses a vzdump archive's file name ({@code vzdump-lxc-100-2026_01_01-00_00_00.tar.zst}). */
    public static Optional<BackupName> backupName(String name) {
        Matcher m = BACKUP_NAME.matcher(name);
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new BackupName(m.group(2), LocalDateTime.parse(m.group(3), BACKUP_TIME)));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** The log file vzdump writes beside a backup archive: the archive's base name with {@code .log}. */
    public static Optional<String> backupLogName(ContentType content, String name) {
        if (content != ContentType.BACKUP) {
            return Optional.empty();
        }
        Matcher m = BACKUP_NAME.matcher(name);
        return m.matches() ? Optional.of(m.group(1) + ".log") : Optional.empty();
    }

    /** Refuses a volume name that could name anything outside its storage; IllegalArgumentException says why. */
    public static void checkSafe(String volname) {
        unsafeReason(volname).ifPresent(reason -> {
            throw new IllegalArgumentException("volume name '" + printable(volname) + "' " + reason);
        });
    }

    public static Optional<String> unsafeReason(String name) {
        if (name.isEmpty()) {
            return Optional.of("is empty");
        }
        if (name.length() > MAX_LENGTH) {
            return Optional.of("is longer than " + MAX_LENGTH + " characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == 0) {
                return Optional.of("contains a NUL byte");
            }
            if (c < 0x20 || c == 0x7f) {
                return Optional.of("contains a control character (line break or similar)");
            }
            if (c == '\\') {
                return Optional.of("contains a backslash");
            }
            if (c == '%') {
                return Optional.of("contains '%' (percent-encoding is not decoded here)");
            }
        }
        if (name.startsWith("/")) {
            return Optional.of("is an absolute path");
        }
        if (name.contains("..")) {
            return Optional.of("contains '..'");
        }
        for (String part : name.split("/", -1)) {
            if (part.isEmpty()) {
                return Optional.of("contains an empty path component");
            }
            if (!COMPONENT.matcher(part).matches() && !SNAPSHOT_TIME.matcher(part).matches()) {
                return Optional.of("contains characters outside [A-Za-z0-9_.+-] or a component starting with '.'");
            }
        }
        return Optional.empty();
    }

    /** {@code text} with control characters escaped, for error messages and logs. */
    public static String printable(String text) {
        StringBuilder out = new StringBuilder();
        String shown = text.length() > 200 ? text.substring(0, 200) + "..." : text;
        for (int i = 0; i < shown.length(); i++) {
            char c = shown.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Checks a snapshot name (used in file and subvolume names). */
    public static void checkSnapshotName(String snapshot) {
        if (!SNAPSHOT.matcher(snapshot).matches()) {
            throw new IllegalArgumentException("invalid snapshot name '" + printable(snapshot) + "'");
        }
    }

    /**
     * The name an uploaded or downloaded file gets: refused if it tries to name a path ('/', '\',
     * '..', NUL, line breaks, '%' escapes, a leading dot), then other characters become '_' as
     * Proxmox normalises them, then the extension must fit {@code content}.
     */
    public static String uploadName(String raw, ContentType content) {
        String trimmed = raw.strip();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("file name is empty");
        }
        if (trimmed.length() > 255) {
            throw new IllegalArgumentException("file name is longer than 255 characters");
        }
        for (int i = 0; i < trimmed.length(); i++) {
            char c = trimmed.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new IllegalArgumentException("file name contains a NUL byte or control character");
            }
            if (c == '/' || c == '\\') {
                throw new IllegalArgumentException("file name '" + printable(trimmed) + "' contains a path separator");
            }
            if (c == '%') {
                throw new IllegalArgumentException("file name '" + printable(trimmed) + "' contains '%'");
            }
        }
        if (trimmed.contains("..") || trimmed.startsWith(".")) {
            throw new IllegalArgumentException("file name '" + printable(trimmed) + "' contains '..' or starts with '.'");
        }
        String name = trimmed.replaceAll("[^-a-zA-Z0-9_.]", "_");
        boolean fits = switch (content) {
            case ISO -> ISO_EXT.matcher(name).matches();
            case VZTMPL -> VZTMPL_EXT.matcher(name).matches();
            case IMPORT -> IMPORT_EXT.matcher(name).matches();
            case SNIPPETS -> true;
            case BACKUP -> BACKUP_EXT.matcher(name).matches();
            case IMAGES, ROOTDIR -> false;
        };
        if (!fits) {
            throw new IllegalArgumentException("wrong file extension");
        }
        checkSafe(name);
        return name;
    }

    /** The directory a content type's files live in below a file storage's path (Proxmox's layout). */
    public static String subdir(ContentType content) {
        return switch (content) {
            case IMAGES, ROOTDIR -> "images";
            case ISO -> "template/iso";
            case VZTMPL -> "template/cache";
            case BACKUP -> "dump";
            case SNIPPETS -> "snippets";
            case IMPORT -> "import";
        };
    }

    /**
     * Parses a volume name of a file-based storage: {@code VMID/NAME.FMT},
     * {@code BASEVMID/BASENAME.FMT/VMID/NAME.FMT} (linked clone), {@code iso/NAME.iso},
     * {@code vztmpl/NAME.tar.zst}, {@code backup/NAME}, {@code snippets/NAME}, {@code import/NAME}.
     */
    public static Volume parseFileVolume(String volname) {
        checkSafe(volname);
        String[] parts = volname.split("/");
        if (parts.length == 2 && VMID.matcher(parts[0]).matches()) {
            return imageFile(volname, parts[1], Integer.parseInt(parts[0]));
        }
        if (parts.length == 4 && VMID.matcher(parts[0]).matches() && VMID.matcher(parts[2]).matches()) {
            int baseVmid = Integer.parseInt(parts[0]);
            Volume base = imageFile(parts[0] + "/" + parts[1], parts[1], baseVmid);
            if (!base.isBase()) {
                throw invalid(volname, "'" + parts[1] + "' is not a base volume");
            }
            Volume clone = imageFile(volname, parts[3], Integer.parseInt(parts[2]));
            if (clone.isBase()) {
                throw invalid(volname, "a linked clone can't be a base volume");
            }
            return clone.withBase(parts[1], baseVmid);
        }
        if (parts.length == 2) {
            String name = parts[1];
            return switch (parts[0]) {
                case "iso" -> {
                    requireMatch(volname, name, ISO_EXT, "an .iso or .img file");
                    yield Volume.file(volname, ContentType.ISO, name, Optional.empty());
                }
                case "vztmpl" -> {
                    requireMatch(volname, name, VZTMPL_EXT, "a .tar.{gz,xz,zst,bz2} template");
                    yield Volume.file(volname, ContentType.VZTMPL, name, Optional.empty());
                }
                case "backup" -> {
                    requireMatch(volname, name, BACKUP_EXT, "a backup archive");
                    Matcher owner = BACKUP_OWNER.matcher(name);
                    yield Volume.file(volname, ContentType.BACKUP, name,
                            owner.matches() ? Optional.of(Integer.parseInt(owner.group(1))) : Optional.empty());
                }
                case "snippets" -> Volume.file(volname, ContentType.SNIPPETS, name, Optional.empty());
                case "import" -> {
                    requireMatch(volname, name, IMPORT_EXT, "an .ova, .ovf, .qcow2, .raw or .vmdk file");
                    yield Volume.file(volname, ContentType.IMPORT, name, Optional.empty());
                }
                default -> throw invalid(volname, "unknown directory '" + parts[0] + "'");
            };
        }
        throw invalid(volname, "not a volume of a directory storage");
    }

    private static Volume imageFile(String volname, String file, int vmid) {
        Matcher m = IMAGE_FILE.matcher(file);
        if (!m.matches()) {
            throw invalid(volname, "'" + file + "' has no image format suffix (.raw, .qcow2, .vmdk, .subvol)");
        }
        DiskName disk = DiskName.parse(m.group(1)).orElseThrow(() ->
                invalid(volname, "'" + m.group(1) + "' is not a disk name (vm-VMID-*, base-VMID-*, subvol-VMID-*)"));
        if (disk.vmid() != vmid) {
            throw invalid(volname, "disk '" + file + "' does not belong to VM " + vmid);
        }
        VolumeFormat format = VolumeFormat.byName(m.group(2)).orElseThrow();
        boolean subvolName = disk.prefix() == DiskName.Prefix.SUBVOL || disk.prefix() == DiskName.Prefix.BASEVOL;
        if (subvolName != (format == VolumeFormat.SUBVOL)) {
            throw invalid(volname, "subvol-/basevol- names and the .subvol format go together");
        }
        return Volume.image(volname, file, vmid, format, disk.prefix().isBase());
    }

    /**
     * Parses a volume name of a block storage (LVM, ZFS, RBD): {@code vm-100-disk-0},
     * {@code base-100-disk-0/vm-101-disk-0} (linked clone); {@code subvol-...} names are directories.
     */
    public static Volume parseBlockVolume(String volname) {
        checkSafe(volname);
        String[] parts = volname.split("/");
        if (parts.length > 2) {
            throw invalid(volname, "not a volume of a block storage");
        }
        String name = parts[parts.length - 1];
        DiskName disk = DiskName.parse(name).orElseThrow(() -> invalid(volname, "'" + name + "' is not a disk name"));
        VolumeFormat format = disk.prefix() == DiskName.Prefix.SUBVOL || disk.prefix() == DiskName.Prefix.BASEVOL
                ? VolumeFormat.SUBVOL : VolumeFormat.RAW;
        Volume volume = Volume.image(volname, name, disk.vmid(), format, disk.prefix().isBase());
        if (parts.length == 2) {
            DiskName base = DiskName.parse(parts[0]).filter(d -> d.prefix().isBase())
                    .orElseThrow(() -> invalid(volname, "'" + parts[0] + "' is not a base volume"));
            if (disk.prefix().isBase()) {
                throw invalid(volname, "a linked clone can't be a base volume");
            }
            volume = volume.withBase(parts[0], base.vmid());
        }
        return volume;
    }

    /** The format Proxmox lists for a non-image file: iso, tgz/tzst..., vma.zst, snippet, ova. */
    public static String fileFormat(ContentType content, String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return switch (content) {
            case ISO -> "iso";
            case VZTMPL -> lower.endsWith(".tar.zst") ? "tzst" : lower.endsWith(".tar.xz") ? "txz"
                    : lower.endsWith(".tar.bz2") ? "tbz2" : "tgz";
            case BACKUP -> {
                Matcher m = BACKUP_EXT.matcher(lower);
                yield m.matches() ? m.group(1) : "unknown";
            }
            case SNIPPETS -> "snippet";
            case IMPORT -> {
                Matcher m = IMPORT_EXT.matcher(lower);
                yield m.matches() ? m.group(1) : "unknown";
            }
            case IMAGES, ROOTDIR -> "raw";
        };
    }

    private static void requireMatch(String volname, String name, Pattern pattern, String what) {
        if (!pattern.matcher(name).matches()) {
            throw invalid(volname, "'" + name + "' is not " + what);
        }
    }

    private static IllegalArgumentException invalid(String volname, String reason) {
        return new IllegalArgumentException("unable to parse volume name '" + printable(volname) + "' - " + reason);
    }
}
