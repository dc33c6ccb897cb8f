package org.corral.qemu.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.schema.Formats;
import org.corral.core.schema.PropertyFormat;
import org.corral.core.schema.Schema;

/**
 * The VM options of {@code qemu-server/<vmid>.conf}, with Proxmox's names, types and property
 * string formats. The API's create and config calls declare their parameters from this table, and
 * the config code checks values against it.
 */
public final class VmOptions {
    public static final int MAX_IDE = 4;
    public static final int MAX_SATA = 6;
    public static final int MAX_SCSI = 31;
    public static final int MAX_VIRTIO = 16;
    public static final int MAX_NETS = 32;
    public static final int MAX_SERIAL = 4;
    public static final int MAX_UNUSED = 256;
    public static final int MAX_NUMA = 8;

    /** Drive keys: ide0..3, sata0..5, scsi0..30, virtio0..15 (efidisk0 is a drive too). */
    public static final Pattern DRIVE_KEY = Pattern.compile("(ide|sata|scsi|virtio)(\\d+)");
    private static final Pattern INDEXED = Pattern.compile("([a-z]+)(\\d+)");

    static final String VOLUME_PATTERN = "(none|cdrom|/.+|[a-z][a-z0-9\\-_.]*[a-z0-9]:.+|\\d+(\\.\\d+)?)";
    private static final String MAC_PATTERN = "[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}";
    public static final Pattern MAC = Pattern.compile(MAC_PATTERN);
    public static final String[] NIC_MODELS = {"e1000", "e1000-82540em", "e1000-82544gc", "e1000-82545em", "e1000e", "i82551",
        "i82557b", "i82559er", "ne2k_isa", "ne2k_pci", "pcnet", "rtl8139", "virtio", "vmxnet3"};

    /** Which privilege guards a change of an option (Proxmox's check_vm_modify_config_perm). */
    public enum Category { CPU, MEMORY, HWTYPE, GENERAL, POWER, DISK_OPTION, CLOUDINIT, NETWORK, DRIVE, SERIAL, UNUSED, TAGS, VMSTATE, ROOT }

