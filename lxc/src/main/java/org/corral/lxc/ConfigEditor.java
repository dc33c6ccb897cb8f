package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.corral.core.api.ApiRequest;
import org.corral.core.config.Digest;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.lxc.config.CtConfig;
import org.corral.lxc.config.CtOptions;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.config.MountPoint;
import org.corral.lxc.config.NetConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reading and changing a container's options as pve-container's config API does: answers with
 * typed values, {@code digest} and raw {@code lxc} keys; changes with {@code delete} and
 * {@code revert}, digest checks and Proxmox's per-option permissions. A stopped container gets
 * every change at once; a running one gets resource limits and metadata at once (limits are
 * written to its cgroup), NICs plugged, moved and unplugged at once, and the rest as pending
 * changes applied at its next start.
 */
public final class ConfigEditor {
    private static final Logger log = LoggerFactory.getLogger(ConfigEditor.class);
    /** Options a running container takes at once. */
    private static final Set<String> HOT = Set.of("description", "onboot", "startup", "protection", "tags", "memory", "swap", "cores",
            "cpulimit", "cpuunits", "lock", "hookscript");
    private static final Set<String> REQUIRED = Set.of("memory", "rootfs", "ostype");
    /** Raw key names pve-container accepts, besides lxc.cgroup*, lxc.prlimit.* and lxc.net.*. */
    private static final Set<String> RAW_KEYS = Set.of("lxc.apparmor.profile", "lxc.apparmor.allow_incomplete",
            "lxc.apparmor.allow_nesting", "lxc.apparmor.raw", "lxc.selinux.context", "lxc.include", "lxc.arch", "lxc.uts.name",
            "lxc.signal.halt", "lxc.signal.reboot", "lxc.signal.stop", "lxc.init.cmd", "lxc.init.cwd", "lxc.init.uid", "lxc.init.gid",
            "lxc.init.groups", "lxc.pty.max", "lxc.console.logfile", "lxc.console.path", "lxc.tty.max", "lxc.devtty.dir",
            "lxc.hook.autodev", "lxc.autodev", "lxc.kmsg", "lxc.mount.fstab", "lxc.mount.entry", "lxc.mount.auto", "lxc.rootfs.mount",
            "lxc.cap.drop", "lxc.cap.keep", "lxc.seccomp.profile", "lxc.seccomp.notify.proxy", "lxc.seccomp.notify.cookie", "lxc.idmap",
            "lxc.hook.pre-start", "lxc.hook.pre-mount", "lxc.hook.mount", "lxc.hook.start", "lxc.hook.stop", "lxc.hook.post-stop",
            "lxc.hook.clone", "lxc.hook.destroy", "lxc.hook.version", "lxc.log.level", "lxc.log.file", "lxc.start.auto",
            "lxc.start.delay", "lxc.start.order", "lxc.group", "lxc.environment", "lxc.environment.runtime", "lxc.environment.hooks",
            "lxc.sysctl.fs.mqueue", "lxc.sysctl.kernel.msgmax", "lxc.sysctl.kernel.msgmnb", "lxc.sysctl.kernel.msgmni",
            "lxc.sysctl.kernel.sem", "lxc.sysctl.kernel.shmall", "lxc.sysctl.kernel.shmmax", "lxc.sysctl.kernel.shmmni",
            "lxc.sysctl.kernel.shm_rmid_forced");

    private final LxcService service;

