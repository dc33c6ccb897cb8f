package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.corral.core.api.ApiRequest;
import org.corral.core.config.Digest;
import org.corral.core.error.ApiException;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.json.Json;
import org.corral.core.process.ProcessRunner;
import org.corral.core.schema.Schema;
import org.corral.core.task.TaskContext;
import org.corral.core.task.TaskManager;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.MacAddresses;
import org.corral.qemu.config.NetDevice;
import org.corral.qemu.config.PropertyStrings;
import org.corral.qemu.config.Sizes;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmOptions;
import org.corral.qemu.disk.Volumes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Creates, changes and destroys VM configs the way qemu-server's create_vm, update_vm and
 * destroy_vm do: values checked and normalized (MACs generated, passwords hashed, new disks
 * allocated), changes to a running VM kept in {@code [PENDING]} unless they apply at once, and
 * every multi-step change undone when a later step fails.
 */
public final class VmEditor {
    private static final Logger log = LoggerFactory.getLogger(VmEditor.class);
    /** Options a running VM takes at once, as qemu-server's fast_plug_option. */
    static final Set<String> FAST_PLUG = Set.of("lock", "name", "onboot", "shares", "startup", "description", "protection",
            "vmstatestorage", "hookscript", "tags");
    /** Options a running VM takes at once in its cgroup, as qemu-server's hotplug of cpulimit and cpuunits. */
    static final Set<String> CGROUP_PLUG = Set.of("cpulimit", "cpuunits");
    static final String MASKED = "**********";
    private static final long CLOUDINIT_SIZE = 4 * Sizes.MIB;
    private static final java.time.Duration UNPLUG_TIMEOUT = java.time.Duration.ofSeconds(30);

    private final VmConfigs configs;
    private final QemuDriver driver;
    private final Volumes volumes;
    private final HostNetwork network;
    private final TaskManager tasks;
    private final Clock clock;
    private final Path ovmfDir;
    private final MacAddresses macs = new MacAddresses();
    private final VmHotplug hotplug;