    public static final PropertyFormat IDE = drive("ide");
    public static final PropertyFormat SATA = drive("sata");
    public static final PropertyFormat SCSI = drive("scsi");
    public static final PropertyFormat VIRTIO = drive("virtio");
    public static final PropertyFormat EFIDISK = PropertyFormat.of()
            .defaultKey("file", Schema.string().pattern(VOLUME_PATTERN).description("The drive's backing volume."))
            .key("efitype", Schema.string().enumValues("2m", "4m").optional().description("Size and type of the OVMF EFI vars."))
            .key("format", Schema.string().enumValues("raw", "cow", "qcow", "qed", "qcow2", "vmdk", "cloop").optional()
                    .description("The drive's backing file's data format."))
            .key("pre-enrolled-keys", Schema.bool().optional().description("Use an EFI vars template with distribution and Microsoft keys enrolled."))
            .key("size", size())
            .key("import-from", Schema.string().optional().description("Create a new disk, importing from this source (volume id or absolute path)."));
    public static final PropertyFormat NET = net();
    public static final PropertyFormat BOOT = PropertyFormat.of()
            .defaultKey("legacy", Schema.string().pattern("[acdn]{1,4}").optional()
                    .description("Boot on floppy (a), hard disk (c), CD-ROM (d), or network (n). Deprecated, use 'order='."))
            .key("order", Schema.string().pattern("[a-z]+\\d+(;[a-z]+\\d+)*").optional()
                    .description("The guest will attempt to boot from devices in the order they appear here, separated by ';'."));
    public static final PropertyFormat AGENT = PropertyFormat.of()
            .defaultKey("enabled", Schema.bool().description("Enable/disable communication with a QEMU Guest Agent (QGA) running in the VM."))
            .key("freeze-fs-on-backup", Schema.bool().optional().description("Freeze/thaw guest filesystems on backup for consistency."))
            .key("fstrim_cloned_disks", Schema.bool().optional().description("Run fstrim after moving a disk or migrating the VM."))
            .key("type", Schema.string().enumValues("virtio", "isa").optional().description("Select the agent type."));
    public static final PropertyFormat CPU = PropertyFormat.of()
            .defaultKey("cputype", Schema.string().pattern("[a-zA-Z0-9\\-_.]+").optional()
                    .description("Emulated CPU type: a QEMU CPU model (kvm64, qemu64, host, x86-64-v2-AES, ...) or a custom model."))
            .key("flags", Schema.string().pattern("[+-][a-zA-Z0-9\\-_.]+(;[+-][a-zA-Z0-9\\-_.]+)*").optional()
                    .description("List of additional CPU flags separated by ';'. Use '+FLAG' to enable, '-FLAG' to disable a flag."))
            .key("hidden", Schema.bool().optional().description("Do not identify as a KVM virtual machine."))
            .key("hv-vendor-id", Schema.string().pattern("[a-zA-Z0-9]{1,12}").optional().description("The Hyper-V vendor ID."))
            .key("phys-bits", Schema.string().pattern("(8|9|[1-5][0-9]|6[0-4]|host)").optional()
                    .description("The physical memory address bits that are reported to the guest OS."))
            .key("reported-model", Schema.string().optional().description("CPU model and vendor to report to the guest."));
    public static final PropertyFormat VGA = PropertyFormat.of()
            .defaultKey("type", Schema.string().enumValues("cirrus", "qxl", "qxl2", "qxl3", "qxl4", "none", "serial0", "serial1",
                    "serial2", "serial3", "std", "virtio", "virtio-gl", "vmware").optional().description("Select the VGA type."))
            .key("memory", Schema.integer().minimum(4).maximum(512).optional().description("Sets the VGA memory (in MiB)."))
            .key("clipboard", Schema.string().enumValues("vnc").optional().description("Enable a specific clipboard."));
    public static final PropertyFormat SMBIOS1 = PropertyFormat.of()
            .key("base64", Schema.bool().optional().description("Flag to indicate that the SMBIOS values are base64 encoded."))
            .key("family", Schema.string().optional().description("Set SMBIOS1 family string."))
            .key("manufacturer", Schema.string().optional().description("Set SMBIOS1 manufacturer."))
            .key("product", Schema.string().optional().description("Set SMBIOS1 product ID."))
            .key("serial", Schema.string().optional().description("Set SMBIOS1 serial number."))
            .key("sku", Schema.string().optional().description("Set SMBIOS1 SKU string."))
            .key("uuid", Schema.string().pattern("[a-fA-F0-9]{8}(-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}").optional()
                    .description("Set SMBIOS1 UUID."))
            .key("version", Schema.string().optional().description("Set SMBIOS1 version."));
    public static final PropertyFormat STARTUP = PropertyFormat.of()
            .defaultKey("order", Schema.integer().minimum(0).optional().description("Startup order; lower numbers start first."))
            .key("up", Schema.integer().minimum(0).optional().description("Delay in seconds before the next VM is started."))
            .key("down", Schema.integer().minimum(0).optional().description("Timeout in seconds for the shutdown of this VM."));
    public static final PropertyFormat CICUSTOM = PropertyFormat.of()
            .key("meta", Schema.string().pattern(VOLUME_PATTERN).optional().description("Volume holding the meta-data (snippets)."))
            .key("network", Schema.string().pattern(VOLUME_PATTERN).optional().description("Volume holding the network-config (snippets)."))
            .key("user", Schema.string().pattern(VOLUME_PATTERN).optional().description("Volume holding the user-data (snippets)."))
            .key("vendor", Schema.string().pattern(VOLUME_PATTERN).optional().description("Volume holding the vendor-data (snippets)."));
    public static final PropertyFormat IPCONFIG = PropertyFormat.of()
            .key("ip", Schema.string().pattern("(dhcp|(\\d{1,3}\\.){3}\\d{1,3}/\\d{1,2})").optional()
                    .description("IPv4 address in CIDR format, or 'dhcp'."))
            .key("gw", Schema.string().format(Formats.IP).optional().description("Default gateway for IPv4 traffic."))
            .key("ip6", Schema.string().pattern("(dhcp|auto|[0-9a-fA-F:.]+/\\d{1,3})").optional()
                    .description("IPv6 address in CIDR format, 'auto' for SLAAC, or 'dhcp'."))
            .key("gw6", Schema.string().format(Formats.IP).optional().description("Default gateway for IPv6 traffic."));
    public static final PropertyFormat MEMORY = PropertyFormat.of()
            .defaultKey("current", Schema.integer().minimum(16).description("Current amount of online RAM for the VM in MiB."));
    /** A QEMU machine type as Proxmox names them ({@code pc}, {@code q35}, {@code pc-i440fx-7.2+pve0}). */
    public static final String MACHINE_TYPE = "(pc|pc(-i440fx)?-\\d+(\\.\\d+)+(\\+pve\\d+)?(\\.pxe)?|q35|pc-q35-\\d+(\\.\\d+)+(\\+pve\\d+)?(\\.pxe)?)";
    public static final PropertyFormat MACHINE = PropertyFormat.of()
            .defaultKey("type", Schema.string().pattern(MACHINE_TYPE)
                    .optional().description("Specifies the QEMU machine type."))
            .key("viommu", Schema.string().enumValues("intel", "virtio").optional().description("Enable and set guest vIOMMU variant."));
    public static final PropertyFormat WATCHDOG = PropertyFormat.of()
            .defaultKey("model", Schema.string().enumValues("i6300esb", "ib700").optional().description("Watchdog type to emulate."))
            .key("action", Schema.string().enumValues("reset", "shutdown", "poweroff", "pause", "debug", "none").optional()
                    .description("The action to perform if after activation the guest fails to poll the watchdog in time."));
    public static final PropertyFormat META = PropertyFormat.of()
            .key("creation-qemu", Schema.string().optional().description("The QEMU (machine) version from the time this VM was created."))
            .key("ctime", Schema.integer().minimum(0).optional().description("The guest creation timestamp as UNIX epoch time."));
    public static final PropertyFormat RNG = PropertyFormat.of()
            .defaultKey("source", Schema.string().enumValues("/dev/urandom", "/dev/random", "/dev/hwrng")
                    .description("The file on the host to gather entropy from."))
            .key("max_bytes", Schema.integer().minimum(0).optional().description("Maximum bytes of entropy allowed to get injected into the guest every 'period' milliseconds."))
            .key("period", Schema.integer().minimum(0).optional().description("Every 'period' milliseconds the entropy-injection quota is reset."));