    ConfigEditor(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    // ---- reading

    /** {@code GET .../config}: current values, or with pending ones applied, or a snapshot's. */
    public Map<String, Object> read(int vmid, Optional<String> snapshot, boolean current) {
        CtConfigs.Loaded loaded = service.configs().load(vmid);
        CtConfig config = loaded.config();
        if (snapshot.isPresent()) {
            CtSection snap = Optional.ofNullable(config.snapshots().get(snapshot.get()))
                    .orElseThrow(() -> new ParameterError("snapshot", "snapshot '" + snapshot.get() + "' does not exist"));
            return answer(snap, Optional.of(loaded.digest()));
        }
        CtSection section = current ? config.main() : LxcService.effective(config);
        return answer(section, Optional.of(loaded.digest()));
    }

    /** A section as the API answers it: typed values, the description, raw keys as {@code [[key, value]]}. */
    static Map<String, Object> answer(CtSection section, Optional<String> digest) {
        Map<String, Object> out = new TreeMap<>();
        section.options().forEach((k, v) -> out.put(k, typed(k, v)));
        if (!section.description().isEmpty()) {
            out.put("description", section.description());
        }
        if (!section.lxc().isEmpty()) {
            List<List<String>> raw = new ArrayList<>();
            section.lxc().forEach(r -> raw.add(List.of(r.key(), r.value())));
            out.put("lxc", raw);
        }
        digest.ifPresent(d -> out.put("digest", d));
        return out;
    }

    /** Integers and booleans as JSON numbers, as Proxmox answers them. */
    static Object typed(String key, String value) {
        Schema schema = CtOptions.all().get(key);
        if (key.equals("snaptime")) {
            schema = Schema.integer();
        }
        if (schema == null) {
            return value;
        }
        try {
            return switch (schema.type()) {
                case INTEGER -> Long.parseLong(value.trim());
                case BOOLEAN -> value.trim().matches("(?i)1|on|yes|true") ? 1 : 0;
                case NUMBER -> {
                    double d = Double.parseDouble(value.trim());
                    yield d == Math.rint(d) && !Double.isInfinite(d) ? (Object) (long) d : (Object) d;
                }
                default -> value;
            };
        } catch (NumberFormatException e) {
            return value;
        }
    }

    /** {@code GET .../pending}: each option with its current and pending value and whether it is to be deleted. */
    public List<Map<String, Object>> pending(int vmid) {
        CtConfig config = service.configs().load(vmid).config();
        Set<String> deletes = new LinkedHashSet<>(config.pending().get("delete").map(Formats::splitList).orElse(List.of()));
        Set<String> keys = new TreeSet<>(config.main().options().keySet());
        keys.addAll(config.pending().options().keySet());
        keys.remove("delete");
        keys.addAll(deletes);
        List<Map<String, Object>> out = new ArrayList<>();
        for (String key : keys) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("key", key);
            config.main().get(key).ifPresent(v -> entry.put("value", typed(key, v)));
            config.pending().get(key).ifPresent(v -> entry.put("pending", typed(key, v)));
            if (deletes.contains(key)) {
                entry.put("delete", 1);
            }
            out.add(entry);
        }
        if (!config.main().description().isEmpty() || config.pending().description().length() > 0) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("key", "description");
            if (!config.main().description().isEmpty()) {
                entry.put("value", config.main().description());
            }
            out.add(entry);
        }
        return out;
    }

    // ---- raw keys

    /**
     * The {@code lxc} parameter (a Corral extension): newline-separated {@code lxc.KEY: VALUE}
     * lines that replace the container's raw LXC keys.
     */
    static Optional<List<CtSection.RawKey>> rawKeys(ApiRequest request) {
        Optional<String> text = request.optionalString("lxc");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        List<CtSection.RawKey> keys = new ArrayList<>();
        for (String line : text.get().split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            int sep = line.indexOf(':');
            int eq = line.indexOf('=');
            int at = sep < 0 ? eq : eq < 0 ? sep : Math.min(sep, eq);
            if (at <= 0) {
                throw new ParameterError("lxc", "expected 'lxc.KEY: VALUE', got '" + line.strip() + "'");
            }
            String key = line.substring(0, at).strip();
            String value = line.substring(at + 1).strip();
            rawKeyError(key).ifPresent(msg -> {
                throw new ParameterError("lxc", msg);
            });
            keys.add(new CtSection.RawKey(key, value));
        }
        return Optional.of(keys);
    }

    static Optional<String> rawKeyError(String key) {
        if (!key.matches("lxc\\.[a-z0-9_\\-.]+")) {
            return Optional.of("invalid raw key '" + key + "'");
        }
        if (key.equals("lxc.rootfs.path")) {
            return Optional.of("lxc.rootfs.path is auto generated from rootfs");
        }
        if (key.equals("lxc.rootfs.options")) {
            return Optional.of("lxc.rootfs.options is not supported, please use mount point options in the \"rootfs\" key");
        }
        if (RAW_KEYS.contains(key) || key.startsWith("lxc.cgroup.") || key.startsWith("lxc.cgroup2.") || key.startsWith("lxc.prlimit.")
                || key.startsWith("lxc.net.")) {
            return Optional.empty();
        }
        return Optional.of("raw key '" + key + "' is not allowed");
    }

    /** The first free {@code unusedN} key. */
    static String freeUnusedKey(CtSection section) {
        for (int i = 0; i < CtOptions.MAX_UNUSED; i++) {
            if (!section.has("unused" + i)) {
                return "unused" + i;
            }
        }
        throw new ApiException(500, "too many unused volumes");
    }

    // ---- changing

    /** {@code PUT .../config}. */
    public void update(ApiRequest request, int vmid) {
        Map<String, String> changes = Provisioning.options(request);
        List<String> deletes = request.optionalString("delete").map(Formats::splitList).orElse(List.of()).stream()
                .map(k -> k.startsWith("!") ? k.substring(1) : k).toList();
        List<String> reverts = request.optionalString("revert").map(Formats::splitList).orElse(List.of());
        Optional<String> digest = request.optionalString("digest");
        Optional<List<CtSection.RawKey>> raw = rawKeys(request);
        Map<String, String> errors = new LinkedHashMap<>();
        for (String key : deletes) {
            if (changes.containsKey(key)) {
                errors.put("delete", "cannot set and delete '" + key + "' at the same time");
            } else if (!CtOptions.all().containsKey(key) && !key.equals("lxc")) {
                errors.put("delete", "invalid option '" + key + "'");
            } else if (REQUIRED.contains(key)) {
                errors.put("delete", "unable to delete required option '" + key + "'");
            } else if (key.equals("unprivileged")) {
                errors.put("delete", "unable to delete read-only option: 'unprivileged'");
            }
        }
        if (changes.containsKey("unprivileged")) {
            errors.put("unprivileged", "unable to modify read-only option: 'unprivileged'");
        }
        if (changes.containsKey("lock")) {
            errors.put("lock", "the lock is set by operations, not by configuration");
        }
        changes.keySet().stream().filter(CtOptions::isUnused).forEach(k -> errors.put(k, "unused volumes are not set by hand"));
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        Provisioning.validate(changes);
        if ((raw.isPresent() || deletes.contains("lxc")) && !request.auth().isRoot()) {
            throw new PermissionDenied("raw lxc.* keys may only be changed by root@pam");
        }
        boolean unlockOnly = deletes.equals(List.of("lock")) && changes.isEmpty() && request.auth().isRoot();
        service.configs().locked(vmid, () -> {
            CtConfigs.Loaded loaded = service.configs().load(vmid);
            Digest.check(digest, loaded.digest());
            CtConfig config = loaded.config();
            if (!unlockOnly) {
                CtConfigs.checkLock(config);
            }
            CtSection main = config.main();
            boolean unprivileged = main.getBool("unprivileged", false);
            CtPermissions.checkModify(request, vmid, Optional.empty(), main.options(), changes, deletes, unprivileged);
            if (main.getBool("protection", false)) {
                for (String key : concat(changes.keySet(), deletes)) {
                    if (CtOptions.isMountPoint(key) || CtOptions.isUnused(key)) {
                        throw new Conflict("can't update CT " + vmid + " drive '" + key + "' - protection mode enabled");
                    }
                }
            }
            for (String key : changes.keySet()) {
                if (CtOptions.isMountPoint(key)) {
                    MountPoint mp = MountPoint.parse(key, changes.get(key));
                    if (mp.type() != MountPoint.Type.VOLUME && !request.auth().isRoot()) {
                        throw new PermissionDenied("Only root can pass arbitrary filesystem paths.");
                    }
                    if (key.equals("rootfs") && main.has("rootfs")) {
                        MountPoint old = MountPoint.parse("rootfs", main.get("rootfs").orElseThrow());
                        if (!old.volume().equals(mp.volume())) {
                            throw new ParameterError("rootfs", "the root volume can't be replaced; use move_volume");
                        }
                    }
                }
            }
            boolean running = service.driver().isRunning(vmid);
            apply(vmid, config, changes, deletes, reverts, raw, running, unprivileged);
            return null;
        });
    }

    private static List<String> concat(Set<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private void apply(int vmid, CtConfig config, Map<String, String> changes, List<String> deletes, List<String> reverts,
            Optional<List<CtSection.RawKey>> raw, boolean running, boolean unprivileged) {
        List<String> toFree = new ArrayList<>();
        try (Revert revert = new Revert()) {
            Map<String, String> prepared = new TreeMap<>();
            for (Map.Entry<String, String> e : changes.entrySet()) {
                String key = e.getKey();
                String value = e.getValue();
                if (CtOptions.isNet(key)) {
                    value = service.provisioning().normalizeNet(key, value, config.main().get(key));
                } else if (CtOptions.isMountPoint(key)) {
                    try {
                        value = service.provisioning().allocateIfNew(line -> { }, vmid, key, value, unprivileged, revert);
                    } catch (IOException ex) {
                        throw new UncheckedIOException(ex);
                    }
                    value = keepSize(key, config.main().get(key), value);
                }
                prepared.put(key, value);
            }
            CtSection main = config.main();
            CtSection pending = config.pending();
            Set<String> pendingDeletes = new LinkedHashSet<>(pending.get("delete").map(Formats::splitList).orElse(List.of()));
            for (String key : reverts) {
                pending = pending.without(key);
                pendingDeletes.remove(key);
            }
            Map<String, String> live = new TreeMap<>();
            List<NetPlug> plugs = new ArrayList<>();
            for (Map.Entry<String, String> e : prepared.entrySet()) {
                String key = e.getKey();
                if (key.equals("description")) {
                    main = main.withDescription(e.getValue().endsWith("\n") ? e.getValue() : e.getValue() + "\n");
                    continue;
                }
                if (!running || HOT.contains(key) || hotNet(vmid, main, key, Optional.of(e.getValue()), plugs)) {
                    if (CtOptions.isMountPoint(key)) {
                        main = replaceVolume(main, key, e.getValue());
                    }
                    main = main.with(key, e.getValue());
                    pending = pending.without(key);
                    pendingDeletes.remove(key);
                    live.put(key, e.getValue());
                } else {
                    pending = pending.with(key, e.getValue());
                    pendingDeletes.remove(key);
                }
            }
            for (String key : deletes) {
                if (key.equals("description")) {
                    main = main.withDescription("");
                } else if (key.equals("lxc")) {
                    main = main.withLxc(List.of());
                } else if (!running || HOT.contains(key) || CtOptions.isUnused(key) || hotNet(vmid, main, key, Optional.empty(), plugs)) {
                    if (CtOptions.isUnused(key)) {
                        main.get(key).ifPresent(v -> toFree.add(v.split(",")[0]));
                    } else if (CtOptions.isMountPoint(key)) {
                        main = replaceVolume(main, key, null);
                    }
                    main = main.without(key);
                    pending = pending.without(key);
                } else {
                    pendingDeletes.add(key);
                    pending = pending.without(key);
                }
            }
            if (raw.isPresent()) {
                main = main.withLxc(raw.get());
            }
            pending = pendingDeletes.isEmpty() ? pending.without("delete") : pending.with("delete", String.join(",", pendingDeletes));
            CtSection finalMain = main;
            CtSection finalPending = pending.options().isEmpty() ? CtSection.EMPTY : pending;
            service.configs().update(vmid, Optional.empty(), c -> c.withMain(finalMain).withPending(finalPending));
            revert.success();
            if (running && !live.isEmpty()) {
                applyLimits(vmid, finalMain, live.keySet());
            }
            plugNets(vmid, plugs);
        }
        for (String volid : toFree) {
            service.storage().free(volid);
        }
    }

    /** A NIC change for a running container: what it does, and the value to keep pending (or the delete) should it fail. */
    private record NetPlug(String key, Optional<String> before, Optional<String> after, Runnable action) {}

    /**
     * Whether a NIC change reaches the running container at once, as pct's hotplug_net; registers
     * the step. What can't waits in {@code [pve:pending]}.
     */
    private boolean hotNet(int vmid, CtSection main, String key, Optional<String> value, List<NetPlug> plugs) {
        if (!CtOptions.isNet(key)) {
            return false;
        }
        Optional<NetConfig> before = main.get(key).map(v -> NetConfig.parse(key, v));
        Optional<NetConfig> after = value.map(v -> NetConfig.parse(key, v));
        if (before.isEmpty() && after.isEmpty()) {
            return false;
        }
        Optional<String> reason = CtHotplug.refusal(before, after);
        if (reason.isPresent()) {
            log.info("CT {}: {} pending until the next start - {}", vmid, key, reason.get());
            return false;
        }
        CtHotplug hotplug = new CtHotplug(service.driver());
        Consumer<String> warn = w -> log.warn("CT {}: {}", vmid, w);
        Runnable action = before.isEmpty() ? () -> hotplug.plug(vmid, after.get(), warn)
                : after.isEmpty() ? () -> hotplug.unplug(vmid, before.get())
                : () -> hotplug.change(vmid, before.get(), after.get(), warn);
        plugs.add(new NetPlug(key, main.get(key), value, action));
        return true;
    }

    /** Runs the NIC steps; one that fails leaves its change pending and is reported. */
    private void plugNets(int vmid, List<NetPlug> plugs) {
        Map<String, String> errors = new TreeMap<>();
        for (NetPlug plug : plugs) {
            try {
                plug.action().run();
            } catch (RuntimeException e) {
                errors.put(plug.key(), "hotplug problem - " + e.getMessage());
                service.configs().update(vmid, Optional.empty(), c -> {
                    CtSection main = plug.before().map(v -> c.main().with(plug.key(), v)).orElse(c.main().without(plug.key()));
                    CtSection pending = plug.after().map(v -> c.pending().with(plug.key(), v)).orElseGet(() -> {
                        List<String> deletes = new ArrayList<>(c.pending().get("delete").map(Formats::splitList).orElse(List.of()));
                        deletes.add(plug.key());
                        return c.pending().with("delete", String.join(",", deletes));
                    });
                    return c.withMain(main).withPending(pending);
                });
            }
        }
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
    }

    /** A mount point keeps its recorded size when a change names the same volume without one. */
    private static String keepSize(String key, Optional<String> old, String value) {
        if (old.isEmpty()) {
            return value;
        }
        MountPoint before = MountPoint.parse(key, old.get());
        MountPoint after = MountPoint.parse(key, value);
        if (after.volume().equals(before.volume()) && after.sizeBytes().isEmpty() && before.sizeBytes().isPresent()) {
            return after.withSize(before.sizeBytes().getAsLong()).format();
        }
        return value;
    }

    /** A mount point whose volume changes leaves the old volume as {@code unusedN}. */
    private static CtSection replaceVolume(CtSection main, String key, String newValue) {
        Optional<String> old = main.get(key);
        if (old.isEmpty()) {
            return main;
        }
        MountPoint before = MountPoint.parse(key, old.get());
        if (before.type() != MountPoint.Type.VOLUME) {
            return main;
        }
        if (newValue != null && MountPoint.parse(key, newValue).volume().equals(before.volume())) {
            return main;
        }
        return main.with(freeUnusedKey(main), before.volume());
    }

    /** Writes changed memory and CPU limits into a running container's cgroup. */
    private void applyLimits(int vmid, CtSection conf, Set<String> changed) {
        boolean memory = changed.contains("memory") || changed.contains("swap");
        boolean cpu = changed.contains("cpulimit") || changed.contains("cpuunits") || changed.contains("cores");
        if (memory || cpu) {
            new CgroupLimits(service.driver(), vmid).apply(conf, memory, cpu);
        }
    }
}
