package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.corral.core.error.ApiException;
import org.corral.core.process.ProcessRunner;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.NetDevice;
import org.corral.qemu.config.VmConfig;
import tools.jackson.databind.JsonNode;

/**
 * Plugs disks and NICs into a running VM and out of it, as qemu-server's vm_deviceplug and
 * vm_deviceunplug do. What is plugged is taken from the cold command line of the config that now
 * holds the device, so a VM started later gets the same controllers, buses and slots.
 */
public final class VmHotplug {
    /** Proxmox's default for the {@code hotplug} option. */
    public static final Set<String> DEFAULT_FEATURES = Set.of("network", "disk", "usb");
    /** NIC properties a running VM takes by moving or re-plugging its tap. */
    static final Set<String> TAP_PROPERTIES = Set.of("bridge", "tag", "trunks", "rate", "link_down");
    private static final Duration QMP_TIMEOUT = Duration.ofSeconds(30);

    private final QemuDriver driver;
    private final HostNetwork network;
    private final Duration unplugTimeout;

    public VmHotplug(QemuDriver driver, HostNetwork network, Duration unplugTimeout) {
        this.driver = requireNonNull(driver, "driver is null");
        this.network = requireNonNull(network, "network is null");
        this.unplugTimeout = requireNonNull(unplugTimeout, "unplugTimeout is null");
    }

    // ---- the decision

    /** The features of the config's {@code hotplug} option: {@code 0} none, {@code 1} or absent the default. */
    public static Set<String> features(VmConfig config) {
        String value = config.get("hotplug").orElse("1").strip();
        if (value.equals("1")) {
            return DEFAULT_FEATURES;
        }
        if (value.equals("0")) {
            return Set.of();
        }
        return Set.copyOf(new TreeSet<>(List.of(value.split(","))));
    }

    /**
     * Why adding ({@code before} empty), changing or removing ({@code after} empty) a disk or NIC
     * of a running VM with config {@code current} can't happen at once; empty when it can be plugged.
     */
    public static Optional<String> refusal(VmConfig current, String key, Optional<String> before, Optional<String> after) {
        if (key.matches("net\\d+")) {
            return netRefusal(current, before.map(v -> NetDevice.parse(key, v)), after.map(v -> NetDevice.parse(key, v)));
        }
        return diskRefusal(current, before.map(v -> Drive.parse(key, v)), after.map(v -> Drive.parse(key, v)));
    }

    private static Optional<String> diskRefusal(VmConfig current, Optional<Drive> before, Optional<Drive> after) {
        Drive drive = after.or(() -> before).orElseThrow();
        if (before.isPresent() && after.isPresent()) {
            return Optional.of("changing the volume or options of a running disk needs a restart");
        }
        if (!features(current).contains("disk")) {
            return Optional.of("disk hotplug is not enabled (hotplug: " + current.get("hotplug").orElse("1") + ")");
        }
        if (!drive.bus().equals("scsi") && !drive.bus().equals("virtio")) {
            return Optional.of(drive.bus() + " disks can't be hot-plugged");
        }
        if (drive.bus().equals("scsi") && !current.get("scsihw").orElse("lsi").startsWith("virtio-scsi")) {
            return Optional.of("scsi hotplug needs a virtio-scsi controller (scsihw: " + current.get("scsihw").orElse("lsi") + ")");
        }
        if (after.isPresent() && (drive.isCloudInit() || drive.isNone() || drive.isHostCdrom() || !drive.isVolume() && !drive.isPath())) {
            return Optional.of("only volumes and paths are hot-plugged, not '" + drive.file() + "'");
        }
        if (after.isPresent() && drive.flag("snapshot", false)) {
            return Optional.of("snapshot=1 disks can't be hot-plugged");
        }
        return Optional.empty();
    }

    private static Optional<String> netRefusal(VmConfig current, Optional<NetDevice> before, Optional<NetDevice> after) {
        if (before.isPresent() && after.isPresent()) {
            Set<String> keys = new TreeSet<>(before.get().properties().keySet());
            keys.addAll(after.get().properties().keySet());
            keys.removeIf(k -> TAP_PROPERTIES.contains(k) || java.util.Objects.equals(before.get().get(k), after.get().get(k)));
            if (!keys.isEmpty()) {
                return Optional.of("changing " + String.join(", ", keys) + " of a running NIC needs a restart");
            }
            if (before.get().bridge().isEmpty() || after.get().bridge().isEmpty()) {
                return Optional.of("a NIC moves between bridges only, not to or from user networking");
            }
            return Optional.empty();
        }
        if (!features(current).contains("network")) {
            return Optional.of("network hotplug is not enabled (hotplug: " + current.get("hotplug").orElse("1") + ")");
        }
        NetDevice net = after.or(() -> before).orElseThrow();
        if (after.isPresent() && net.bridge().isEmpty()) {
            return Optional.of("only NICs on a bridge are hot-plugged");
        }
        if (net.model().equals("ne2k_isa")) {
            return Optional.of("ISA NICs can't be hot-plugged");
        }
        return Optional.empty();
    }