    private static final Map<String, Entry> OPTIONS = options();

    /** An option: its schema and the privilege class that guards it. */
    public record Entry(String name, Schema schema, Category category) {}

    private VmOptions() {}

    /** Every option, indexed ones expanded ({@code net0}..{@code net31}), in a stable order. */
    public static Map<String, Entry> all() {
        return Collections.unmodifiableMap(OPTIONS);
    }

    public static Optional<Entry> find(String key) {
        return Optional.ofNullable(OPTIONS.get(key));
    }

    public static boolean isDrive(String key) {
        return DRIVE_KEY.matcher(key).matches() && OPTIONS.containsKey(key) || key.equals("efidisk0");
    }

    public static boolean isNet(String key) {
        return key.matches("net\\d+") && OPTIONS.containsKey(key);
    }

    public static boolean isUnused(String key) {
        return key.matches("unused\\d+") && OPTIONS.containsKey(key);
    }

    /** The property string format of a drive key. */
    public static PropertyFormat driveFormat(String key) {
        Matcher m = INDEXED.matcher(key);
        String prefix = m.matches() ? m.group(1) : key;
        return switch (prefix) {
            case "ide" -> IDE;
            case "sata" -> SATA;
            case "scsi" -> SCSI;
            case "virtio" -> VIRTIO;
            case "efidisk" -> EFIDISK;
            default -> throw new IllegalArgumentException("'" + key + "' is not a drive");
        };
    }

    private static Schema size() {
        return Schema.string().pattern("\\d+(\\.\\d+)?[KMGT]?").typeText(PropertyStrings.DISK_SIZE).optional()
                .description("Disk size. This is purely informational and has no effect.");
    }

