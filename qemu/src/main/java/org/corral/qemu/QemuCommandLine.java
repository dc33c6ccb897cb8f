package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.NetDevice;
import org.corral.qemu.config.PropertyStrings;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmOptions;

/**
 * Turns a VM config into the {@code qemu-system-x86_64} argument list, as qemu-server's
 * {@code config_to_command} does: QMP socket, pidfile and daemonize, CPU and memory, PCI layout
 * with Proxmox's fixed addresses, drives per controller, NICs on taps, VNC, serial and agent
 * sockets, boot order by bootindex. QEMU always starts paused ({@code -S}); the driver continues it
 * once the taps are on their bridges.
 */
public final class QemuCommandLine {
    public static final String QEMU = "qemu-system-x86_64";
    private static final String OVMF_DIR = "/usr/share/OVMF";

    /** Where a drive's volume is for QEMU, and whether its file system takes O_DIRECT. */
    public record ResolvedDrive(String path, String format, boolean directIo) {
        public ResolvedDrive {
            requireNonNull(path, "path is null");
            requireNonNull(format, "format is null");
        }
    }

    /** Finds the volume of a drive; refuses with a message naming the drive. */
    @FunctionalInterface
    public interface DriveResolver {
        ResolvedDrive resolve(Drive drive);
    }

    /**
     * What the start needs beyond the config: a migration stream to load the RAM from
     * ({@code exec:cat FILE}), where OVMF's firmware files are, and the machine type to run
     * instead of the config's (a pinned version, or the one a saved state was taken with).
     */
    public record Options(Optional<String> incoming, Path ovmfDir, Optional<String> machine) {
        public Options {
            requireNonNull(incoming, "incoming is null");
            requireNonNull(ovmfDir, "ovmfDir is null");
            requireNonNull(machine, "machine is null");
        }

        public Options(Optional<String> incoming, Path ovmfDir) {
            this(incoming, ovmfDir, Optional.empty());
        }

        public static Options defaults() {
            return new Options(Optional.empty(), Path.of(OVMF_DIR));
        }

        public Options withIncoming(String uri) {
            return new Options(Optional.of(uri), ovmfDir, machine);
        }

        public Options withMachine(String type) {
            return new Options(incoming, ovmfDir, Optional.of(type));
        }
    }

    private record Slot(int bus, int addr) {}

    private static final Map<String, Slot> SLOTS = slots();

    private final int vmid;
    private final VmConfig config;
    private final VmPaths paths;
    private final DriveResolver resolver;
    private final Options options;
    private final boolean q35;
    private final boolean kvm;
    private final List<String> cmd = new ArrayList<>();
    private final List<String> devices = new ArrayList<>();
    private final Set<Integer> bridges = new TreeSet<>();
    private final Set<String> controllers = new LinkedHashSet<>();

    private QemuCommandLine(int vmid, VmConfig config, VmPaths paths, DriveResolver resolver, Options options) {
        this.vmid = vmid;
        this.config = requireNonNull(config, "config is null");
        this.paths = requireNonNull(paths, "paths is null");
        this.resolver = requireNonNull(resolver, "resolver is null");
        this.options = requireNonNull(options, "options is null");
        this.q35 = machineType().startsWith("q35") || machineType().startsWith("pc-q35");
        this.kvm = config.flag("kvm", true);
    }

    /**
     * The argument list, {@code qemu-system-x86_64} first. Throws IllegalArgumentException naming
     * the option that can't be turned into a command line.
     */
    public static List<String> build(int vmid, VmConfig config, VmPaths paths, DriveResolver resolver, Options options) {
        return new QemuCommandLine(vmid, config, paths, resolver, options).build();
    }

    /** The command line as a shell would take it, as {@code qm showcmd} prints it. */
    public static String shellJoin(List<String> args, boolean pretty) {
        StringBuilder out = new StringBuilder();
        for (String arg : args) {
            if (!out.isEmpty()) {
                out.append(pretty && arg.startsWith("-") ? " \\\n  " : " ");
            }
            out.append(shellQuote(arg));
        }
        return out.toString();
    }