    // ---- plugging

    /** Plugs disk {@code key} of {@code config} (the config that holds it now) into the running VM. */
    public void plugDisk(int vmid, VmConfig config, String key) {
        Drive drive = config.drives().get(key);
        List<String> cmd = driver.commandLine(vmid, config, Optional.empty());
        VmRuntime runtime = driver.runtime();
        Set<String> present = peripherals(vmid);
        Set<String> iothreads = new TreeSet<>();
        runtime.command(vmid, "query-iothreads").forEach(t -> iothreads.add(t.path("id").asString()));
        String controller = drive.bus().equals("scsi")
                ? config.get("scsihw").orElse("lsi").equals("virtio-scsi-single") ? "virtioscsi" + drive.index() : "scsihw0"
                : key;
        for (String id : new LinkedHashSet<>(List.of("iothread-" + controller, "iothread-" + key))) {
            if (option(cmd, "-object", id).isPresent() && !iothreads.contains(id)) {
                runtime.command(vmid, "object-add", Map.of("qom-type", "iothread", "id", id));
            }
        }
        Map<String, String> device = qemuOptions(option(cmd, "-device", key)
                .orElseThrow(() -> new ApiException(500, key + ": no device on the command line")));
        plugParents(vmid, cmd, device, present);
        if (!controller.equals(key) && !present.contains(controller)) {
            Map<String, String> ctrl = qemuOptions(option(cmd, "-device", controller).orElseThrow());
            plugParents(vmid, cmd, ctrl, present);
            deviceAdd(vmid, ctrl);
        }
        Map<String, String> arg = qemuOptions(option(cmd, "-drive", "drive-" + key).orElseThrow());
        runtime.command(vmid, "blockdev-add", blockdev(arg), QMP_TIMEOUT);
        try {
            for (String error : List.of("rerror", "werror")) {
                Optional.ofNullable(arg.get(error)).ifPresent(v -> device.put(error, v));
            }
            deviceAdd(vmid, device);
        } catch (RuntimeException e) {
            runtime.command(vmid, "blockdev-del", Map.of("node-name", "drive-" + key));
            throw e;
        }
        if (!QemuCommandLine.throttle(drive).isEmpty()) {
            runtime.command(vmid, "block_set_io_throttle", throttleTarget(vmid, key, VmEditor.throttleArguments(drive)));
        }
    }

    /**
     * The block_set_io_throttle arguments for a drive: a drive from the command line is named by
     * its backend, one plugged later by its device's QOM path, as its backend has no name.
     */
    public Map<String, Object> throttleTarget(int vmid, String key, Map<String, Object> limits) {
        Map<String, Object> args = new LinkedHashMap<>(limits);
        blockEntry(driver.runtime(), vmid, key).filter(b -> b.path("device").asString().isEmpty()).ifPresent(b -> {
            // a virtio-blk-pci's own id names its PCI proxy, which has no block backend
            args.remove("device");
            args.put("id", b.path("qdev").asString());
        });
        return args;
    }

    /** How QMP block commands name a drive's root: by backend for a drive from the command line, by node once plugged or moved. */
    public static Map<String, Object> blockTarget(VmRuntime runtime, int vmid, String key) {
        return blockEntry(runtime, vmid, key).filter(b -> b.path("device").asString().isEmpty())
                .<Map<String, Object>>map(b -> Map.of("node-name", b.path("inserted").path("node-name").asString()))
                .orElse(Map.of("device", "drive-" + key));
    }

    /** The {@code device} argument of QMP commands that take a backend name or a root node name alike (drive-mirror, internal snapshots). */
    public static String blockDevice(VmRuntime runtime, int vmid, String key) {
        return blockTarget(runtime, vmid, key).values().iterator().next().toString();
    }

    /**
     * Drops the node a plugged drive was created with once a mirror replaced it (it belongs to the
     * monitor, so nothing else frees it).
     */
    public static void dropReplacedNode(VmRuntime runtime, int vmid, String key) {
        String name = "drive-" + key;
        boolean root = blockEntry(runtime, vmid, key).map(b -> b.path("inserted").path("node-name").asString().equals(name)).orElse(false);
        if (!root && namedNode(runtime, vmid, name)) {
            runtime.command(vmid, "blockdev-del", Map.of("node-name", name));
        }
    }