    private static PropertyFormat drive(String bus) {
        PropertyFormat f = PropertyFormat.of()
                .defaultKey("file", Schema.string().pattern(VOLUME_PATTERN)
                        .description("The drive's backing volume: a volume id, STORAGE:SIZE_IN_GiB for a new volume, 'none' for an empty cdrom."))
                .key("aio", Schema.string().enumValues("native", "threads", "io_uring").optional().description("AIO type to use."))
                .key("backup", Schema.bool().optional().description("Whether the drive should be included when making backups."))
                .key("bps", Schema.integer().minimum(0).optional().description("Maximum r/w speed in bytes per second."))
                .key("bps_max_length", Schema.integer().minimum(0).optional().description("Maximum length of I/O bursts in seconds."))
                .key("bps_rd", Schema.integer().minimum(0).optional().description("Maximum read speed in bytes per second."))
                .key("bps_rd_max_length", Schema.integer().minimum(0).optional().description("Maximum length of read I/O bursts in seconds."))
                .key("bps_wr", Schema.integer().minimum(0).optional().description("Maximum write speed in bytes per second."))
                .key("bps_wr_max_length", Schema.integer().minimum(0).optional().description("Maximum length of write I/O bursts in seconds."))
                .key("cache", Schema.string().enumValues("none", "writethrough", "writeback", "unsafe", "directsync").optional()
                        .description("The drive's cache mode."))
                .key("cyls", Schema.integer().minimum(0).optional().description("Force the drive's physical geometry to have a specific cylinder count."))
                .key("detect_zeroes", Schema.bool().optional().description("Controls whether to detect and try to optimize writes of zeroes."))
                .key("discard", Schema.string().enumValues("ignore", "on").optional()
                        .description("Controls whether to pass discard/trim requests to the underlying storage."))
                .key("format", Schema.string().enumValues("raw", "cow", "qcow", "qed", "qcow2", "vmdk", "cloop").optional()
                        .description("The drive's backing file's data format."))
                .key("heads", Schema.integer().minimum(0).optional().description("Force the drive's physical geometry to have a specific head count."))
                .key("import-from", Schema.string().optional().description("Create a new disk, importing from this source (volume id or absolute path)."))
                .key("iops", Schema.integer().minimum(0).optional().description("Maximum r/w I/O in operations per second."))
                .key("iops_max", Schema.integer().minimum(0).optional().description("Maximum unthrottled r/w I/O pool in operations per second."))
                .key("iops_max_length", Schema.integer().minimum(0).optional().description("Maximum length of I/O bursts in seconds."))
                .key("iops_rd", Schema.integer().minimum(0).optional().description("Maximum read I/O in operations per second."))
                .key("iops_rd_max", Schema.integer().minimum(0).optional().description("Maximum unthrottled read I/O pool in operations per second."))
                .key("iops_rd_max_length", Schema.integer().minimum(0).optional().description("Maximum length of read I/O bursts in seconds."))
                .key("iops_wr", Schema.integer().minimum(0).optional().description("Maximum write I/O in operations per second."))
                .key("iops_wr_max", Schema.integer().minimum(0).optional().description("Maximum unthrottled write I/O pool in operations per second."))
                .key("iops_wr_max_length", Schema.integer().minimum(0).optional().description("Maximum length of write I/O bursts in seconds."))
                .key("mbps", Schema.number().minimum(0).optional().description("Maximum r/w speed in megabytes per second."))
                .key("mbps_max", Schema.number().minimum(0).optional().description("Maximum unthrottled r/w pool in megabytes per second."))
                .key("mbps_rd", Schema.number().minimum(0).optional().description("Maximum read speed in megabytes per second."))
                .key("mbps_rd_max", Schema.number().minimum(0).optional().description("Maximum unthrottled read pool in megabytes per second."))
                .key("mbps_wr", Schema.number().minimum(0).optional().description("Maximum write speed in megabytes per second."))
                .key("mbps_wr_max", Schema.number().minimum(0).optional().description("Maximum unthrottled write pool in megabytes per second."))
                .key("media", Schema.string().enumValues("cdrom", "disk").optional().description("The drive's media type."))
                .key("replicate", Schema.bool().optional().description("Whether the drive should be considered for replication jobs."))
                .key("rerror", Schema.string().enumValues("ignore", "report", "stop").optional().description("Read error action."))
                .key("secs", Schema.integer().minimum(0).optional().description("Force the drive's physical geometry to have a specific sector count."))
                .key("serial", Schema.string().pattern("[-%a-zA-Z0-9_ .]{1,60}").optional().description("The drive's reported serial number."))
                .key("shared", Schema.bool().optional().description("Mark this locally-managed volume as available on all nodes."))
                .key("size", size())
                .key("snapshot", Schema.bool().optional().description("Use QEMU's snapshot mode: changes are discarded when the VM is shut down."))
                .key("werror", Schema.string().enumValues("enospc", "ignore", "report", "stop").optional().description("Write error action."));
        if (!bus.equals("virtio")) {
            f.key("ssd", Schema.bool().optional().description("Whether to expose this drive as an SSD, rather than a rotational hard disk."));
        }
        if (bus.equals("ide") || bus.equals("sata")) {
            f.key("model", Schema.string().pattern("[-%a-zA-Z0-9_ .]{1,40}").optional().description("The drive's reported model name."));
        }
        if (bus.equals("ide")) {
            f.key("trans", Schema.string().enumValues("none", "lba", "auto").optional().description("Force disk geometry bios translation mode."));
        }
        if (!bus.equals("virtio")) {
            f.key("wwn", Schema.string().pattern("(?:0x)?[0-9a-fA-F]{16}").optional().description("The drive's worldwide name."));
        }
        if (bus.equals("scsi") || bus.equals("virtio")) {
            f.key("iothread", Schema.bool().optional().description("Whether to use iothreads for this drive."));
            f.key("ro", Schema.bool().optional().description("Whether the drive is read-only."));
        }
        if (bus.equals("scsi")) {
            f.key("queues", Schema.integer().minimum(2).optional().description("Number of queues."));
            f.key("scsiblock", Schema.bool().optional().description("Whether to use scsi-block for full passthrough of host block device."));
            f.key("product", Schema.string().pattern("[A-Za-z0-9\\-_\\s]{1,16}").optional().description("The drive's product name."));
            f.key("vendor", Schema.string().pattern("[A-Za-z0-9\\-_\\s]{1,8}").optional().description("The drive's vendor name."));
        }
        return f;
    }

