package org.corral.qemu.config;

import static java.util.Objects.requireNonNull;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A drive option ({@code scsi0: local:100/vm-100-disk-0.qcow2,iothread=1,size=32G}) split into
 * its bus, index and properties. Properties are Proxmox's text, {@code file} included.
 */
public record Drive(String key, String bus, int index, Map<String, String> properties) {
    private static final Pattern KEY = Pattern.compile("(ide|sata|scsi|virtio|efidisk|tpmstate)(\\d+)");
    /** {@code STORAGE:SIZE_GiB}, Proxmox's syntax for a volume to allocate. */
    public static final Pattern NEW_DISK = Pattern.compile("([a-z][a-z0-9\\-_.]*[a-z0-9]):(\\d+(?:\\.\\d+)?)");
    /** {@code STORAGE:cloudinit}, a cloud-init drive to allocate. */
    public static final Pattern NEW_CLOUDINIT = Pattern.compile("([a-z][a-z0-9\\-_.]*[a-z0-9]):cloudinit");
    private static final Pattern CLOUDINIT_VOLUME = Pattern.compile(".*[:/]vm-\\d+-cloudinit(\\.\\w+)?");
    private static final List<String> BUS_ORDER = List.of("ide", "sata", "scsi", "virtio", "efidisk", "tpmstate");

    /** ide0..3, sata0..5, scsi0..30, virtio0..15, efidisk0, tpmstate0: qemu-server's drive order. */
    public static final Comparator<String> ORDER = Comparator.<String>comparingInt(k -> BUS_ORDER.indexOf(split(k)[0]))
            .thenComparingInt(k -> Integer.parseInt(split(k)[1]));

    public Drive {
        requireNonNull(key, "key is null");
        requireNonNull(bus, "bus is null");
        properties = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(properties));
        if (!properties.containsKey("file")) {
            throw new IllegalArgumentException(key + ": drive has no file");
        }
    }

    private static String[] split(String key) {
        Matcher m = KEY.matcher(key);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + key + "' is not a drive key");
        }
        return new String[] {m.group(1), m.group(2)};
    }

    /** Parses and checks a drive value; the exception message names the bad key. */
    public static Drive parse(String key, String value) {
        String[] parts = split(key);
        Map<String, String> properties = PropertyStrings.parse(VmOptions.driveFormat(key), value);
        return new Drive(key, parts[0], Integer.parseInt(parts[1]), properties);
    }

    public String file() {
        return properties.get("file");
    }

    public Optional<String> get(String property) {
        return Optional.ofNullable(properties.get(property));
    }

    public boolean flag(String property, boolean fallback) {
        return get(property).map(VmConfig::isTrue).orElse(fallback);
    }

    public boolean isCdrom() {
        return "cdrom".equals(properties.get("media"));
    }

    /** An empty cdrom drive ({@code none,media=cdrom}). */
    public boolean isNone() {
        return file().equals("none");
    }

    /** The host's cdrom drive ({@code cdrom,media=cdrom}). */
    public boolean isHostCdrom() {
        return file().equals("cdrom");
    }

    public boolean isPath() {
        return file().startsWith("/");
    }

    public boolean isNewDisk() {
        return NEW_DISK.matcher(file()).matches() || NEW_CLOUDINIT.matcher(file()).matches();
    }

    /** A volume id on a storage ({@code local:100/vm-100-disk-0.qcow2}). */
    public boolean isVolume() {
        return !isNone() && !isHostCdrom() && !isPath() && !isNewDisk() && file().contains(":");
    }

    public boolean isCloudInit() {
        return CLOUDINIT_VOLUME.matcher(file()).matches() || NEW_CLOUDINIT.matcher(file()).matches();
    }

    public Optional<String> storage() {
        return isVolume() || isNewDisk() ? Optional.of(file().substring(0, file().indexOf(':'))) : Optional.empty();
    }

    public Optional<Long> size() {
        return get("size").map(Sizes::parse);
    }

    public Drive with(String property, String value) {
        Map<String, String> next = new LinkedHashMap<>(properties);
        next.put(property, value);
        return new Drive(key, bus, index, next);
    }

    public Drive without(String property) {
        Map<String, String> next = new LinkedHashMap<>(properties);
        next.remove(property);
        return new Drive(key, bus, index, next);
    }

    /** The same drive under another key ({@code scsi1} for a drive moved from {@code scsi0}). */
    public Drive as(String newKey) {
        String[] parts = split(newKey);
        return new Drive(newKey, parts[0], Integer.parseInt(parts[1]), properties);
    }

    /** The value as written to the config. */
    public String print() {
        return PropertyStrings.print(VmOptions.driveFormat(key), properties);
    }
}