    private static boolean namedNode(VmRuntime runtime, int vmid, String name) {
        for (JsonNode node : runtime.command(vmid, "query-named-block-nodes", Map.of("flat", true))) {
            if (node.path("node-name").asString().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** The query-block entry of drive {@code key}: by its backend name, or by the device it is attached to. */
    static Optional<JsonNode> blockEntry(VmRuntime runtime, int vmid, String key) {
        for (JsonNode b : runtime.command(vmid, "query-block")) {
            String qdev = b.path("qdev").asString();
            if (b.path("device").asString().equals("drive-" + key) || qdev.equals(key)
                    || qdev.equals("/machine/peripheral/" + key + "/virtio-backend")) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    /** Unplugs disk {@code drive}: device_del, waits for DEVICE_DELETED, drops its block node and a controller of its own. */
    public void unplugDisk(int vmid, VmConfig config, Drive drive) {
        VmRuntime runtime = driver.runtime();
        deviceDel(vmid, drive.key());
        if (namedNode(runtime, vmid, "drive-" + drive.key())) {
            runtime.command(vmid, "blockdev-del", Map.of("node-name", "drive-" + drive.key()));
        }
        if (drive.bus().equals("scsi") && config.get("scsihw").orElse("lsi").equals("virtio-scsi-single")) {
            String controller = "virtioscsi" + drive.index();
            deviceDel(vmid, controller);
            dropIothread(vmid, "iothread-" + controller);
        }
        dropIothread(vmid, "iothread-" + drive.key());
    }

    private void dropIothread(int vmid, String id) {
        for (JsonNode t : driver.runtime().command(vmid, "query-iothreads")) {
            if (t.path("id").asString().equals(id)) {
                driver.runtime().command(vmid, "object-del", Map.of("id", id));
            }
        }
    }

    /** Plugs NIC {@code key} of {@code config}: netdev_add (QEMU creates the tap), tap onto its bridge, device_add. */
    public void plugNet(int vmid, VmConfig config, String key, Consumer<String> warn) {
        NetDevice net = config.nets().stream().filter(n -> n.key().equals(key)).findFirst().orElseThrow();
        network.checkBridge(key, net);
        List<String> cmd = driver.commandLine(vmid, config, Optional.empty());
        VmRuntime runtime = driver.runtime();
        Map<String, String> device = qemuOptions(option(cmd, "-device", key).orElseThrow());
        plugParents(vmid, cmd, device, peripherals(vmid));
        Map<String, Object> netdev = new LinkedHashMap<>(qemuOptions(option(cmd, "-netdev", key).orElseThrow()));
        netdev.computeIfPresent("vhost", (k, v) -> v.equals("on"));
        netdev.computeIfPresent("queues", (k, v) -> Integer.parseInt((String) v));
        runtime.command(vmid, "netdev_add", netdev, QMP_TIMEOUT);
        try {
            network.plug(vmid, net, warn);
            deviceAdd(vmid, device);
        } catch (RuntimeException e) {
            runtime.command(vmid, "netdev_del", Map.of("id", key));
            throw e;
        }
        if (net.flag("link_down")) {
            runtime.command(vmid, "set_link", Map.of("name", key, "up", false));
        }
    }

    /** Unplugs a NIC: device_del, waits for DEVICE_DELETED, netdev_del (which closes and so removes the tap). */
    public void unplugNet(int vmid, NetDevice net) {
        deviceDel(vmid, net.key());
        driver.runtime().command(vmid, "netdev_del", Map.of("id", net.key()));
    }

    /** Moves a running NIC's tap to its new bridge, VLANs and rate, and sets its link state. */
    public void changeTap(int vmid, NetDevice before, NetDevice after, Consumer<String> warn) {
        String tap = after.tapName(vmid);
        Set<String> changed = changed(before, after);
        changed.remove("link_down");
        if (!changed.isEmpty()) {
            network.checkBridge(after.key(), after);
            ProcessRunner.of("ip", "link", "set", "dev", tap, "nomaster").run().check();
            // the old limits go with the old bridge; plug sets the new ones
            ProcessRunner.of("tc", "qdisc", "del", "dev", tap, "root").run();
            ProcessRunner.of("tc", "qdisc", "del", "dev", tap, "ingress").run();
            network.plug(vmid, after, warn);
        }
        driver.runtime().command(vmid, "set_link", Map.of("name", after.key(), "up", !after.flag("link_down")));
    }

    private static Set<String> changed(NetDevice before, NetDevice after) {
        Set<String> keys = new TreeSet<>(before.properties().keySet());
        keys.addAll(after.properties().keySet());
        keys.removeIf(k -> java.util.Objects.equals(before.get(k), after.get(k)));
        return keys;
    }

    // ---- QMP helpers

    /** The ids of the VM's user-created devices ({@code -device ...,id=X} and device_add). */
    private Set<String> peripherals(int vmid) {
        Set<String> ids = new LinkedHashSet<>();
        for (JsonNode child : driver.runtime().command(vmid, "qom-list", Map.of("path", "/machine/peripheral"))) {
            if (child.path("type").asString().startsWith("child<")) {
                ids.add(child.path("name").asString());
            }
        }
        return ids;
    }

    /** Plugs the PCI bridge a device sits behind when the running VM lacks it, as qemu-server's qemu_add_pci_bridge. */
    private void plugParents(int vmid, List<String> cmd, Map<String, String> device, Set<String> present) {
        String bus = device.get("bus");
        // pc's pci.0 is the root bus, not a bridge on the command line
        Optional<String> bridge = bus == null || present.contains(bus) ? Optional.empty() : option(cmd, "-device", bus);
        if (bridge.isPresent()) {
            deviceAdd(vmid, qemuOptions(bridge.get()));
            present.add(bus);
        }
    }

    private void deviceAdd(int vmid, Map<String, String> device) {
        driver.runtime().command(vmid, "device_add", device, QMP_TIMEOUT);
    }

    /** device_del, then waits for the guest to let go of the device (DEVICE_DELETED names it). */
    private void deviceDel(int vmid, String id) {
        QmpClient qmp = driver.runtime().qmp(vmid);
        CompletableFuture<Void> deleted = new CompletableFuture<>();
        try (AutoCloseable listener = qmp.onEvent(event -> {
            if (event.name().equals("DEVICE_DELETED") && event.data().path("device").asString().equals(id)) {
                deleted.complete(null);
            }
        })) {
            driver.runtime().command(vmid, "device_del", Map.of("id", id));
            deleted.get(unplugTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new ApiException(500, "VM " + vmid + ": unplug of " + id + " timed out after " + unplugTimeout.toSeconds()
                    + "s (the guest did not release it)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(500, "VM " + vmid + ": interrupted while unplugging " + id);
        } catch (ExecutionException e) {
            throw new ApiException(500, "VM " + vmid + ": unplug of " + id + " failed - " + e.getCause().getMessage());
        } catch (ApiException e) {
            throw e;
        } catch (Exception e) {
            throw new ApiException(500, "VM " + vmid + ": unplug of " + id + " failed - " + e.getMessage());
        }
    }

    // ---- command line to QMP

    /** The value of the command line's {@code flag} whose options carry {@code id=ID}. */
    static Optional<String> option(List<String> cmd, String flag, String id) {
        for (int i = 0; i + 1 < cmd.size(); i++) {
            if (cmd.get(i).equals(flag) && id.equals(qemuOptions(cmd.get(i + 1)).get("id"))) {
                return Optional.of(cmd.get(i + 1));
            }
        }
        return Optional.empty();
    }

    /**
     * A QEMU option string as a map: {@code virtio-blk-pci,drive=d,id=x} gives driver=virtio-blk-pci,
     * drive=d, id=x; a doubled comma is a comma of the value.
     */
    static Map<String, String> qemuOptions(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> parts = new ArrayList<>();
        StringBuilder part = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ',' && i + 1 < text.length() && text.charAt(i + 1) == ',') {
                part.append(',');
                i++;
            } else if (c == ',') {
                parts.add(part.toString());
                part.setLength(0);
            } else {
                part.append(c);
            }
        }
        parts.add(part.toString());
        for (int i = 0; i < parts.size(); i++) {
            String p = parts.get(i);
            int eq = p.indexOf('=');
            if (eq < 0) {
                out.put(i == 0 ? "driver" : p, i == 0 ? p : "on");
            } else {
                out.put(p.substring(0, eq), p.substring(eq + 1));
            }
        }
        return out;
    }

    /** blockdev-add arguments for the options of a {@code -drive}: a format node named as the drive, on a file node. */
    static Map<String, Object> blockdev(Map<String, String> drive) {
        String cache = drive.getOrDefault("cache", "writeback");
        boolean direct = cache.equals("none") || cache.equals("directsync");
        Map<String, Object> cacheOptions = Map.of("direct", direct, "no-flush", cache.equals("unsafe"));
        boolean readOnly = "on".equals(drive.get("readonly")) || "cdrom".equals(drive.get("media"));
        String path = drive.get("file");
        Map<String, Object> file = new LinkedHashMap<>();
        file.put("driver", path.startsWith("/dev/") ? "host_device" : "file");
        file.put("filename", path);
        file.put("aio", drive.getOrDefault("aio", "threads"));
        file.put("cache", cacheOptions);
        file.put("read-only", readOnly);
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("driver", drive.getOrDefault("format", "raw"));
        node.put("node-name", drive.get("id"));
        node.put("read-only", readOnly);
        node.put("cache", cacheOptions);
        node.put("discard", "on".equals(drive.get("discard")) ? "unmap" : "ignore");
        node.put("detect-zeroes", drive.getOrDefault("detect-zeroes", "off"));
        node.put("file", file);
        return node;
    }
}