    private static PropertyFormat net() {
        PropertyFormat f = PropertyFormat.of()
                .defaultKey("model", Schema.string().enumValues(NIC_MODELS).optional().description("Network Card Model."))
                .key("macaddr", Schema.string().pattern(MAC_PATTERN).optional()
                        .description("MAC address. That address must be unique within your network. This is automatically generated if not specified."))
                .key("bridge", Schema.string().pattern("[-_.\\w\\d]+").optional().description("Bridge to attach the network device to."))
                .key("firewall", Schema.bool().optional().description("Whether this interface should be protected by the firewall."))
                .key("link_down", Schema.bool().optional().description("Whether this interface should be disconnected (like pulling the plug)."))
                .key("mtu", Schema.integer().minimum(1).maximum(65520).optional().description("Force MTU, for VirtIO only. Set to '1' to use the bridge MTU."))
                .key("queues", Schema.integer().minimum(0).maximum(64).optional().description("Number of packet queues to be used on the device."))
                .key("rate", Schema.number().minimum(0).optional().description("Rate limit in mbps (megabytes per second) as floating point number."))
                .key("tag", Schema.integer().minimum(1).maximum(4094).optional().description("VLAN tag to apply to packets on this interface."))
                .key("trunks", Schema.string().pattern("\\d+(?:-\\d+)?(?:;\\d+(?:-\\d+)?)*").optional()
                        .description("VLAN trunks to pass through this interface."));
        for (String model : NIC_MODELS) {
            f.alias(model, "macaddr");
        }
        return f;
    }