    public VmEditor(VmConfigs configs, QemuDriver driver, Volumes volumes, HostNetwork network, TaskManager tasks, Clock clock,
            Path ovmfDir) {
        this.configs = requireNonNull(configs, "configs is null");
        this.driver = requireNonNull(driver, "driver is null");
        this.volumes = requireNonNull(volumes, "volumes is null");
        this.network = requireNonNull(network, "network is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.ovmfDir = requireNonNull(ovmfDir, "ovmfDir is null");
        this.hotplug = new VmHotplug(driver, network, UNPLUG_TIMEOUT);
    }

    // ---- checks and normalization

    /**
     * Checks and normalizes new option values against {@code base} (the config they change):
     * collects every problem as a ParameterError naming the option.
     */
    Map<String, String> normalize(int vmid, Map<String, String> values, VmConfig base) {
        Map<String, String> errors = new LinkedHashMap<>();
        Map<String, String> out = new TreeMap<>();
        values.forEach((key, value) -> {
            try {
                out.put(key, normalize(vmid, key, value, base));
            } catch (ParameterError e) {
                errors.putAll(e.errors());
            } catch (IllegalArgumentException | ApiException e) {
                errors.put(key, e.getMessage());
            }
        });
        VmConfig merged = base.withOptions(merge(base.options(), out));
        checkCombination(merged, out.keySet(), errors);
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        return out;
    }

    private static Map<String, String> merge(Map<String, String> base, Map<String, String> changes) {
        Map<String, String> merged = new TreeMap<>(base);
        merged.putAll(changes);
        return merged;
    }

    private String normalize(int vmid, String key, String value, VmConfig base) {
        if (VmOptions.isDrive(key)) {
            Drive drive = Drive.parse(key, value);
            if (drive.isNewDisk()) {
                volumes.checkStorage(drive.storage().orElseThrow());
                drive.get("format").filter(f -> !List.of("raw", "qcow2", "vmdk").contains(f)).ifPresent(f -> {
                    throw new IllegalArgumentException("new disks can't have format '" + f + "' (raw, qcow2 or vmdk)");
                });
                Optional<String> source = drive.get("import-from");
                if (source.isPresent()) {
                    imageInfo(importSource(source.get()));
                }
                if (Drive.NEW_CLOUDINIT.matcher(drive.file()).matches() && !drive.isCdrom()) {
                    drive = drive.with("media", "cdrom");
                }
            } else if (drive.isVolume()) {
                Path path = volumes.path(drive.file());
                if (!Files.exists(path)) {
                    throw new IllegalArgumentException("volume '" + drive.file() + "' does not exist");
                }
                if (volumes.isIso(drive.file()) && !drive.isCdrom()) {
                    throw new IllegalArgumentException("ISO image '" + drive.file() + "' needs media=cdrom");
                }
                String content = volumes.content(drive.file());
                if (!List.of("images", "iso").contains(content)) {
                    throw new IllegalArgumentException("cannot use volume " + drive.file() + " - content type needs to be 'images' or 'iso'");
                }
                // as qemu-server's create_disks: an existing volume's size comes from its storage
                if (!drive.isCloudInit()) {
                    drive = drive.with("size", Sizes.format(volumes.size(drive.file())));
                }
            } else if (drive.isPath()) {
                Path path = Path.of(drive.file());
                try {
                    if (Files.isRegularFile(path)) {
                        drive = drive.with("size", Sizes.format(Files.size(path)));
                    }
                } catch (java.io.IOException e) {
                    throw new IllegalArgumentException("cannot read the size of '" + path + "': " + e.getMessage());
                }
            }
            return drive.print();
        }
        if (VmOptions.isNet(key)) {
            NetDevice net = NetDevice.parse(key, value);
            if (net.mac().isEmpty()) {
                Optional<String> old = base.get(key).map(v -> NetDevice.parse(key, v)).flatMap(NetDevice::mac);
                net = net.with("macaddr", old.orElseGet(() -> macs.generate(configs.macPrefix())));
            }
            network.checkBridge(key, net);
            return net.print();
        }
        if (VmOptions.isUnused(key)) {
            volumes.path(value);
            return value;
        }
        return switch (key) {
            case "cipassword" -> ShaCrypt.isHash(value) ? value : ShaCrypt.hash(value);
            case "sshkeys" -> sshKeys(value);
            case "vmgenid" -> value.equals("1") ? UUID.randomUUID().toString() : value;
            case "tags" -> tags(value);
            case "memory" -> PropertyStrings.print(VmOptions.MEMORY, PropertyStrings.parse(VmOptions.MEMORY, value));
            case "agent", "boot", "cpu", "vga", "smbios1", "startup", "cicustom", "machine", "meta", "rng0", "efidisk0", "watchdog" ->
                PropertyStrings.print(VmOptions.find(key).orElseThrow().schema().propertyFormat().orElseThrow(),
                        PropertyStrings.parse(VmOptions.find(key).orElseThrow().schema().propertyFormat().orElseThrow(), value));
            default -> {
                if (key.startsWith("ipconfig")) {
                    yield PropertyStrings.print(VmOptions.IPCONFIG, PropertyStrings.parse(VmOptions.IPCONFIG, value));
                }
                Schema schema = VmOptions.find(key).orElseThrow(() -> new IllegalArgumentException("unknown option")).schema();
                if (schema.type() == Schema.Type.BOOLEAN) {
                    yield VmConfig.of(Map.of(key, value)).flag(key, false) ? "1" : "0";
                }
                yield value;
            }
        };
    }

    /**
     * What an {@code import-from} source names: a volume of {@code images} or {@code import}
     * content, read in the format its name gives, or an absolute path (only root may give one,
     * see VmPermissions), whose format qemu-img probes.
     */
    record ImportSource(String source, Path path, Optional<String> format) {}

    ImportSource importSource(String source) {
        Path path;
        Optional<String> format;
        if (source.startsWith("/")) {
            if (Path.of(source).normalize().toString().length() != source.length() || source.contains("/./")) {
                throw new IllegalArgumentException("import-from: '" + source + "' is not a normalized absolute path");
            }
            path = Path.of(source);
            format = Optional.empty();
        } else {
            String content;
            try {
                content = volumes.content(source);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("import-from: " + e.getMessage());
            }
            if (!List.of("images", "import").contains(content)) {
                throw new IllegalArgumentException("import-from: '" + source + "' has content type '" + content
                        + "' (needs 'images' or 'import')");
            }
            path = volumes.path(source);
            if (content.equals("import")) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile(".*\\.(qcow2|raw|vmdk)").matcher(source.toLowerCase(java.util.Locale.ROOT));
                if (!m.matches()) {
                    throw new IllegalArgumentException("import-from: '" + source + "' is not a .qcow2, .raw or .vmdk image");
                }
                format = Optional.of(m.group(1));
            } else {
                format = Files.exists(path) ? Optional.of(volumes.format(source)) : Optional.empty();
            }
        }
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("import-from: '" + source + "' does not exist");
        }
        if (Files.isDirectory(path)) {
            throw new IllegalArgumentException("import-from: '" + source + "' is a directory");
        }
        return new ImportSource(source, path, format);
    }

    /** Checks that need the whole config: balloon within memory, vCPUs within topology, boot devices present. */
    private static void checkCombination(VmConfig merged, Collection<String> changed, Map<String, String> errors) {
        try {
            long memory = merged.memoryMiB();
            merged.get("balloon").map(Long::parseLong).filter(b -> b > memory).ifPresent(b ->
                    errors.put("balloon", "balloon value too large (must be smaller than assigned memory)"));
        } catch (RuntimeException e) {
            // reported with the option itself
        }
        try {
            if (merged.vcpus() > merged.sockets() * merged.cores()) {
                errors.put("vcpus", "maximum " + merged.sockets() * merged.cores() + " (sockets * cores)");
            }
        } catch (RuntimeException e) {
            // reported with the option itself
        }
        if (changed.contains("boot")) {
            merged.get("boot").map(b -> PropertyStrings.parse(VmOptions.BOOT, b).get("order")).ifPresent(order -> {
                for (String device : order.split(";")) {
                    if (!merged.has(device)) {
                        errors.put("boot", "invalid bootorder: device '" + device + "' does not exist'");
                    }
                }
            });
        }
    }

    /** Proxmox keeps sshkeys URL-encoded; each line must be an OpenSSH public key. */
    static String sshKeys(String value) {
        String decoded = URLDecoder.decode(value.replace("+", "%2B"), StandardCharsets.UTF_8);
        for (String line : decoded.split("\n")) {
            String key = line.strip();
            if (key.isEmpty() || key.startsWith("#")) {
                continue;
            }
            if (!key.matches("(?:[^\\s]+\\s+)?(ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\\d+|sk-[a-z0-9\\-@.]+)\\s+[A-Za-z0-9+/=]+(\\s.*)?")) {
                throw new IllegalArgumentException("invalid format - SSH public key validation error");
            }
        }
        return URLEncoder.encode(decoded, StandardCharsets.UTF_8).replace("+", "%20").replace("*", "%2A").replace("%7E", "~");
    }

    static String tags(String value) {
        TreeSet<String> tags = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        for (String tag : value.split("[;, ]+")) {
            if (!tag.isEmpty()) {
                tags.add(tag);
            }
        }
        return String.join(";", tags);
    }

    /** Refuses changes the caller may not make, option by option and drive by drive. */
    void checkPermissions(ApiRequest request, int vmid, Map<String, String> values, Collection<String> deletes, VmConfig base) {
        Set<String> keys = new LinkedHashSet<>(values.keySet());
        keys.addAll(deletes);
        VmPermissions.checkModify(request, vmid, keys);
        values.forEach((key, value) -> {
            if (VmOptions.isDrive(key)) {
                VmPermissions.checkDrive(request, vmid, Drive.parse(key, value), volumes);
            } else if (key.matches("serial\\d")) {
                VmPermissions.checkSerial(request, vmid, key, value);
            }
        });
        for (String key : deletes) {
            if (VmOptions.isDrive(key)) {
                base.get(key).ifPresent(v -> VmPermissions.checkDrive(request, vmid, Drive.parse(key, v).with("file", "none"), volumes));
            } else if (key.matches("serial\\d")) {
                base.get(key).ifPresent(v -> VmPermissions.checkSerial(request, vmid, key, v));
            }
        }
    }

    /** Refuses a non-root absolute {@code import-from} path before anything looks at that path. */
    private static void checkImportPaths(ApiRequest request, Map<String, String> options) {
        if (request.auth().isRoot()) {
            return;
        }
        options.forEach((key, value) -> {
            if (VmOptions.isDrive(key) && value.matches("(?:^|.*,)import-from=/.*")) {
                throw new PermissionDenied("only root can import from an absolute path ('" + key + "')");
            }
        });
    }

    // ---- create

    /**
     * Creates a VM: checks everything first (nothing is written for bad input), reserves the VMID
     * with a {@code lock: create} config, then allocates disks and writes the config in a task.
     */
    public String create(ApiRequest request, int vmid, Map<String, String> options, boolean start) {
        configs.checkUnused(vmid);
        checkImportPaths(request, options);
        Map<String, String> values = normalize(vmid, options, VmConfig.empty());
        checkPermissions(request, vmid, values, List.of(), VmConfig.empty());
        configs.create(vmid, VmConfig.empty().with("lock", "create"));
        try {
            return tasks.start("qmcreate", Integer.toString(vmid), request.auth().authid(), ctx -> {
                createWorker(vmid, values, ctx);
                if (start) {
                    ctx.log("starting VM %d", vmid);
                    driver.start(vmid, QemuDriver.StartOptions.defaults(), ctx);
                }
            }).format();
        } catch (RuntimeException e) {
            configs.delete(vmid);
            throw e;
        }
    }

    private void createWorker(int vmid, Map<String, String> values, TaskContext ctx) {
        List<String> allocated = new ArrayList<>();
        try {
            Map<String, String> options = new TreeMap<>(values);
            allocateNewDisks(vmid, options, allocated, ctx);
            options.putIfAbsent("smbios1", "uuid=" + UUID.randomUUID());
            if (!options.containsKey("vmgenid")) {
                options.put("vmgenid", UUID.randomUUID().toString());
            }
            options.putIfAbsent("meta", "creation-qemu=" + qemuVersion() + ",ctime=" + clock.instant().getEpochSecond());
            VmConfig config = VmConfig.of(options);
            if (!options.containsKey("boot")) {
                List<String> order = defaultBootOrder(config);
                if (!order.isEmpty()) {
                    config = config.with("boot", "order=" + String.join(";", order));
                }
            }
            VmConfig finished = config;
            configs.update(vmid, current -> {
                if (!"create".equals(current.lock().orElse(""))) {
                    throw new ApiException(500, "VM " + vmid + " changed while it was created");
                }
                return finished;
            });
            ctx.log("created VM %d", vmid);
        } catch (RuntimeException e) {
            ctx.log("create failed - cleaning up");
            for (String volid : allocated) {
                freeQuietly(volid, ctx);
            }
            try {
                configs.delete(vmid);
            } catch (RuntimeException ignored) {
                ctx.warn("could not remove the config of VM %d", vmid);
            }
            throw e;
        }
    }

    /** Disks first, then cdroms (not cloud-init), then the first NIC, as Proxmox's default boot order. */
    static List<String> defaultBootOrder(VmConfig config) {
        List<String> order = new ArrayList<>();
        config.drives().values().stream().filter(d -> !d.isCdrom() && !d.key().startsWith("efidisk") && !d.key().startsWith("tpmstate"))
                .findFirst().ifPresent(d -> order.add(d.key()));
        config.drives().values().stream().filter(d -> d.isCdrom() && !d.isCloudInit()).forEach(d -> order.add(d.key()));
        config.nets().stream().findFirst().ifPresent(n -> order.add(n.key()));
        return order;
    }

    private String qemuVersion() {
        try {
            String out = ProcessRunner.of(QemuCommandLine.QEMU, "--version").output();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("version (\\d+\\.\\d+\\.\\d+)").matcher(out);
            return m.find() ? m.group(1) : "unknown";
        } catch (RuntimeException e) {
            return "unknown";
        }
    }

    /** Replaces every {@code STORAGE:SIZE} and {@code STORAGE:cloudinit} drive by a new volume. */
    void allocateNewDisks(int vmid, Map<String, String> options, List<String> allocated, TaskContext ctx) {
        for (Map.Entry<String, String> e : new TreeMap<>(options).entrySet()) {
            if (!VmOptions.isDrive(e.getKey())) {
                continue;
            }
            Drive drive = Drive.parse(e.getKey(), e.getValue());
            if (!drive.isNewDisk()) {
                continue;
            }
            String storage = drive.storage().orElseThrow();
            Optional<String> format = drive.get("format");
            String volid;
            long size;
            if (Drive.NEW_CLOUDINIT.matcher(drive.file()).matches()) {
                size = CLOUDINIT_SIZE;
                volid = volumes.alloc(storage, vmid, format, Optional.of("vm-" + vmid + "-cloudinit"), size);
                allocated.add(volid);
                ctx.log("%s: created cloud-init drive %s", drive.key(), volid);
                drive = drive.with("file", volid).with("media", "cdrom").without("size");
            } else if (drive.key().equals("efidisk0")) {
                Path template = ovmfDir.resolve("4m".equals(drive.get("efitype").orElse("2m")) ? "OVMF_VARS_4M.fd" : "OVMF_VARS.fd");
                try {
                    size = Files.size(template);
                } catch (java.io.IOException ex) {
                    throw new ApiException(500, "OVMF vars template " + template + " is missing (Debian package ovmf)");
                }
                volid = volumes.alloc(storage, vmid, format, Optional.empty(), size);
                allocated.add(volid);
                String fmt = volumes.format(volid);
                ProcessRunner.of("qemu-img", "convert", "-n", "-f", "raw", "-O", fmt, template.toString(), volumes.path(volid).toString())
                        .task(ctx).output();
                drive = drive.with("file", volid).with("size", Sizes.format(size));
                ctx.log("%s: created EFI vars disk %s", drive.key(), volid);
            } else if (drive.get("import-from").isPresent()) {
                String source = drive.get("import-from").get();
                ImportSource imported = importSource(source);
                Path sourcePath = imported.path();
                ImageInfo image = imageInfo(imported);
                size = Math.max(image.virtualSize(), Sizes.parse(drive.file().substring(storage.length() + 1) + "G"));
                volid = volumes.alloc(storage, vmid, format, Optional.empty(), size);
                allocated.add(volid);
                ctx.log("%s: importing %s (%s, %s) to %s", drive.key(), source, image.format(), Sizes.format(size), volid);
                ProcessRunner.of("qemu-img", "convert", "-n", "-f", image.format(), "-O", volumes.format(volid), sourcePath.toString(),
                        volumes.path(volid).toString()).task(ctx).output();
                drive = drive.with("file", volid).with("size", Sizes.format(size)).without("import-from");
            } else {
                size = Sizes.parse(drive.file().substring(storage.length() + 1) + "G");
                volid = volumes.alloc(storage, vmid, format, Optional.empty(), size);
                allocated.add(volid);
                drive = drive.with("file", volid).with("size", Sizes.format(size));
                ctx.log("%s: created disk %s (%s)", drive.key(), volid, Sizes.format(size));
            }
            if (drive.get("format").isPresent()) {
                drive = drive.with("format", volumes.format(volid));
            }
            options.put(e.getKey(), drive.print());
        }
    }

    /** What qemu-img tells about an image to import. */
    record ImageInfo(String format, long virtualSize) {}

    /**
     * Reads an image to import with qemu-img, in the format its volume name gives. A volume may not
     * pull in other files (a backing file, vmdk extents elsewhere); root's own paths may.
     */
    ImageInfo imageInfo(ImportSource source) {
        List<String> command = new ArrayList<>(List.of("qemu-img", "info", "-U", "--output=json"));
        source.format().ifPresent(f -> command.addAll(List.of("-f", f)));
        command.add(source.path().toString());
        tools.jackson.databind.JsonNode info;
        try {
            info = Json.read(ProcessRunner.of(command.toArray(String[]::new)).output());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("import-from: qemu-img cannot read '" + source.source() + "': " + e.getMessage());
        }
        String format = info.path("format").asString("raw");
        if (!List.of("raw", "qcow2", "vmdk").contains(format)) {
            throw new IllegalArgumentException("import-from: unsupported image format '" + format + "' (raw, qcow2 or vmdk)");
        }
        if (!source.source().startsWith("/")) {
            if (info.has("backing-filename")) {
                throw new IllegalArgumentException("import-from: '" + source.source() + "' has a backing file, which is not imported");
            }
            String createType = info.path("format-specific").path("data").path("create-type").asString("");
            if (format.equals("vmdk") && !List.of("monolithicSparse", "streamOptimized").contains(createType)) {
                throw new IllegalArgumentException("import-from: vmdk '" + source.source() + "' of type '" + createType
                        + "' refers to other files (monolithicSparse or streamOptimized only)");
            }
        }
        return new ImageInfo(format, info.path("virtual-size").asLong());
    }

    // ---- update

    /** What a config change asks for. */
    public record Change(Map<String, String> set, List<String> delete, List<String> revert, Optional<String> digest, boolean skiplock,
            boolean force) {
        public Change {
            set = Map.copyOf(set);
            delete = List.copyOf(delete);
            revert = List.copyOf(revert);
            requireNonNull(digest, "digest is null");
        }
    }

    /**
     * Changes a config (PUT applies and answers null; POST runs the same as a task and answers its
     * UPID). A stopped VM takes every change at once; a running one only the options it can.
     */
    public Object update(ApiRequest request, int vmid, Change change, boolean async) {
        VmConfigs.Loaded loaded = configs.load(vmid);
        Digest.check(change.digest(), loaded.digest());
        VmConfig config = loaded.config();
        if (!change.skiplock() || !request.auth().isRoot()) {
            VmConfigs.checkLock(config);
        }
        Map<String, String> errors = new LinkedHashMap<>();
        for (String key : change.delete()) {
            if (VmOptions.find(key).isEmpty()) {
                errors.put("delete", "invalid option '" + key + "'");
            } else if (change.set().containsKey(key)) {
                errors.put(key, "cannot set and delete the same option");
            }
        }
        for (String key : change.revert()) {
            if (change.set().containsKey(key) || change.delete().contains(key)) {
                errors.put(key, "cannot set or delete an option that is reverted");
            }
        }
        if (change.set().isEmpty() && change.delete().isEmpty() && change.revert().isEmpty()) {
            errors.put("parameters", "no options specified");
        }
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        VmConfig base = config.withOptions(merge(config.options(), pendingValues(config)));
        checkImportPaths(request, change.set());
        Map<String, String> values = normalize(vmid, change.set(), base);
        checkPermissions(request, vmid, values, change.delete(), config);
        VmPermissions.checkModify(request, vmid, change.revert());
        if (async) {
            return tasks.start("qmconfig", Integer.toString(vmid), request.auth().authid(),
                    ctx -> apply(vmid, loaded.digest(), values, change, ctx)).format();
        }
        apply(vmid, loaded.digest(), values, change, LogOnly.INSTANCE);
        return null;
    }

    private static Map<String, String> pendingValues(VmConfig config) {
        Map<String, String> pending = new TreeMap<>(config.pending());
        pending.remove(VmConfig.DELETE);
        return pending;
    }

    private void apply(int vmid, String digest, Map<String, String> values, Change change, TaskContext ctx) {
        Map<String, String> withVolumes = new TreeMap<>(values);
        List<String> allocated = new ArrayList<>();
        List<String> toFree = new ArrayList<>();
        List<HotAction> hot = new ArrayList<>();
        Map<String, String> deferred = new TreeMap<>();
        try {
            // inside the try: a failed import frees the disks allocated before it
            allocateNewDisks(vmid, withVolumes, allocated, ctx);
            configs.update(vmid, Optional.of(digest), current -> {
                toFree.clear();
                hot.clear();
                deferred.clear();
                return changed(vmid, current, withVolumes, change, toFree, hot, deferred);
            });
        } catch (RuntimeException e) {
            allocated.forEach(v -> freeQuietly(v, ctx));
            throw e;
        }
        deferred.forEach((key, reason) -> ctx.log("%s: pending until the next start - %s", key, reason));
        Map<String, String> errors = new TreeMap<>();
        for (HotAction action : hot) {
            try {
                action.apply().run();
                action.done().ifPresent(ctx::log);
            } catch (RuntimeException e) {
                if (action.undo().isEmpty()) {
                    throw e;
                }
                ctx.warn("%s: hotplug failed, left pending - %s", action.key(), e.getMessage());
                configs.update(vmid, action.undo().get());
                errors.put(action.key(), "hotplug problem - " + e.getMessage());
            }
        }
        // a volume whose unplug failed is still in the config and stays
        List<String> referenced = errors.isEmpty() ? List.of() : configs.load(vmid).config().referencedVolumes(true);
        for (String volid : toFree) {
            if (!referenced.contains(volid)) {
                ctx.log("destroying volume %s", volid);
                freeQuietly(volid, ctx);
            }
        }
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
    }

    /**
     * A QMP (or cgroup) step that makes a config change real in the running VM; {@code undo} puts
     * the change back into {@code [PENDING]} when the step fails, {@code done} is logged when it works.
     */
    private record HotAction(String key, Runnable apply, Optional<java.util.function.UnaryOperator<VmConfig>> undo,
            Optional<String> done) {
        static HotAction of(String key, Runnable apply) {
            return new HotAction(key, apply, Optional.empty(), Optional.empty());
        }
    }

    private VmConfig changed(int vmid, VmConfig current, Map<String, String> values, Change change, List<String> toFree,
            List<HotAction> hot, Map<String, String> deferred) {
        boolean running = driver.runtime().isRunning(vmid);
        TreeMap<String, String> options = new TreeMap<>(current.options());
        TreeMap<String, String> pending = new TreeMap<>(current.pending());
        List<VmConfig.PendingDelete> deletes = new ArrayList<>(current.pendingDeletes());
        for (String key : change.revert()) {
            pending.remove(key);
            deletes.removeIf(d -> d.key().equals(key));
        }
        for (String key : change.delete()) {
            pending.remove(key);
            deletes.removeIf(d -> d.key().equals(key));
            if (!options.containsKey(key)) {
                continue;
            }
            if (running && !FAST_PLUG.contains(key) && !VmOptions.isUnused(key) && !cgroupPlug(vmid, key, hot)
                    && !hotUnplug(vmid, current, key, hot, deferred)) {
                deletes.add(new VmConfig.PendingDelete(key, change.force()));
                continue;
            }
            String old = options.remove(key);
            if (VmOptions.isUnused(key)) {
                if (PendingChanges.inSnapshots(current, old)) {
                    throw new ApiException(500, "unable to delete '" + old + "' - volume is still in use (snapshot?)");
                }
                toFree.add(old);
            } else if (VmOptions.isDrive(key)) {
                Drive drive = Drive.parse(key, old);
                if (!drive.isCdrom() && drive.isVolume() && PendingChanges.owned(vmid, drive.file(), volumes)) {
                    if (change.force() && !PendingChanges.inSnapshots(current, drive.file())) {
                        toFree.add(drive.file());
                    } else {
                        PendingChanges.addUnused(options, drive.file());
                    }
                }
            }
        }
        for (Map.Entry<String, String> e : values.entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            deletes.removeIf(d -> d.key().equals(key));
            if (running && !FAST_PLUG.contains(key) && !hotPlug(vmid, current, key, value, hot, deferred)) {
                pending.put(key, value);
                continue;
            }
            pending.remove(key);
            String old = options.put(key, value);
            if (old != null && VmOptions.isDrive(key)) {
                Drive before = Drive.parse(key, old);
                Drive after = Drive.parse(key, value);
                if (!before.isCdrom() && before.isVolume() && !before.file().equals(after.file())
                        && PendingChanges.owned(vmid, before.file(), volumes)) {
                    PendingChanges.addUnused(options, before.file());
                }
            }
            if (VmOptions.isDrive(key)) {
                // a volume that is attached again is no longer unused
                String file = Drive.parse(key, value).file();
                options.entrySet().removeIf(o -> VmOptions.isUnused(o.getKey()) && o.getValue().equals(file));
            }
        }
        VmConfig.deleteValue(deletes).ifPresentOrElse(d -> pending.put(VmConfig.DELETE, d), () -> pending.remove(VmConfig.DELETE));
        pending.entrySet().removeIf(p -> !p.getKey().equals(VmConfig.DELETE) && p.getValue().equals(options.get(p.getKey())));
        return new VmConfig(options, pending, current.snapshots());
    }

    /**
     * Whether a change to a running VM applies at once; registers the QMP calls that do it. Drive
     * limits change through block_set_io_throttle, cdrom media through blockdev-change-medium, a
     * NIC's link state through set_link.
     */
    private boolean hotPlug(int vmid, VmConfig current, String key, String value, List<HotAction> hot, Map<String, String> deferred) {
        if (CGROUP_PLUG.contains(key)) {
            return cgroupPlug(vmid, key, hot);
        }
        if (key.equals("hotplug")) {
            // memory hotplug changes how QEMU lays out its memory, which only a start does
            return VmHotplug.features(current).contains("memory") == VmHotplug.features(VmConfig.of(Map.of(key, value))).contains("memory");
        }
        Optional<String> old = current.get(key);
        if (old.isEmpty()) {
            return hotAdd(vmid, current, key, value, hot, deferred);
        }
        if (VmOptions.isDrive(key) && !key.startsWith("efidisk") && !key.startsWith("tpmstate")) {
            Drive before = Drive.parse(key, old.get());
            Drive after = Drive.parse(key, value);
            if (before.isCdrom() && after.isCdrom() && !after.isCloudInit() && !before.isCloudInit()) {
                if (!after.isNone() && !after.isVolume()) {
                    return false;
                }
                hot.add(HotAction.of(key, () -> changeMedium(vmid, after)));
                return true;
            }
            if (before.file().equals(after.file()) && onlyDiffer(before.properties(), after.properties(), throttleKeys())) {
                hot.add(new HotAction(key, () -> driver.runtime().command(vmid, "block_set_io_throttle",
                        hotplug.throttleTarget(vmid, key, throttleArguments(after))), Optional.of(toPending(key, old, value)), Optional.empty()));
                return true;
            }
            VmHotplug.refusal(current, key, old, Optional.of(value)).ifPresent(reason -> deferred.put(key, reason));
            return false;
        }
        if (VmOptions.isNet(key)) {
            Optional<String> reason = VmHotplug.refusal(current, key, old, Optional.of(value));
            if (reason.isPresent()) {
                deferred.put(key, reason.get());
                return false;
            }
            NetDevice before = NetDevice.parse(key, old.get());
            NetDevice after = NetDevice.parse(key, value);
            hot.add(new HotAction(key, () -> hotplug.changeTap(vmid, before, after, log::warn), Optional.of(toPending(key, old, value)),
                    Optional.empty()));
            return true;
        }
        return false;
    }

    /** A new disk or NIC for a running VM: registers plugging it when its bus and the hotplug option allow. */
    private boolean hotAdd(int vmid, VmConfig current, String key, String value, List<HotAction> hot, Map<String, String> deferred) {
        boolean disk = VmOptions.isDrive(key) && !key.startsWith("efidisk") && !key.startsWith("tpmstate");
        if (!disk && !VmOptions.isNet(key)) {
            return false;
        }
        Optional<String> reason = VmHotplug.refusal(current, key, Optional.empty(), Optional.of(value));
        if (reason.isPresent()) {
            deferred.put(key, reason.get());
            return false;
        }
        Runnable plug = disk
                ? () -> hotplug.plugDisk(vmid, configs.load(vmid).config(), key)
                : () -> hotplug.plugNet(vmid, configs.load(vmid).config(), key, log::warn);
        hot.add(new HotAction(key, plug, Optional.of(toPending(key, Optional.empty(), value)), Optional.of(key + ": hot-plugged")));
        return true;
    }

    /** Removing a disk or NIC from a running VM: registers unplugging it when the hotplug option allows. */
    private boolean hotUnplug(int vmid, VmConfig current, String key, List<HotAction> hot, Map<String, String> deferred) {
        boolean disk = VmOptions.isDrive(key) && !key.startsWith("efidisk") && !key.startsWith("tpmstate");
        if (!disk && !VmOptions.isNet(key)) {
            return false;
        }
        String old = current.get(key).orElseThrow();
        Optional<String> reason = VmHotplug.refusal(current, key, Optional.of(old), Optional.empty());
        if (reason.isPresent()) {
            deferred.put(key, reason.get());
            return false;
        }
        Runnable unplug = disk
                ? () -> hotplug.unplugDisk(vmid, current, Drive.parse(key, old))
                : () -> hotplug.unplugNet(vmid, NetDevice.parse(key, old));
        java.util.function.UnaryOperator<VmConfig> undo = c -> {
            TreeMap<String, String> options = new TreeMap<>(c.options());
            options.put(key, old);
            if (disk) {
                String file = Drive.parse(key, old).file();
                options.entrySet().removeIf(o -> VmOptions.isUnused(o.getKey()) && o.getValue().equals(file));
            }
            List<VmConfig.PendingDelete> deletes = new ArrayList<>(c.pendingDeletes());
            deletes.removeIf(d -> d.key().equals(key));
            deletes.add(new VmConfig.PendingDelete(key, false));
            TreeMap<String, String> pending = new TreeMap<>(c.pending());
            VmConfig.deleteValue(deletes).ifPresent(d -> pending.put(VmConfig.DELETE, d));
            return new VmConfig(options, pending, c.snapshots());
        };
        hot.add(new HotAction(key, unplug, Optional.of(undo), Optional.of(key + ": unplugged")));
        return true;
    }

    /** Moves a value that could not be applied to the running VM back into {@code [PENDING]}. */
    private static java.util.function.UnaryOperator<VmConfig> toPending(String key, Optional<String> old, String value) {
        return c -> {
            TreeMap<String, String> options = new TreeMap<>(c.options());
            TreeMap<String, String> pending = new TreeMap<>(c.pending());
            if (value.equals(options.get(key))) {
                old.ifPresentOrElse(o -> options.put(key, o), () -> options.remove(key));
                pending.put(key, value);
            }
            return new VmConfig(options, pending, c.snapshots());
        };
    }

    /**
     * Registers writing the CPU limits of the changed config to the running VM's cgroup; false
     * (the change waits for the next start) when QEMU runs outside one.
     */
    private boolean cgroupPlug(int vmid, String key, List<HotAction> hot) {
        if (!CGROUP_PLUG.contains(key) || !driver.cgroups().group(vmid).exists()) {
            return false;
        }
        hot.add(HotAction.of(key, () -> {
            try {
                driver.cgroups().applyCpu(vmid, configs.load(vmid).config());
            } catch (IllegalStateException e) {
                throw new ApiException(500, "unable to change the CPU limits of VM " + vmid + ": " + e.getMessage());
            }
        }));
        return true;
    }

    private void changeMedium(int vmid, Drive drive) {
        if (drive.isNone()) {
            driver.runtime().command(vmid, "eject", Map.of("id", drive.key(), "force", true));
        } else {
            driver.runtime().command(vmid, "blockdev-change-medium", Map.of("id", drive.key(),
                    "filename", volumes.path(drive.file()).toString(), "format", "raw"));
        }
    }

    private static Set<String> throttleKeys() {
        Set<String> keys = new TreeSet<>(Set.of("size", "backup", "replicate"));
        for (String k : List.of("bps", "bps_rd", "bps_wr", "mbps", "mbps_rd", "mbps_wr", "mbps_max", "mbps_rd_max", "mbps_wr_max",
                "bps_max_length", "bps_rd_max_length", "bps_wr_max_length", "iops", "iops_rd", "iops_wr", "iops_max", "iops_rd_max",
                "iops_wr_max", "iops_max_length", "iops_rd_max_length", "iops_wr_max_length")) {
            keys.add(k);
        }
        return keys;
    }

    private static boolean onlyDiffer(Map<String, String> a, Map<String, String> b, Set<String> allowed) {
        Set<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        for (String key : keys) {
            if (!allowed.contains(key) && !java.util.Objects.equals(a.get(key), b.get(key))) {
                return false;
            }
        }
        return true;
    }

    /** QMP block_set_io_throttle arguments for a drive's limits (zero lifts a limit). */
    static Map<String, Object> throttleArguments(Drive drive) {
        Map<String, Long> limits = QemuCommandLine.throttle(drive);
        Map<String, Object> args = new LinkedHashMap<>();
        // the qdev id of a virtio-blk-pci device names its PCI proxy, which has no block backend
        args.put("device", "drive-" + drive.key());
        String[][] names = {{"bps-total", "bps"}, {"bps-read", "bps_rd"}, {"bps-write", "bps_wr"}, {"iops-total", "iops"},
            {"iops-read", "iops_rd"}, {"iops-write", "iops_wr"}, {"bps-total-max", "bps_max"}, {"bps-read-max", "bps_rd_max"},
            {"bps-write-max", "bps_wr_max"}, {"iops-total-max", "iops_max"}, {"iops-read-max", "iops_rd_max"},
            {"iops-write-max", "iops_wr_max"}, {"bps-total-max-length", "bps_max_length"}, {"bps-read-max-length", "bps_rd_max_length"},
            {"bps-write-max-length", "bps_wr_max_length"}, {"iops-total-max-length", "iops_max_length"},
            {"iops-read-max-length", "iops_rd_max_length"}, {"iops-write-max-length", "iops_wr_max_length"}};
        for (String[] n : names) {
            long v = limits.getOrDefault(n[0], 0L);
            if (n[0].endsWith("-length")) {
                if (v > 0) {
                    args.put(n[1], v);
                }
            } else {
                args.put(n[1], v);
            }
        }
        return args;
    }

    // ---- destroy

    /** Destroys a VM and its volumes in a task; refused while it runs, is protected or locked. */
    public String destroy(ApiRequest request, int vmid, boolean purge, boolean skiplock, boolean destroyUnreferenced) {
        VmConfig config = configs.load(vmid).config();
        if (driver.runtime().isRunning(vmid)) {
            throw new ApiException(500, "VM " + vmid + " is running - destroy failed");
        }
        if (config.isProtected()) {
            throw new ApiException(500, "can't remove VM " + vmid + " - protection mode enabled");
        }
        if (!skiplock || !request.auth().isRoot()) {
            VmConfigs.checkLock(config);
        }
        return tasks.start("qmdestroy", Integer.toString(vmid), request.auth().authid(), ctx -> {
            VmConfig current = configs.load(vmid).config();
            Set<String> freed = new LinkedHashSet<>();
            for (String volid : current.referencedVolumes(false)) {
                if (PendingChanges.owned(vmid, volid, volumes)) {
                    ctx.log("destroying volume %s", volid);
                    if (freeQuietly(volid, ctx)) {
                        freed.add(volid);
                    }
                }
            }
            if (destroyUnreferenced) {
                for (String volid : volumes.listImages(vmid)) {
                    if (!freed.contains(volid) && !current.referencedVolumes(true).contains(volid)) {
                        ctx.log("destroying unreferenced volume %s", volid);
                        freeQuietly(volid, ctx);
                    }
                }
            }
            configs.delete(vmid);
            driver.runtime().cleanup(vmid);
            if (purge) {
                // the VM's firewall rules go with it; Corral has no HA, replication or backup jobs to purge yet
                configs.store().read("firewall/" + vmid + ".fw").ifPresent(f -> configs.store().delete(f.path(), f.version()));
            }
            ctx.log("destroyed VM %d", vmid);
        }).format();
    }

    private boolean freeQuietly(String volid, TaskContext ctx) {
        try {
            volumes.free(volid);
            return true;
        } catch (RuntimeException e) {
            ctx.warn("unable to free volume '%s' - %s", volid, e.getMessage());
            return false;
        }
    }

    // ---- reading

    /** {@code GET config}: the options (pending values applied unless {@code current}), typed, with the digest. */
    public ObjectNode config(int vmid, boolean current, Optional<String> snapshot) {
        VmConfigs.Loaded loaded = configs.load(vmid);
        VmConfig config = loaded.config();
        Map<String, String> values;
        if (snapshot.isPresent()) {
            Map<String, String> section = config.snapshots().get(snapshot.get());
            if (section == null) {
                throw new NotFound("snapshot '" + snapshot.get() + "' does not exist");
            }
            values = section;
        } else if (current) {
            values = config.options();
        } else {
            Map<String, String> merged = merge(config.options(), pendingValues(config));
            config.pendingDeletes().forEach(d -> merged.remove(d.key()));
            values = merged;
        }
        ObjectNode out = Json.object();
        values.forEach((key, value) -> put(out, key, key.equals("cipassword") ? MASKED : value));
        out.put("digest", loaded.digest());
        return out;
    }

    /**
     * {@code GET pending}, as qemu-server's config_with_pending_array: every option (and the
     * {@code digest}) with its current value, typed as its schema (qemu-server's check_type), its pending value and its pending
     * deletion (2 when forced). A pending password shows a mask with a trailing blank, so it differs
     * from the current one.
     */
    public ArrayNode pending(int vmid) {
        VmConfigs.Loaded loaded = configs.load(vmid);
        VmConfig config = loaded.config();
        Map<String, String> current = new TreeMap<>(config.options());
        current.put("digest", loaded.digest());
        Map<String, String> pending = pendingValues(config);
        Set<String> keys = new TreeSet<>(current.keySet());
        keys.addAll(pending.keySet());
        Map<String, Boolean> deletes = new LinkedHashMap<>();
        config.pendingDeletes().forEach(d -> deletes.put(d.key(), d.force()));
        keys.addAll(deletes.keySet());
        ArrayNode out = Json.array();
        for (String key : keys) {
            ObjectNode item = out.addObject();
            item.put("key", key);
            Optional.ofNullable(current.get(key)).ifPresent(v -> put(item, "value", key.equals("cipassword") ? MASKED : v, key));
            Optional.ofNullable(pending.get(key)).ifPresent(v -> put(item, "pending", key.equals("cipassword") ? MASKED + " " : v, key));
            if (deletes.containsKey(key)) {
                item.put("delete", deletes.get(key) ? 2 : 1);
            }
        }
        return out;
    }

    private static void put(ObjectNode out, String key, String value) {
        put(out, key, value, key);
    }

    /** Writes an option value with its schema's JSON type, as Proxmox answers them. */
    public static void put(ObjectNode out, String field, String value, String key) {
        Optional<Schema> schema = VmOptions.find(key).map(VmOptions.Entry::schema);
        Schema.Type type = schema.map(Schema::type).orElse(Schema.Type.STRING);
        if (key.equals("snaptime")) {
            type = Schema.Type.INTEGER;
        }
        try {
            switch (type) {
                case INTEGER -> out.put(field, Long.parseLong(value));
                case NUMBER -> out.put(field, Double.parseDouble(value));
                case BOOLEAN -> out.put(field, VmConfig.of(Map.of(key, value)).flag(key, false) ? 1 : 0);
                default -> out.put(field, value);
            }
        } catch (NumberFormatException e) {
            out.put(field, value);
        }
    }

    /** A task context for synchronous calls: lines go to the daemon log. */
    enum LogOnly implements TaskContext {
        INSTANCE;

        @Override
        public org.corral.core.task.Upid upid() {
            throw new UnsupportedOperationException("not a task");
        }

        @Override
        public void log(String line) {
            log.info(line);
        }

        @Override
        public void log(String format, Object... args) {
            log.info(String.format(format, args));
        }

        @Override
        public void warn(String line) {
            log.warn(line);
        }

        @Override
        public void warn(String format, Object... args) {
            log.warn(String.format(format, args));
        }

        @Override
        public int warnings() {
            return 0;
        }

        @Override
        public boolean isStopped() {
            return false;
        }

        @Override
        public void checkStopped() {
            // never stopped
        }
    }
}
