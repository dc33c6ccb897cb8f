package org.corral.lxc.config;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A container's {@code nodes/NODE/lxc/VMID.conf}: the current section, the pending changes
 * ({@code [pve:pending]}) and the snapshots ({@code [name]}, written sorted by name).
 */
public record CtConfig(CtSection main, CtSection pending, SortedMap<String, CtSection> snapshots) {
    public CtConfig {
        requireNonNull(main, "main is null");
        requireNonNull(pending, "pending is null");
        snapshots = Collections.unmodifiableSortedMap(new TreeMap<>(requireNonNull(snapshots, "snapshots is null")));
    }

    public static CtConfig of(CtSection main) {
        return new CtConfig(main, CtSection.EMPTY, new TreeMap<>());
    }

    public CtConfig withMain(CtSection section) {
        return new CtConfig(section, pending, snapshots);
    }

    public CtConfig withPending(CtSection section) {
        return new CtConfig(main, section, snapshots);
    }

    public CtConfig withSnapshot(String name, CtSection section) {
        TreeMap<String, CtSection> next = new TreeMap<>(snapshots);
        next.put(name, section);
        return new CtConfig(main, pending, next);
    }

    public CtConfig withoutSnapshot(String name) {
        TreeMap<String, CtSection> next = new TreeMap<>(snapshots);
        next.remove(name);
        return new CtConfig(main, pending, next);
    }

    public Optional<String> lock() {
        return main.get("lock");
    }

    public boolean isTemplate() {
        return main.getBool("template", false);
    }

    public boolean isUnprivileged() {
        return main.getBool("unprivileged", false);
    }
}
