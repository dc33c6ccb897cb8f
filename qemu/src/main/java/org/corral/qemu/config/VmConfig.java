package org.corral.qemu.config;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.corral.core.schema.Formats;

/**
 * One VM's configuration as {@code qemu-server/<vmid>.conf} holds it: the current options, the
 * pending changes ({@code [PENDING]}, with {@code delete}) and the snapshots ({@code [name]}).
 * Values are Proxmox's text; the description is the {@code description} option. Immutable: every
 * change answers a new config.
 */
public record VmConfig(SortedMap<String, String> options, SortedMap<String, String> pending,
        SortedMap<String, SortedMap<String, String>> snapshots) {
    public static final String DESCRIPTION = "description";
    public static final String DELETE = "delete";

    public VmConfig {
        options = Collections.unmodifiableSortedMap(new TreeMap<>(requireNonNull(options, "options is null")));
        pending = Collections.unmodifiableSortedMap(new TreeMap<>(requireNonNull(pending, "pending is null")));
        TreeMap<String, SortedMap<String, String>> copy = new TreeMap<>();
        requireNonNull(snapshots, "snapshots is null").forEach((name, section) ->
                copy.put(name, Collections.unmodifiableSortedMap(new TreeMap<>(section))));
        snapshots = Collections.unmodifiableSortedMap(copy);
    }

    /** A pending deletion; {@code force} ({@code !key}) destroys a disk instead of keeping it as unused. */
    public record PendingDelete(String key, boolean force) {}

    public static VmConfig empty() {
        return new VmConfig(new TreeMap<>(), new TreeMap<>(), new TreeMap<>());
    }

    public static VmConfig of(Map<String, String> options) {
        return new VmConfig(new TreeMap<>(options), new TreeMap<>(), new TreeMap<>());
    }

    public Optional<String> get(String key) {
        return Optional.ofNullable(options.get(key));
    }

    public boolean has(String key) {
        return options.containsKey(key);
    }

    public VmConfig with(String key, String value) {
        TreeMap<String, String> next = new TreeMap<>(options);
        next.put(requireNonNull(key, "key is null"), requireNonNull(value, "value is null"));
        return new VmConfig(next, pending, snapshots);
    }

    public VmConfig without(String... keys) {
        TreeMap<String, String> next = new TreeMap<>(options);
        for (String key : keys) {
            next.remove(key);
        }
        return new VmConfig(next, pending, snapshots);
    }

    public VmConfig withOptions(Map<String, String> next) {
        return new VmConfig(new TreeMap<>(next), pending, snapshots);
    }

    public VmConfig withPending(Map<String, String> next) {
        return new VmConfig(options, new TreeMap<>(next), snapshots);
    }

    public VmConfig withSnapshot(String name, Map<String, String> section) {
        TreeMap<String, SortedMap<String, String>> next = new TreeMap<>(snapshots);
        next.put(name, new TreeMap<>(section));
        return new VmConfig(options, pending, next);
    }

    public VmConfig withoutSnapshot(String name) {
        TreeMap<String, SortedMap<String, String>> next = new TreeMap<>(snapshots);
        next.remove(name);
        return new VmConfig(options, pending, next);
    }

    public Optional<String> lock() {
        return get("lock");
    }

    public boolean isTemplate() {
        return flag("template", false);
    }

    public boolean isProtected() {
        return flag("protection", false);
    }

    public Optional<String> parent() {
        return get("parent");
    }

    public Optional<String> description() {
        return get(DESCRIPTION);
    }

    /** A boolean option, {@code fallback} when unset. */
    public boolean flag(String key, boolean fallback) {
        return get(key).map(VmConfig::isTrue).orElse(fallback);
    }

    static boolean isTrue(String value) {
        return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "1", "yes", "on", "true" -> true;
            default -> false;
        };
    }

    public long memoryMiB() {
        return get("memory").map(m -> Long.parseLong(PropertyStrings.parse(VmOptions.MEMORY, m).get("current"))).orElse(512L);
    }

    public int sockets() {
        return get("sockets").map(Integer::parseInt).orElse(1);
    }

    public int cores() {
        return get("cores").map(Integer::parseInt).orElse(1);
    }

    /** The vCPUs the guest starts with. */
    public int vcpus() {
        return get("vcpus").map(Integer::parseInt).orElse(sockets() * cores());
    }

    /** Drives of the current config, by key in Proxmox's order ({@code ide0}, ... {@code virtio15}, efidisk0). */
    public SortedMap<String, Drive> drives() {
        return drives(options);
    }

    public static SortedMap<String, Drive> drives(Map<String, String> section) {
        TreeMap<String, Drive> drives = new TreeMap<>(Drive.ORDER);
        section.forEach((key, value) -> {
            if (VmOptions.isDrive(key)) {
                drives.put(key, Drive.parse(key, value));
            }
        });
        return drives;
    }

    public List<NetDevice> nets() {
        List<NetDevice> nets = new ArrayList<>();
        for (int i = 0; i < VmOptions.MAX_NETS; i++) {
            String value = options.get("net" + i);
            if (value != null) {
                nets.add(NetDevice.parse("net" + i, value));
            }
        }
        return nets;
    }

    public List<PendingDelete> pendingDeletes() {
        String value = pending.get(DELETE);
        if (value == null) {
            return List.of();
        }
        List<PendingDelete> deletes = new ArrayList<>();
        for (String item : Formats.splitList(value)) {
            boolean force = item.startsWith("!");
            deletes.add(new PendingDelete(force ? item.substring(1) : item, force));
        }
        return deletes;
    }

    /** The pending {@code delete} value for {@code deletes}, or nothing when empty. */
    public static Optional<String> deleteValue(List<PendingDelete> deletes) {
        if (deletes.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(String.join(",", deletes.stream().map(d -> (d.force() ? "!" : "") + d.key()).toList()));
    }

    /** The first free {@code unusedN} key. */
    public String nextUnusedKey() {
        for (int i = 0; i < VmOptions.MAX_UNUSED; i++) {
            if (!options.containsKey("unused" + i)) {
                return "unused" + i;
            }
        }
        throw new IllegalStateException("too many unused volumes");
    }

    /**
     * Every volume id the config references, in the current options, pending changes and snapshots
     * (cdroms with ISOs excluded unless {@code withCdroms}).
     */
    public List<String> referencedVolumes(boolean withCdroms) {
        List<String> out = new ArrayList<>();
        List<Map<String, String>> sections = new ArrayList<>();
        sections.add(options);
        sections.add(pending);
        sections.addAll(snapshots.values());
        for (Map<String, String> section : sections) {
            section.forEach((key, value) -> {
                if (VmOptions.isDrive(key)) {
                    Drive drive = Drive.parse(key, value);
                    if (drive.isVolume() && (withCdroms || !drive.isCdrom() || drive.isCloudInit())) {
                        addOnce(out, drive.file());
                    }
                } else if (VmOptions.isUnused(key) || key.equals("vmstate")) {
                    addOnce(out, value);
                }
            });
        }
        return out;
    }

    private static void addOnce(List<String> list, String value) {
        if (!list.contains(value)) {
            list.add(value);
        }
    }
}