    static String shellQuote(String arg) {
        if (!arg.isEmpty() && arg.matches("[A-Za-z0-9_\\-./:=+@%,]+")) {
            return arg;
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    private List<String> build() {
        cmd.add(QEMU);
        cmd.addAll(List.of("-name", escape(config.get("name").orElse("vm" + vmid)) + ",debug-threads=on"));
        cmd.addAll(List.of("-chardev", "socket,id=qmp,path=" + paths.qmp() + ",server=on,wait=off"));
        cmd.addAll(List.of("-mon", "chardev=qmp,mode=control"));
        cmd.addAll(List.of("-pidfile", paths.pid().toString()));
        cmd.add("-daemonize");
        smbios();
        firmware();
        cpuAndMemory();
        cmd.add("-nodefaults");
        cmd.addAll(List.of("-boot", "menu=on,strict=on,reboot-timeout=1000"));
        boolean display = display();
        if (display) {
            cmd.addAll(List.of("-vnc", "unix:" + paths.vnc() + ",password=on"));
        }
        if (!config.flag("acpi", true)) {
            cmd.add("-no-acpi");
        }
        if (!config.flag("reboot", true)) {
            cmd.add("-no-reboot");
        }
        rtc();
        Map<String, Integer> bootIndex = bootIndexes();
        if (display && config.flag("tablet", true)) {
            if (q35) {
                devices.addAll(List.of("-device", "qemu-xhci,id=xhci" + pci("xhci")));
                devices.addAll(List.of("-device", "usb-tablet,id=tablet,bus=xhci.0,port=1"));
            } else {
                devices.addAll(List.of("-device", "piix3-usb-uhci,id=uhci,bus=pci.0,addr=0x1.0x2"));
                devices.addAll(List.of("-device", "usb-tablet,id=tablet,bus=uhci.0,port=1"));
            }
        }
        if (display) {
            devices.addAll(List.of("-device", vgaDevice()));
        }
        agent();
        serials();
        if (config.get("balloon").map(b -> !b.equals("0")).orElse(true)) {
            devices.addAll(List.of("-device", "virtio-balloon-pci,id=balloon0" + pci("balloon0") + ",free-page-reporting=on"));
        }
        config.get("rng0").ifPresent(this::rng);
        config.get("watchdog").ifPresent(this::watchdog);
        config.get("vmgenid").filter(v -> !v.equals("0") && !v.equals("1"))
                .ifPresent(v -> devices.addAll(List.of("-device", "vmgenid,guid=" + v)));
        drives(bootIndex);
        nets(bootIndex);
        bridgeDevices();
        cmd.addAll(devices);
        cmd.addAll(List.of("-machine", "type=" + machineType() + machineFlags()));
        cmd.addAll(List.of("-accel", kvm ? "kvm" : "tcg"));
        options.incoming().ifPresent(uri -> cmd.addAll(List.of("-incoming", uri)));
        cmd.add("-S");
        config.get("args").ifPresent(args -> cmd.addAll(splitArgs(args)));
        return List.copyOf(cmd);
    }

    private String machineType() {
        return options.machine().orElseGet(() -> machineType(config));
    }

    /** The config's machine type ({@code pc}, {@code q35}, {@code pc-i440fx-7.1}) as Debian's QEMU names it. */
    public static String machineType(VmConfig config) {
        return debianMachine(config.get("machine").map(m -> PropertyStrings.parse(VmOptions.MACHINE, m).getOrDefault("type", "pc"))
                .orElse("pc"));
    }

    /** A Proxmox machine type as Debian's QEMU knows it, which has no {@code +pveN} versions. */
    public static String debianMachine(String type) {
        return type.replaceAll("\\+pve\\d+", "").replace(".pxe", "");
    }

    private String machineFlags() {
        Map<String, String> machine = config.get("machine").map(m -> PropertyStrings.parse(VmOptions.MACHINE, m)).orElse(Map.of());
        StringBuilder flags = new StringBuilder();
        if ("intel".equals(machine.get("viommu")) && q35) {
            flags.append(",kernel-irqchip=split");
        }
        return flags.toString();
    }

    private void smbios() {
        config.get("smbios1").ifPresent(value -> {
            Map<String, String> smbios = PropertyStrings.parse(VmOptions.SMBIOS1, value);
            boolean base64 = "1".equals(smbios.get("base64"));
            StringBuilder arg = new StringBuilder("type=1");
            for (String key : List.of("uuid", "manufacturer", "product", "version", "serial", "sku", "family")) {
                String v = smbios.get(key);
                if (v != null) {
                    if (base64 && !key.equals("uuid")) {
                        v = new String(java.util.Base64.getDecoder().decode(v), java.nio.charset.StandardCharsets.UTF_8);
                    }
                    arg.append(',').append(key).append('=').append(escape(v));
                }
            }
            cmd.addAll(List.of("-smbios", arg.toString()));
        });
    }

    private void firmware() {
        if (!"ovmf".equals(config.get("bios").orElse("seabios"))) {
            return;
        }
        Optional<Drive> efidisk = config.get("efidisk0").map(v -> Drive.parse("efidisk0", v));
        String efitype = efidisk.flatMap(d -> d.get("efitype")).orElse("2m");
        Path code = options.ovmfDir().resolve(efitype.equals("4m") ? "OVMF_CODE_4M.fd" : "OVMF_CODE.fd");
        if (!java.nio.file.Files.exists(code)) {
            throw new IllegalArgumentException("bios: OVMF firmware '" + code + "' is not installed (Debian package ovmf)");
        }
        cmd.addAll(List.of("-drive", "if=pflash,unit=0,format=raw,readonly=on,file=" + escape(code.toString())));
        if (efidisk.isPresent()) {
            ResolvedDrive vars = resolver.resolve(efidisk.get());
            cmd.addAll(List.of("-drive", "if=pflash,unit=1,id=drive-efidisk0,format=" + vars.format() + ",file=" + escape(vars.path())));
        }
    }

    private void cpuAndMemory() {
        int sockets = config.sockets();
        int cores = config.cores();
        int max = sockets * cores;
        int vcpus = config.vcpus();
        if (vcpus > max) {
            throw new IllegalArgumentException("vcpus: maximum " + max + " (sockets * cores), got " + vcpus);
        }
        cmd.addAll(List.of("-smp", vcpus + ",sockets=" + sockets + ",cores=" + cores + ",maxcpus=" + max));
        cmd.addAll(List.of("-cpu", cpu()));
        long memory = config.memoryMiB();
        cmd.addAll(List.of("-m", Long.toString(memory)));
        if (config.flag("numa", false)) {
            long perNode = memory / sockets;
            for (int node = 0; node < sockets; node++) {
                int first = node * cores;
                String cpus = cores == 1 ? Integer.toString(first) : first + "-" + (first + cores - 1);
                cmd.addAll(List.of("-object", "memory-backend-ram,id=ram-node" + node + ",size=" + perNode + "M"));
                cmd.addAll(List.of("-numa", "node,nodeid=" + node + ",cpus=" + cpus + ",memdev=ram-node" + node));
            }
        }
    }

    /** Proxmox's CPU models on Debian's QEMU; the x86-64-vN levels are qemu64 plus their flags. */
    private String cpu() {
        Map<String, String> cpu = config.get("cpu").map(c -> PropertyStrings.parse(VmOptions.CPU, c)).orElse(Map.of());
        String type = cpu.getOrDefault("cputype", "kvm64");
        if (type.equals("host") && !kvm) {
            throw new IllegalArgumentException("cpu: type 'host' needs KVM, but this VM has 'kvm: 0'");
        }
        List<String> flags = new ArrayList<>();
        String model = switch (type) {
            case "x86-64-v2" -> {
                flags.addAll(List.of("+cx16", "+lahf_lm", "+popcnt", "+sse4.1", "+sse4.2", "+ssse3"));
                yield "qemu64";
            }
            case "x86-64-v2-AES" -> {
                flags.addAll(List.of("+aes", "+cx16", "+lahf_lm", "+popcnt", "+sse4.1", "+sse4.2", "+ssse3"));
                yield "qemu64";
            }
            case "x86-64-v3" -> {
                flags.addAll(List.of("+aes", "+avx", "+avx2", "+bmi1", "+bmi2", "+cx16", "+f16c", "+fma", "+lahf_lm", "+movbe",
                        "+popcnt", "+sse4.1", "+sse4.2", "+ssse3", "+xsave"));
                yield "qemu64";
            }
            default -> type;
        };
        if (type.equals("kvm64") || type.equals("qemu64")) {
            addFlag(flags, "+lahf_lm");
            addFlag(flags, "+sep");
        }
        if (kvm && !type.equals("host")) {
            addFlag(flags, "+kvm_pv_eoi");
            addFlag(flags, "+kvm_pv_unhalt");
        }
        Optional.ofNullable(cpu.get("flags")).ifPresent(f -> {
            for (String flag : f.split(";")) {
                flags.remove("+" + flag.substring(1));
                flags.remove("-" + flag.substring(1));
                flags.add(flag);
            }
        });
        if ("1".equals(cpu.get("hidden"))) {
            flags.add("kvm=off");
        }
        Optional.ofNullable(cpu.get("phys-bits")).ifPresent(bits ->
                flags.add(bits.equals("host") ? "host-phys-bits=true" : "phys-bits=" + bits));
        StringBuilder out = new StringBuilder(model);
        flags.stream().sorted(QemuCommandLine::flagOrder).forEach(f -> out.append(',').append(f));
        return out.toString();
    }

    private static int flagOrder(String a, String b) {
        return a.replaceFirst("^[+-]", "").compareTo(b.replaceFirst("^[+-]", ""));
    }

    private static void addFlag(List<String> flags, String flag) {
        if (!flags.contains(flag)) {
            flags.add(flag);
        }
    }

    private void rtc() {
        boolean windows = config.get("ostype").map(o -> o.startsWith("w")).orElse(false);
        Optional<String> startdate = config.get("startdate").filter(d -> !d.equals("now"));
        if (startdate.isPresent()) {
            cmd.addAll(List.of("-rtc", "base=" + startdate.get()));
        } else if (config.flag("localtime", windows)) {
            cmd.addAll(List.of("-rtc", windows ? "driftfix=slew,base=localtime" : "base=localtime"));
        }
    }

    private String vgaType() {
        return config.get("vga").map(v -> PropertyStrings.parse(VmOptions.VGA, v).getOrDefault("type", "std")).orElse("std");
    }

    private boolean display() {
        String type = vgaType();
        return !type.equals("none") && !type.startsWith("serial");
    }

    private String vgaDevice() {
        Map<String, String> vga = config.get("vga").map(v -> PropertyStrings.parse(VmOptions.VGA, v)).orElse(Map.of());
        String type = vga.getOrDefault("type", "std");
        String model = switch (type) {
            case "cirrus" -> "cirrus-vga";
            case "vmware" -> "vmware-svga";
            case "qxl", "qxl2", "qxl3", "qxl4" -> "qxl-vga";
            case "virtio" -> "virtio-vga";
            case "virtio-gl" -> "virtio-vga-gl";
            default -> "VGA";
        };
        StringBuilder device = new StringBuilder(model).append(",id=vga");
        device.append(q35 ? ",bus=pcie.0,addr=0x1" : pci("vga"));
        Optional.ofNullable(vga.get("memory")).ifPresent(mb -> device.append(model.equals("qxl-vga") ? ",vram_size_mb=" : ",vgamem_mb=").append(mb));
        return device.toString();
    }

    private void agent() {
        Optional<Map<String, String>> agent = config.get("agent").map(a -> PropertyStrings.parse(VmOptions.AGENT, a));
        if (agent.isEmpty() || !"1".equals(agent.get().get("enabled"))) {
            return;
        }
        cmd.addAll(List.of("-chardev", "socket,path=" + paths.agent() + ",server=on,wait=off,id=qga0"));
        if ("isa".equals(agent.get().get("type"))) {
            devices.addAll(List.of("-device", "isa-serial,chardev=qga0"));
        } else {
            devices.addAll(List.of("-device", "virtio-serial,id=qga0" + pci("qga0")));
            devices.addAll(List.of("-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0"));
        }
    }

    private void serials() {
        for (int i = 0; i < VmOptions.MAX_SERIAL; i++) {
            Optional<String> serial = config.get("serial" + i);
            if (serial.isEmpty()) {
                continue;
            }
            if (serial.get().equals("socket")) {
                cmd.addAll(List.of("-chardev", "socket,id=serial" + i + ",path=" + paths.serial(i) + ",server=on,wait=off"));
            } else {
                cmd.addAll(List.of("-chardev", "serial,id=serial" + i + ",path=" + serial.get()));
            }
            devices.addAll(List.of("-device", "isa-serial,chardev=serial" + i));
        }
    }

    /** The watchdog device; i6300esb sits on Proxmox's PCI slot for it, ib700 is an ISA device. */
    private void watchdog(String value) {
        Map<String, String> watchdog = PropertyStrings.parse(VmOptions.WATCHDOG, value);
        String model = watchdog.getOrDefault("model", "i6300esb");
        devices.addAll(List.of("-device", model.equals("ib700") ? "ib700,id=watchdog" : model + ",id=watchdog" + pci("watchdog")));
        Optional.ofNullable(watchdog.get("action")).ifPresent(action -> cmd.addAll(List.of("-action", "watchdog=" + action)));
    }

    private void rng(String value) {
        Map<String, String> rng = PropertyStrings.parse(VmOptions.RNG, value);
        cmd.addAll(List.of("-object", "rng-random,filename=" + rng.get("source") + ",id=rng0"));
        StringBuilder device = new StringBuilder("virtio-rng-pci,rng=rng0");
        Optional.ofNullable(rng.get("max_bytes")).ifPresent(v -> device.append(",max-bytes=").append(v));
        Optional.ofNullable(rng.get("period")).ifPresent(v -> device.append(",period=").append(v));
        devices.addAll(List.of("-device", device + pci("rng0")));
    }

    /** Boot devices in order, each with its bootindex (100, 101, ...). */
    private Map<String, Integer> bootIndexes() {
        Map<String, Integer> indexes = new LinkedHashMap<>();
        List<String> order = bootOrder(config);
        for (int i = 0; i < order.size(); i++) {
            indexes.put(order.get(i), 100 + i);
        }
        return indexes;
    }

    /** The devices {@code boot} names, or the legacy {@code cdn} order (boot disk, cdroms, NICs). */
    public static List<String> bootOrder(VmConfig config) {
        Map<String, String> boot = config.get("boot").map(b -> PropertyStrings.parse(VmOptions.BOOT, b)).orElse(Map.of());
        if (boot.containsKey("order")) {
            List<String> order = new ArrayList<>();
            for (String device : boot.get("order").split(";")) {
                if (config.has(device) && !order.contains(device)) {
                    order.add(device);
                }
            }
            return order;
        }
        String legacy = boot.getOrDefault("legacy", "cdn");
        List<String> order = new ArrayList<>();
        Map<String, Drive> drives = config.drives();
        for (char c : legacy.toCharArray()) {
            switch (c) {
                case 'c' -> {
                    Optional<String> disk = config.get("bootdisk").filter(drives::containsKey)
                            .or(() -> drives.values().stream().filter(d -> !d.isCdrom() && !d.key().startsWith("efidisk")
                                    && !d.key().startsWith("tpmstate")).map(Drive::key).findFirst());
                    disk.ifPresent(order::add);
                }
                case 'd' -> drives.values().stream().filter(d -> d.isCdrom() && !d.isCloudInit()).forEach(d -> order.add(d.key()));
                case 'n' -> config.nets().forEach(n -> order.add(n.key()));
                default -> { }
            }
        }
        return order;
    }

    private void drives(Map<String, Integer> bootIndex) {
        String scsihw = config.get("scsihw").orElse("lsi");
        for (Drive drive : config.drives().values()) {
            if (drive.bus().equals("efidisk") || drive.bus().equals("tpmstate")) {
                continue;
            }
            cmd.addAll(List.of("-drive", driveArg(drive)));
            String device = switch (drive.bus()) {
                case "ide" -> ideDevice(drive);
                case "sata" -> sataDevice(drive);
                case "scsi" -> scsiDevice(drive, scsihw);
                case "virtio" -> virtioDevice(drive);
                default -> throw new IllegalArgumentException(drive.key() + ": unsupported drive bus");
            };
            StringBuilder dev = new StringBuilder(device);
            drive.get("serial").ifPresent(s -> dev.append(",serial=").append(escape(s)));
            drive.get("wwn").ifPresent(w -> dev.append(",wwn=").append(w.startsWith("0x") ? w : "0x" + w));
            Integer index = bootIndex.get(drive.key());
            if (index != null) {
                dev.append(",bootindex=").append(index);
            }
            devices.addAll(List.of("-device", dev.toString()));
        }
    }

    private String driveArg(Drive drive) {
        StringBuilder arg = new StringBuilder();
        String id = "drive-" + drive.key();
        if (drive.isNone()) {
            return "if=none,id=" + id + ",media=cdrom";
        }
        ResolvedDrive resolved = drive.isHostCdrom() ? new ResolvedDrive("/dev/cdrom", "raw", false)
                : drive.isPath() ? new ResolvedDrive(drive.file(), drive.get("format").orElse("raw"), true)
                : resolver.resolve(drive);
        arg.append("file=").append(escape(resolved.path())).append(",if=none,id=").append(id);
        if (drive.isCdrom()) {
            arg.append(",media=cdrom");
        }
        arg.append(",format=").append(drive.get("format").orElse(resolved.format()));
        if (!drive.isCdrom()) {
            String cache = drive.get("cache").orElse(resolved.directIo() ? "none" : "writeback");
            arg.append(",cache=").append(cache);
        }
        drive.get("aio").ifPresent(aio -> arg.append(",aio=").append(aio));
        if (!drive.isCdrom()) {
            drive.get("discard").ifPresent(d -> arg.append(",discard=").append(d));
            if (drive.flag("detect_zeroes", true)) {
                arg.append(",detect-zeroes=").append("on".equals(drive.get("discard").orElse("")) ? "unmap" : "on");
            }
        }
        drive.get("rerror").ifPresent(e -> arg.append(",rerror=").append(e));
        drive.get("werror").ifPresent(e -> arg.append(",werror=").append(e));
        if (drive.flag("ro", false)) {
            arg.append(",readonly=on");
        }
        if (drive.flag("snapshot", false)) {
            arg.append(",snapshot=on");
        }
        throttle(drive).forEach((key, value) -> arg.append(",throttling.").append(key).append('=').append(value));
        return arg.toString();
    }

    /** The drive's bandwidth and IOPS limits as QEMU throttling options (MB/s become bytes). */
    public static Map<String, Long> throttle(Drive drive) {
        Map<String, Long> out = new LinkedHashMap<>();
        String[][] table = {
            {"bps", "bps-total"}, {"bps_rd", "bps-read"}, {"bps_wr", "bps-write"},
            {"mbps", "bps-total"}, {"mbps_rd", "bps-read"}, {"mbps_wr", "bps-write"},
            {"mbps_max", "bps-total-max"}, {"mbps_rd_max", "bps-read-max"}, {"mbps_wr_max", "bps-write-max"},
            {"bps_max_length", "bps-total-max-length"}, {"bps_rd_max_length", "bps-read-max-length"},
            {"bps_wr_max_length", "bps-write-max-length"},
            {"iops", "iops-total"}, {"iops_rd", "iops-read"}, {"iops_wr", "iops-write"},
            {"iops_max", "iops-total-max"}, {"iops_rd_max", "iops-read-max"}, {"iops_wr_max", "iops-write-max"},
            {"iops_max_length", "iops-total-max-length"}, {"iops_rd_max_length", "iops-read-max-length"},
            {"iops_wr_max_length", "iops-write-max-length"},
        };
        for (String[] row : table) {
            Optional<String> value = drive.get(row[0]);
            if (value.isEmpty()) {
                continue;
            }
            long v = row[0].startsWith("mbps")
                    ? new java.math.BigDecimal(value.get()).multiply(java.math.BigDecimal.valueOf(1024 * 1024)).longValue()
                    : Long.parseLong(value.get());
            if (v > 0) {
                out.put(row[1], v);
            }
        }
        return out;
    }

    private String ideDevice(Drive drive) {
        String model = drive.isCdrom() ? "ide-cd" : "ide-hd";
        String bus = q35 ? "ide." + drive.index() + ",unit=0" : "ide." + drive.index() / 2 + ",unit=" + drive.index() % 2;
        StringBuilder dev = new StringBuilder(model + ",bus=" + bus + ",drive=drive-" + drive.key() + ",id=" + drive.key());
        drive.get("model").ifPresent(m -> dev.append(",model=").append(escape(java.net.URLDecoder.decode(m, java.nio.charset.StandardCharsets.UTF_8))));
        if (!drive.isCdrom() && drive.flag("ssd", false)) {
            dev.append(",rotation_rate=1");
        }
        return dev.toString();
    }

    private String sataDevice(Drive drive) {
        if (controllers.add("ahci0")) {
            devices.addAll(List.of("-device", "ahci,id=ahci0,multifunction=on" + pci("ahci0")));
        }
        String model = drive.isCdrom() ? "ide-cd" : "ide-hd";
        StringBuilder dev = new StringBuilder(model + ",bus=ahci0." + drive.index() + ",drive=drive-" + drive.key() + ",id=" + drive.key());
        if (!drive.isCdrom() && drive.flag("ssd", false)) {
            dev.append(",rotation_rate=1");
        }
        return dev.toString();
    }

    private String scsiDevice(Drive drive, String scsihw) {
        String bus;
        String model = drive.isCdrom() ? "scsi-cd" : "scsi-hd";
        if (scsihw.equals("virtio-scsi-single")) {
            String controller = "virtioscsi" + drive.index();
            StringBuilder ctrl = new StringBuilder("virtio-scsi-pci,id=" + controller + pci(controller));
            if (drive.flag("iothread", false)) {
                cmd.addAll(List.of("-object", "iothread,id=iothread-" + controller));
                ctrl.append(",iothread=iothread-").append(controller);
            }
            drive.get("queues").ifPresent(q -> ctrl.append(",num_queues=").append(q));
            devices.addAll(List.of("-device", ctrl.toString()));
            bus = "bus=" + controller + ".0,channel=0,scsi-id=0,lun=0";
        } else if (scsihw.equals("virtio-scsi-pci")) {
            if (controllers.add("scsihw0")) {
                StringBuilder ctrl = new StringBuilder("virtio-scsi-pci,id=scsihw0" + pci("scsihw0"));
                if (config.drives().values().stream().anyMatch(d -> d.bus().equals("scsi") && d.flag("iothread", false))) {
                    cmd.addAll(List.of("-object", "iothread,id=iothread-scsihw0"));
                    ctrl.append(",iothread=iothread-scsihw0");
                }
                devices.addAll(List.of("-device", ctrl.toString()));
            }
            bus = "bus=scsihw0.0,channel=0,scsi-id=0,lun=" + drive.index();
        } else {
            int perController = scsihw.equals("megasas") || scsihw.equals("pvscsi") ? 16 : 7;
            int controller = drive.index() / perController;
            if (controller > 1) {
                throw new IllegalArgumentException(drive.key() + ": controller '" + scsihw + "' holds at most " + 2 * perController + " disks");
            }
            String id = "scsihw" + controller;
            if (controllers.add(id)) {
                String type = switch (scsihw) {
                    case "lsi53c810" -> "lsi53c810";
                    case "megasas" -> "megasas";
                    case "pvscsi" -> "pvscsi";
                    default -> "lsi53c895a";
                };
                devices.addAll(List.of("-device", type + ",id=" + id + pci(id)));
            }
            bus = "bus=" + id + ".0,scsi-id=" + drive.index() % perController;
        }
        StringBuilder dev = new StringBuilder(model + "," + bus + ",drive=drive-" + drive.key() + ",id=" + drive.key());
        if (!drive.isCdrom() && drive.flag("ssd", false)) {
            dev.append(",rotation_rate=1");
        }
        drive.get("product").ifPresent(p -> dev.append(",product=").append(escape(p)));
        drive.get("vendor").ifPresent(v -> dev.append(",vendor=").append(escape(v)));
        return dev.toString();
    }

    private String virtioDevice(Drive drive) {
        StringBuilder dev = new StringBuilder("virtio-blk-pci,drive=drive-" + drive.key() + ",id=" + drive.key() + pci(drive.key()));
        if (drive.flag("iothread", false)) {
            cmd.addAll(List.of("-object", "iothread,id=iothread-" + drive.key()));
            dev.append(",iothread=iothread-").append(drive.key());
        }
        return dev.toString();
    }

    private void nets(Map<String, Integer> bootIndex) {
        for (NetDevice net : config.nets()) {
            String id = net.key();
            StringBuilder netdev = new StringBuilder();
            if (net.bridge().isPresent()) {
                netdev.append("type=tap,id=").append(id).append(",ifname=").append(net.tapName(vmid)).append(",script=no,downscript=no");
                if (kvm && net.model().equals("virtio")) {
                    netdev.append(",vhost=on");
                }
            } else {
                // no bridge: user-mode networking, as Proxmox does
                netdev.append("type=user,id=").append(id).append(",hostname=").append(escape(config.get("name").orElse("vm" + vmid)));
            }
            int queues = net.get("queues").map(Integer::parseInt).orElse(0);
            if (queues > 1 && net.bridge().isPresent()) {
                netdev.append(",queues=").append(queues);
            }
            cmd.addAll(List.of("-netdev", netdev.toString()));
            String model = switch (net.model()) {
                case "virtio" -> "virtio-net-pci";
                default -> net.model();
            };
            StringBuilder dev = new StringBuilder(model);
            net.mac().ifPresent(mac -> dev.append(",mac=").append(mac));
            dev.append(",netdev=").append(id);
            if (!model.equals("ne2k_isa")) {
                dev.append(pci(id));
            }
            dev.append(",id=").append(id);
            if (model.equals("virtio-net-pci")) {
                dev.append(",rx_queue_size=1024,tx_queue_size=256");
                if (queues > 1) {
                    dev.append(",mq=on,vectors=").append(2 * queues + 2);
                }
                net.get("mtu").ifPresent(mtu -> {
                    if (!mtu.equals("1")) {
                        dev.append(",host_mtu=").append(mtu);
                    }
                });
            }
            Integer index = bootIndex.get(id);
            if (index != null) {
                dev.append(",bootindex=").append(index);
            }
            devices.addAll(List.of("-device", dev.toString()));
        }
    }

    /** {@code ,bus=pci.N,addr=0xHH} at the device's fixed Proxmox slot. */
    private String pci(String id) {
        Slot slot = SLOTS.get(id);
        if (slot == null) {
            throw new IllegalArgumentException("no PCI slot for device '" + id + "'");
        }
        if (slot.bus() > 0 || q35) {
            bridges.add(slot.bus());
        }
        return ",bus=pci." + slot.bus() + ",addr=0x" + Integer.toHexString(slot.addr());
    }

    private void bridgeDevices() {
        List<String> out = new ArrayList<>();
        if (q35) {
            bridges.add(0);
            out.addAll(List.of("-device", "i82801b11-bridge,id=pcidmi,bus=pcie.0,addr=0x1e"));
            for (int bus : bridges) {
                if (bus < 3) {
                    out.addAll(List.of("-device", "pci-bridge,id=pci." + bus + ",chassis_nr=" + (bus + 1) + ",bus=pcidmi,addr=0x" + (bus + 1)));
                }
            }
            if (bridges.contains(3)) {
                out.addAll(List.of("-device", "pci-bridge,id=pci.3,chassis_nr=4,bus=pci.0,addr=0x5"));
            }
        } else {
            for (int bus : bridges) {
                switch (bus) {
                    case 1 -> out.addAll(List.of("-device", "pci-bridge,id=pci.1,chassis_nr=1,bus=pci.0,addr=0x1e"));
                    case 2 -> out.addAll(List.of("-device", "pci-bridge,id=pci.2,chassis_nr=2,bus=pci.0,addr=0x1f"));
                    case 3 -> out.addAll(List.of("-device", "pci-bridge,id=pci.3,chassis_nr=3,bus=pci.0,addr=0x5"));
                    default -> { }
                }
            }
        }
        devices.addAll(0, out);
    }

    private static Map<String, Slot> slots() {
        Map<String, Slot> s = new LinkedHashMap<>();
        s.put("vga", new Slot(0, 2));
        s.put("balloon0", new Slot(0, 3));
        s.put("watchdog", new Slot(0, 4));
        s.put("scsihw0", new Slot(0, 5));
        s.put("scsihw1", new Slot(0, 6));
        s.put("ahci0", new Slot(0, 7));
        s.put("qga0", new Slot(0, 8));
        for (int i = 0; i < 6; i++) {
            s.put("virtio" + i, new Slot(0, 10 + i));
            s.put("net" + i, new Slot(0, 18 + i));
        }
        s.put("xhci", new Slot(0, 27));
        for (int i = 6; i < VmOptions.MAX_NETS; i++) {
            s.put("net" + i, new Slot(1, i - 5));
        }
        s.put("rng0", new Slot(1, 29));
        for (int i = 6; i < VmOptions.MAX_VIRTIO; i++) {
            s.put("virtio" + i, new Slot(2, i - 5));
        }
        for (int i = 0; i < VmOptions.MAX_SCSI; i++) {
            s.put("virtioscsi" + i, new Slot(3, i + 1));
        }
        return Map.copyOf(s);
    }

    /** QEMU option values double their commas. */
    static String escape(String value) {
        return value.replace(",", ",,");
    }

    /** Splits {@code args} as a shell would (quotes, backslashes), as Proxmox's split_args. */
    public static List<String> splitArgs(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < text.length()) {
                    current.append(text.charAt(++i));
                } else {
                    current.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (c == '\\' && i + 1 < text.length()) {
                current.append(text.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    out.add(current.toString());
                    current.setLength(0);
                    inWord = false;
                }
            } else {
                current.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("args: unterminated quote");
        }
        if (inWord) {
            out.add(current.toString());
        }
        return out;
    }
}