    private static Map<String, Entry> options() {
        Map<String, Entry> o = new LinkedHashMap<>();
        put(o, "acpi", Category.HWTYPE, Schema.bool().optional().description("Enable/disable ACPI."));
        put(o, "agent", Category.GENERAL, Schema.propertyString(AGENT).optional()
                .description("Enable/disable communication with the QEMU Guest Agent and its properties."));
        put(o, "args", Category.ROOT, Schema.string().optional()
                .description("Arbitrary arguments passed to kvm (root only), for example: args: -no-reboot -smbios 'type=0,vendor=FOO'"));
        put(o, "autostart", Category.GENERAL, Schema.bool().optional().description("Automatic restart after crash (currently ignored)."));
        put(o, "balloon", Category.MEMORY, Schema.integer().minimum(0).optional()
                .description("Amount of target RAM for the VM in MiB. Using zero disables the balloon driver."));
        put(o, "bios", Category.GENERAL, Schema.string().enumValues("seabios", "ovmf").optional().description("Select BIOS implementation."));
        put(o, "boot", Category.DISK_OPTION, Schema.propertyString(BOOT).optional().description("Specify guest boot order."));
        put(o, "bootdisk", Category.DISK_OPTION, Schema.string().pattern("(ide|sata|scsi|virtio)\\d+").optional()
                .description("Enable booting from specified disk. Deprecated: Use 'boot: order=foo;bar' instead."));
        put(o, "cicustom", Category.CLOUDINIT, Schema.propertyString(CICUSTOM).optional()
                .description("cloud-init: Specify custom files to replace the automatically generated ones at start."));
        put(o, "cipassword", Category.CLOUDINIT, Schema.string().optional().secret()
                .description("cloud-init: Password to assign the user. Using this is generally not recommended. Use ssh keys instead."));
        put(o, "citype", Category.CLOUDINIT, Schema.string().enumValues("configdrive2", "nocloud", "opennebula").optional()
                .description("Specifies the cloud-init configuration format. Corral writes the NoCloud format."));
        put(o, "ciupgrade", Category.CLOUDINIT, Schema.bool().optional()
                .description("cloud-init: do an automatic package upgrade after the first boot."));
        put(o, "ciuser", Category.CLOUDINIT, Schema.string().optional()
                .description("cloud-init: User name to change ssh keys and password for instead of the image's configured default user."));
        put(o, "cores", Category.CPU, Schema.integer().minimum(1).optional().description("The number of cores per socket."));
        put(o, "cpu", Category.CPU, Schema.propertyString(CPU).optional().description("Emulated CPU type."));
        put(o, "cpulimit", Category.CPU, Schema.number().minimum(0).maximum(128).optional().description("Limit of CPU usage."));
        put(o, "cpuunits", Category.CPU, Schema.integer().minimum(1).maximum(262144).optional().description("CPU weight for a VM."));
        put(o, "description", Category.GENERAL, Schema.string().maxLength(8192).multiLine().optional()
                .description("Description for the VM. Shown in the web-interface VM's summary. This is saved as comment inside the configuration file."));
        put(o, "efidisk0", Category.DRIVE, Schema.propertyString(EFIDISK).optional()
                .description("Configure a disk for storing EFI vars. Use the special syntax STORAGE_ID:SIZE_IN_GiB to allocate a new volume."));
        put(o, "freeze", Category.POWER, Schema.bool().optional().description("Freeze CPU at startup (use 'c' monitor command to start execution)."));
        put(o, "hookscript", Category.ROOT, Schema.string().pattern(VOLUME_PATTERN).optional()
                .description("Script that will be executed during various steps in the vms lifetime."));
        put(o, "hotplug", Category.HWTYPE, Schema.string().pattern("(0|1|((network|disk|cpu|memory|usb|cloudinit)(,(network|disk|cpu|memory|usb|cloudinit))*))")
                .optional().description("Selectively enable hotplug features. This is a comma separated list of hotplug features: 'network', 'disk', 'cpu', 'memory', 'usb' and 'cloudinit'. Use '0' to disable hotplug completely."));
        put(o, "keyboard", Category.GENERAL, Schema.string().optional().description("Keyboard layout for VNC server (deprecated)."));
        put(o, "kvm", Category.HWTYPE, Schema.bool().optional().description("Enable/disable KVM hardware virtualization; 0 runs QEMU's TCG emulator."));
        put(o, "localtime", Category.GENERAL, Schema.bool().optional().description("Set the real time clock (RTC) to local time."));
        put(o, "lock", Category.ROOT, Schema.string().enumValues("backup", "clone", "create", "migrate", "rollback", "snapshot",
                "snapshot-delete", "suspending", "suspended").optional().description("Lock/unlock the VM."));
        put(o, "machine", Category.HWTYPE, Schema.propertyString(MACHINE).optional().description("Specify the QEMU machine."));
        put(o, "memory", Category.MEMORY, Schema.propertyString(MEMORY).optional().description("Memory properties (MiB)."));
        put(o, "meta", Category.ROOT, Schema.propertyString(META).optional().description("Some (read-only) meta-information about this guest."));
        put(o, "name", Category.GENERAL, Schema.string().format(Formats.DNS_NAME).optional().description("Set a name for the VM. Only used on the configuration web interface."));
        put(o, "nameserver", Category.CLOUDINIT, Schema.string().optional()
                .description("cloud-init: Sets DNS server IP address for a container. Separate several addresses with spaces."));
        put(o, "numa", Category.CPU, Schema.bool().optional().description("Enable/disable NUMA."));
        put(o, "onboot", Category.GENERAL, Schema.bool().optional().description("Specifies whether a VM will be started during system bootup."));
        put(o, "ostype", Category.GENERAL, Schema.string().enumValues("other", "wxp", "w2k", "w2k3", "w2k8", "wvista", "win7", "win8",
                "win10", "win11", "l24", "l26", "solaris").optional().description("Specify guest operating system."));
        put(o, "protection", Category.GENERAL, Schema.bool().optional()
                .description("Sets the protection flag of the VM. This will disable the remove VM and remove disk operations."));
        put(o, "reboot", Category.GENERAL, Schema.bool().optional().description("Allow reboot. If set to '0' the VM exit on reboot."));
        put(o, "rng0", Category.HWTYPE, Schema.propertyString(RNG).optional().description("Configure a VirtIO-based Random Number Generator."));
        put(o, "scsihw", Category.HWTYPE, Schema.string().enumValues("lsi", "lsi53c810", "virtio-scsi-pci", "virtio-scsi-single",
                "megasas", "pvscsi").optional().description("SCSI controller model"));
        put(o, "searchdomain", Category.CLOUDINIT, Schema.string().optional().description("cloud-init: Sets DNS search domains for a container."));
        put(o, "shares", Category.MEMORY, Schema.integer().minimum(0).maximum(50000).optional()
                .description("Amount of memory shares for auto-ballooning. Corral does not auto-balloon yet: the value is "
                        + "kept for Proxmox clients and has no effect."));
        put(o, "smbios1", Category.HWTYPE, Schema.propertyString(SMBIOS1).optional().description("Specify SMBIOS type 1 fields."));
        put(o, "sockets", Category.CPU, Schema.integer().minimum(1).optional().description("The number of CPU sockets."));
        put(o, "sshkeys", Category.CLOUDINIT, Schema.string().multiLine().optional()
                .description("cloud-init: Setup public SSH keys (one key per line, OpenSSH format), URL-encoded."));
        put(o, "startdate", Category.GENERAL, Schema.string().pattern("(now|\\d{4}-\\d{1,2}-\\d{1,2}(T\\d{1,2}:\\d{1,2}:\\d{1,2})?)")
                .optional().description("Set the initial date of the real time clock."));
        put(o, "startup", Category.GENERAL, Schema.propertyString(STARTUP).optional()
                .description("Startup and shutdown behavior. Order is a non-negative number defining the general startup order."));
        put(o, "tablet", Category.HWTYPE, Schema.bool().optional().description("Enable/disable the USB tablet device."));
        put(o, "tags", Category.TAGS, Schema.string().pattern("[a-zA-Z0-9_+.\\-]+([;, ]+[a-zA-Z0-9_+.\\-]+)*[;, ]*").optional()
                .description("Tags of the VM. This is only meta information."));
        put(o, "tdf", Category.GENERAL, Schema.bool().optional().description("Enable/disable time drift fix."));
        put(o, "template", Category.GENERAL, Schema.bool().optional().description("Enable/disable Template."));
        put(o, "vcpus", Category.CPU, Schema.integer().minimum(1).optional().description("Number of hotplugged vcpus."));
        put(o, "vga", Category.HWTYPE, Schema.propertyString(VGA).optional().description("Configure the VGA hardware."));
        put(o, "vmgenid", Category.GENERAL, Schema.string().pattern("(?:[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}|[01])")
                .optional().description("Set VM Generation ID. Use '1' to autogenerate on create or update, pass '0' to disable explicitly."));
        put(o, "vmstate", Category.VMSTATE, Schema.string().pattern(VOLUME_PATTERN).optional()
                .description("Reference to a volume which stores the VM state. This is used internally for snapshots and suspend."));
        put(o, "vmstatestorage", Category.GENERAL, Schema.string().format(Formats.PVE_STORAGE_ID).optional()
                .description("Default storage for VM state volumes/files."));
        put(o, "watchdog", Category.HWTYPE, Schema.propertyString(WATCHDOG).optional()
                .description("Create a virtual hardware watchdog device. Once enabled (by a guest action), the watchdog must be "
                        + "periodically polled by an agent inside the guest or else the watchdog will reset the guest (or execute "
                        + "the respective action specified)"));
        for (int i = 0; i < MAX_IDE; i++) {
            put(o, "ide" + i, Category.DRIVE, Schema.propertyString(IDE).optional()
                    .description("Use volume as IDE hard disk or CD-ROM (n is 0 to 3). Use the special syntax STORAGE_ID:SIZE_IN_GiB to allocate a new volume."));
        }
        for (int i = 0; i < MAX_SATA; i++) {
            put(o, "sata" + i, Category.DRIVE, Schema.propertyString(SATA).optional()
                    .description("Use volume as SATA hard disk or CD-ROM (n is 0 to 5). Use the special syntax STORAGE_ID:SIZE_IN_GiB to allocate a new volume."));
        }
        for (int i = 0; i < MAX_SCSI; i++) {
            put(o, "scsi" + i, Category.DRIVE, Schema.propertyString(SCSI).optional()
                    .description("Use volume as SCSI hard disk or CD-ROM (n is 0 to 30). Use the special syntax STORAGE_ID:SIZE_IN_GiB to allocate a new volume."));
        }
        for (int i = 0; i < MAX_VIRTIO; i++) {
            put(o, "virtio" + i, Category.DRIVE, Schema.propertyString(VIRTIO).optional()
                    .description("Use volume as VIRTIO hard disk (n is 0 to 15). Use the special syntax STORAGE_ID:SIZE_IN_GiB to allocate a new volume."));
        }
        for (int i = 0; i < MAX_NETS; i++) {
            put(o, "net" + i, Category.NETWORK, Schema.propertyString(NET).optional().description("Specify network devices."));
        }
        for (int i = 0; i < MAX_NETS; i++) {
            put(o, "ipconfig" + i, Category.CLOUDINIT, Schema.propertyString(IPCONFIG).optional()
                    .description("cloud-init: Specify IP addresses and gateways for the corresponding interface."));
        }
        for (int i = 0; i < MAX_SERIAL; i++) {
            put(o, "serial" + i, Category.SERIAL, Schema.string().pattern("(/dev/.+|socket)").optional()
                    .description("Create a serial device inside the VM (n is 0 to 3): 'socket' for a unix socket, or a host device (root only)."));
        }
        for (int i = 0; i < MAX_NUMA; i++) {
            put(o, "numa" + i, Category.CPU, Schema.string().optional().description("NUMA topology."));
        }
        for (int i = 0; i < MAX_UNUSED; i++) {
            put(o, "unused" + i, Category.UNUSED, Schema.string().pattern(VOLUME_PATTERN).optional()
                    .description("Reference to unused volumes. This is used internally, and should not be modified manually."));
        }
        return o;
    }

    private static void put(Map<String, Entry> o, String name, Category category, Schema schema) {
        o.put(name, new Entry(name, schema, category));
    }
}
