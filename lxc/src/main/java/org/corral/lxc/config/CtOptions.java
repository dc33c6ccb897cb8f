package org.corral.lxc.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
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
 * The container options with Proxmox's names, types, property-string formats and defaults
 * (pve-container's {@code $confdesc}). Property-string keys are declared in the order Proxmox
 * prints them: the default key, the required keys, then the rest sorted. Checks that a schema
 * pattern can't express (IPv6 addresses, path sequences, sizes) are in {@link #check}.
 */
public final class CtOptions {
    public static final int MAX_NETS = 32;
    public static final int MAX_MOUNT_POINTS = 256;
    public static final int MAX_UNUSED = 256;

    static final String OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
    public static final String IPV4 = "(?:" + OCTET + "\\.){3}" + OCTET;
    static final String MAC = "[a-fA-F0-9][02468aceACE](?::[a-fA-F0-9]{2}){5}";
    static final String MOUNT_OPTION = "(?:noatime|nodev|nosuid|noexec)";
    static final String TAG = "[a-zA-Z0-9_][a-zA-Z0-9_\\-+.]*";
    static final String VOLUME_ID = "[a-z][a-z0-9\\-_.]*[a-z0-9]:.+";
    static final String STARTUP_PART = "(?:(?:order=)?\\d+|up=\\d+|down=\\d+)";
    private static final Pattern IPV6_CIDR = Pattern.compile("([0-9a-fA-F:.]+)/(\\d{1,3})");
    private static final Pattern KEY_INDEX = Pattern.compile("(net|mp|unused)(\\d+)");

    public static final PropertyFormat ROOTFS = mountFormat(false);
    public static final PropertyFormat MOUNT_POINT = mountFormat(true);
    public static final PropertyFormat NET = PropertyFormat.of()
            .key("name", Schema.string().pattern("[-_.\\w\\d]+").typeText("<string>")
                    .description("Name of the network device as seen from inside the container. (lxc.network.name)"))
            .key("bridge", Schema.string().pattern("[-_.\\w\\d]+").typeText("<bridge>").optional()
                    .description("Bridge to attach the network device to."))
            .key("firewall", Schema.bool().optional().description("Controls whether this interface's firewall rules should be used."))
            .key("gw", Schema.string().pattern(IPV4).typeText("<GatewayIPv4>").optional()
                    .description("Default gateway for IPv4 traffic."))
            .key("gw6", Schema.string().pattern("[0-9a-fA-F:.]+").typeText("<GatewayIPv6>").optional()
                    .description("Default gateway for IPv6 traffic."))
            .key("host-managed", Schema.bool().optional()
                    .description("Whether this interface's IP configuration should be managed by the host."))
            .key("hwaddr", Schema.string().pattern(MAC).typeText("<XX:XX:XX:XX:XX:XX>").optional()
                    .description("The interface MAC address. This is dynamically allocated by default, but you can set that "
                            + "statically if needed, for example to always have the same link-local IPv6 address. (lxc.network.hwaddr)"))
            .key("ip", Schema.string().pattern("dhcp|manual|" + IPV4 + "/(?:[89]|[12]\\d|3[0-2])")
                    .typeText("<(IPv4/CIDR|dhcp|manual)>").optional().description("IPv4 address in CIDR format."))
            .key("ip6", Schema.string().pattern("auto|dhcp|manual|[0-9a-fA-F:.]+/\\d{1,3}")
                    .typeText("<(IPv6/CIDR|auto|dhcp|manual)>").optional().description("IPv6 address in CIDR format."))
            .key("link_down", Schema.bool().optional()
                    .description("Whether this interface should be disconnected (like pulling the plug)."))
            .key("mtu", Schema.integer().minimum(64).maximum(65535).optional()
                    .description("Maximum transfer unit of the interface. (lxc.network.mtu)"))
            .key("rate", Schema.number().minimum(0).typeText("<mbps>").optional().description("Apply rate limiting to the interface"))
            .key("tag", Schema.integer().minimum(1).maximum(4094).optional().description("VLAN tag for this interface."))
            .key("trunks", Schema.string().pattern("\\d+(?:;\\d+)*").typeText("<vlanid[;vlanid...]>").optional()
                    .description("VLAN ids to pass through the interface"))
            .key("type", Schema.string().enumValues("veth").optional().description("Network interface type."));
    public static final PropertyFormat FEATURES = PropertyFormat.of()
            .key("force_rw_sys", Schema.bool().defaultValue(false)
                    .description("Mount /sys in unprivileged containers as `rw` instead of `mixed`."))
            .key("fuse", Schema.bool().defaultValue(false).description("Allow using 'fuse' file systems in a container."))
            .key("keyctl", Schema.bool().defaultValue(false)
                    .description("For unprivileged containers only: Allow the use of the keyctl() system call."))
            .key("mknod", Schema.bool().defaultValue(false)
                    .description("Allow unprivileged containers to use mknod() to add certain device nodes."))
            .key("mount", Schema.string().pattern("[a-zA-Z0-9_; ]+").typeText("<fstype;fstype;...>").optional()
                    .description("Allow mounting file systems of specific types."))
            .key("nesting", Schema.bool().defaultValue(false).description("Allow nesting."));
    public static final PropertyFormat UNUSED = PropertyFormat.of()
            .defaultKey("volume", Schema.string().pattern(VOLUME_ID).typeText("<volume>")
                    .description("The volume that is not used currently."));

    private static final Map<String, Schema> OPTIONS = buildOptions();

    private CtOptions() {}

    private static PropertyFormat mountFormat(boolean mountPoint) {
        PropertyFormat format = PropertyFormat.of()
                .defaultKey("volume", Schema.string().typeText("<volume>")
                        .description("Volume, device or directory to mount into the container."));
        if (mountPoint) {
            format.key("mp", Schema.string().typeText("<Path>")
                    .description("Path to the mount point as seen from inside the container (must not contain symlinks)."));
        }
        format.key("acl", Schema.bool().optional().description("Explicitly enable or disable ACL support."));
        if (mountPoint) {
            format.key("backup", Schema.bool().optional().description("Whether to include the mount point in backups."));
        }
        format.key("idmap", Schema.string()
                .pattern("passthrough|[ug]:[0-9]+:[0-9]+:[1-9][0-9]*(?:;[ug]:[0-9]+:[0-9]+:[1-9][0-9]*)*")
                .typeText("<type:container:disk:range-size[;type:container:disk:range-size;...]>").optional()
                .description("Map specific container UIDs/GIDs to underlying disk UIDs/GIDs for this mount point"));
        if (mountPoint) {
            format.key("keepattrs", Schema.bool().defaultValue(false)
                    .description("Inherit ownership and permissions from the mount point directory."));
        }
        format.key("mountoptions", Schema.string().pattern(MOUNT_OPTION + "(?:;" + MOUNT_OPTION + ")*")
                        .typeText("<opt[;opt...]>").optional().description("Extra mount options for rootfs/mps."))
                .key("quota", Schema.bool().optional()
                        .description("Enable user quotas inside the container (not supported with zfs subvolumes)"))
                .key("replicate", Schema.bool().defaultValue(true).description("Will include this volume to a storage replica job."))
                .key("ro", Schema.bool().optional().description("Read-only mount point"))
                .key("shared", Schema.bool().defaultValue(false)
                        .description("Mark this non-volume mount point as available on multiple nodes (see 'nodes')"))
                .key("size", Schema.string().pattern(DiskSize.PATTERN).typeText("<DiskSize>").optional()
                        .description("Volume size (read only value)."));
        return format;
    }

    private static Map<String, Schema> buildOptions() {
        Map<String, Schema> o = new LinkedHashMap<>();
        o.put("arch", Schema.string().enumValues("amd64", "i386", "arm64", "armhf", "riscv32", "riscv64").defaultValue("amd64")
                .description("OS architecture type."));
        o.put("cmode", Schema.string().enumValues("shell", "console", "tty").defaultValue("tty")
                .description("Console mode. By default, the console command tries to open a connection to one of the available tty "
                        + "devices. By setting cmode to 'console' it tries to attach to /dev/console instead. If you set cmode to "
                        + "'shell', it simply invokes a shell inside the container (no login)."));
        o.put("console", Schema.bool().defaultValue(true).description("Attach a console device (/dev/console) to the container."));
        o.put("cores", Schema.integer().minimum(1).maximum(8192).optional()
                .description("The number of cores assigned to the container. A container can use all available cores by default."));
        o.put("cpulimit", Schema.number().minimum(0).maximum(8192).defaultValue(0)
                .description("Limit of CPU usage. NOTE: If the computer has 2 CPUs, it has a total of '2' CPU time. "
                        + "Value '0' indicates no CPU limit."));
        o.put("cpuunits", Schema.integer().minimum(0).maximum(500000).optional()
                .description("CPU weight for a container, will be clamped to [1, 10000] in cgroup v2 (default: cgroup v1: 1024, cgroup v2: 100)."));
        o.put("debug", Schema.bool().defaultValue(false)
                .description("Try to be more verbose. For now this only enables debug log-level on start."));
        o.put("description", Schema.string().maxLength(8192).multiLine()
                .optional().description("Description for the Container. Shown in the web-interface CT's summary. "
                        + "This is saved as comment inside the configuration file."));
        o.put("entrypoint", Schema.string().pattern("[^\\x00-\\x08\\x0a-\\x1F\\x7F]+").defaultValue("/sbin/init")
                .description("Command to run as init, optionally with arguments; may start with an absolute path, relative path, "
                        + "or a binary in $PATH."));
        o.put("features", Schema.propertyString(FEATURES).optional().description("Allow containers access to advanced features."));
        o.put("hookscript", Schema.string().pattern(VOLUME_ID).typeText("<pve-volume-id>").optional()
                .description("Script that will be executed during various steps in the containers lifetime."));
        o.put("hostname", Schema.string().format(Formats.DNS_NAME).maxLength(255).optional()
                .description("Set a host name for the container."));
        o.put("lock", Schema.string().enumValues("backup", "create", "destroyed", "disk", "fstrim", "migrate", "mounted", "rollback",
                "snapshot", "snapshot-delete").optional().description("Lock/unlock the container."));
        o.put("memory", Schema.integer().minimum(16).defaultValue(512).description("Amount of RAM for the container in MB."));
        o.put("nameserver", Schema.string().format(Formats.IP + "-list").optional()
                .description("Sets DNS server IP address for a container. Create will automatically use the setting from the host "
                        + "if you neither set searchdomain nor nameserver."));
        o.put("onboot", Schema.bool().defaultValue(false)
                .description("Specifies whether a container will be started during system bootup."));
        o.put("ostype", Schema.string().enumValues("debian", "devuan", "ubuntu", "centos", "fedora", "opensuse", "archlinux", "alpine",
                "gentoo", "nixos", "unmanaged").optional()
                .description("OS type. This is used to setup configuration inside the container, and corresponds to lxc setup "
                        + "scripts in /usr/share/lxc/config/<ostype>.common.conf. Value 'unmanaged' can be used to skip and OS "
                        + "specific setup."));
        o.put("protection", Schema.bool().defaultValue(false)
                .description("Sets the protection flag of the container. This will prevent the CT or CT's disk remove/update operation."));
        o.put("rootfs", Schema.propertyString(ROOTFS).optional().description("Use volume as container root."));
        o.put("searchdomain", Schema.string().format(Formats.DNS_NAME + "-list").optional()
                .description("Sets DNS search domains for a container. Create will automatically use the setting from the host if "
                        + "you neither set searchdomain nor nameserver."));
        o.put("startup", Schema.string().pattern(STARTUP_PART + "(?:," + STARTUP_PART + ")*")
                .typeText("[[order=]\\d+] [,up=\\d+] [,down=\\d+] ").optional()
                .description("Startup and shutdown behavior. Order is a non-negative number defining the general startup order. "
                        + "Shutdown in done with reverse ordering. Additionally you can set the 'up' or 'down' delay in seconds, "
                        + "which specifies a delay to wait before the next VM is started or stopped."));
        o.put("swap", Schema.integer().minimum(0).defaultValue(512).description("Amount of SWAP for the container in MB."));
        o.put("tags", Schema.string().pattern(TAG + "(?:[;, ]+" + TAG + ")*[;, ]*").optional()
                .typeText("<pve-tag-list>").description("Tags of the Container. This is only meta information."));
        o.put("template", Schema.bool().defaultValue(false).description("Enable/disable Template."));
        o.put("timezone", Schema.string().format(Formats.TIMEZONE).optional()
                .description("Time zone to use in the container. If option isn't set, then nothing will be done. Can be set to "
                        + "'host' to match the host time zone, or an arbitrary time zone option from /usr/share/zoneinfo/zone.tab"));
        o.put("tty", Schema.integer().minimum(0).maximum(6).defaultValue(2)
                .description("Specify the number of tty available to the container"));
        o.put("unprivileged", Schema.bool().defaultValue(false)
                .description("Makes the container run as unprivileged user. (Should not be modified manually.)"));
        for (int i = 0; i < MAX_NETS; i++) {
            o.put("net" + i, Schema.propertyString(NET).optional().description("Specifies network interfaces for the container."));
        }
        for (int i = 0; i < MAX_MOUNT_POINTS; i++) {
            o.put("mp" + i, Schema.propertyString(MOUNT_POINT).optional()
                    .description("Use volume as container mount point. Use the special syntax STORAGE_ID:SIZE_IN_GiB to allocate a new volume."));
        }
        for (int i = 0; i < MAX_UNUSED; i++) {
            o.put("unused" + i, Schema.propertyString(UNUSED).optional()
                    .description("Reference to unused volumes. This is used internally, and should not be modified manually."));
        }
        return Collections.unmodifiableMap(o);
    }

    /** The schema of every option an API call may set, by name, for a method's parameter list. */
    public static Map<String, Schema> all() {
        return OPTIONS;
    }

    public static boolean isKnown(String key) {
        return OPTIONS.containsKey(key) || key.equals("parent") || key.equals("snaptime") || key.equals("snapstate");
    }

    public static boolean isNet(String key) {
        Matcher m = KEY_INDEX.matcher(key);
        return m.matches() && m.group(1).equals("net") && Integer.parseInt(m.group(2)) < MAX_NETS;
    }

    /** rootfs or mpN. */
    public static boolean isMountPoint(String key) {
        if (key.equals("rootfs")) {
            return true;
        }
        Matcher m = KEY_INDEX.matcher(key);
        return m.matches() && m.group(1).equals("mp") && Integer.parseInt(m.group(2)) < MAX_MOUNT_POINTS;
    }

    public static boolean isUnused(String key) {
        Matcher m = KEY_INDEX.matcher(key);
        return m.matches() && m.group(1).equals("unused") && Integer.parseInt(m.group(2)) < MAX_UNUSED;
    }

    /** The number in {@code net3}, {@code mp12}, {@code unused0}. */
    public static int index(String key) {
        Matcher m = KEY_INDEX.matcher(key);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + key + "' has no index");
        }
        return Integer.parseInt(m.group(2));
    }

    /**
     * What a schema can't check: Proxmox's named formats that core does not know. Answers the
     * error message for a bad value.
     */
    public static Optional<String> check(String key, String value) {
        try {
            if (isNet(key)) {
                NetConfig.parse(key, value).validate();
            } else if (isMountPoint(key)) {
                MountPoint.parse(key, value).validate();
            } else if (key.equals("nameserver")) {
                for (String server : Formats.splitList(value)) {
                    if (Formats.check(Formats.IP, server).isPresent()) {
                        return Optional.of("value does not look like a valid address: " + server);
                    }
                }
            }
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    static boolean isIpv6(String text) {
        if (!text.contains(":") || !text.matches("[0-9a-fA-F:.]+")) {
            return false;
        }
        try {
            return InetAddress.getByName(text) instanceof Inet6Address;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    static boolean isIpv6Cidr(String text) {
        Matcher m = IPV6_CIDR.matcher(text);
        if (!m.matches() || !isIpv6(m.group(1))) {
            return false;
        }
        int prefix = Integer.parseInt(m.group(2));
        return prefix >= 8 && prefix <= 128;
    }
}
