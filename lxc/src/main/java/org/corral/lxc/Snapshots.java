package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.error.Conflict;
import org.corral.core.error.ParameterError;
import org.corral.lxc.config.CtConfig;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.config.MountPoint;

/**
 * Container snapshots as Proxmox keeps them: a {@code [name]} section holding the config at the
 * time with {@code snaptime}, the current config's {@code parent} naming the newest, and a
 * storage snapshot of every volume mount point (taken with the container frozen when it runs).
 * Storage that can't snapshot (plain dir) is refused before anything changes.
 */
public final class Snapshots {
    private final LxcService service;

    Snapshots(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    private CtConfigs configs() {
        return service.configs();
    }

    private ContainerStorage storage() {
        return service.storage();
    }

    private List<String> volumes(CtSection section) {
        List<String> out = new ArrayList<>();
        for (String key : Power.volumeKeys(section)) {
            out.add(MountPoint.parse(key, section.get(key).orElseThrow()).volume());
        }
        return out;
    }

    private void requireSnapshotFeature(CtSection section) {
        for (String volid : volumes(section)) {
            if (!storage().canSnapshot(volid)) {
                throw new ParameterError("snapname", "snapshot feature is not available");
            }
        }
    }

    /** {@code GET .../snapshot}: every snapshot plus the {@code current} entry, as Proxmox lists them. */
    public List<Map<String, Object>> list(int vmid) {
        CtConfig config = configs().load(vmid).config();
        List<Map<String, Object>> out = new ArrayList<>();
        config.snapshots().forEach((name, s) -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", name);
            entry.put("description", s.description().strip());
            s.get("snaptime").ifPresent(t -> entry.put("snaptime", Long.parseLong(t)));
            s.get("parent").ifPresent(p -> entry.put("parent", p));
            out.add(entry);
        });
        Map<String, Object> current = new LinkedHashMap<>();
        current.put("name", "current");
        current.put("description", "You are here!");
        config.main().get("parent").ifPresent(p -> current.put("parent", p));
        current.put("running", service.driver().isRunning(vmid) ? 1 : 0);
        out.add(current);
        return out;
    }

    /** {@code POST .../snapshot}: a {@code vzsnapshot} task. */
    public String create(int vmid, String user, String name, Optional<String> description) {
        CtConfig config = configs().load(vmid).config();
        CtConfigs.checkLock(config);
        if (name.equals("current") || name.equals("vzdump")) {
            throw new ParameterError("snapname", "snapshot name '" + name + "' is reserved");
        }
        if (config.snapshots().containsKey(name)) {
            throw new ParameterError("snapname", "snapshot name '" + name + "' already used");
        }
        requireSnapshotFeature(config.main());
        return service.task("vzsnapshot", vmid, user, ctx -> configs().locked(vmid, () -> {
            CtConfig locked = configs().update(vmid, Optional.empty(), c -> {
                CtConfigs.checkLock(c);
                CtSection snap = c.main().without("lock").without("parent").with("snapstate", "prepare")
                        .withDescription(description.map(d -> d.endsWith("\n") ? d : d + "\n").orElse(""));
                return c.withMain(c.main().with("lock", "snapshot")).withSnapshot(name, withParent(snap, c.main().get("parent")));
            }).config();
            List<String> done = new ArrayList<>();
            boolean frozen = false;
            try {
                if (service.driver().state(vmid) == LxcDriver.State.RUNNING) {
                    service.driver().freeze(vmid);
                    frozen = true;
                    ctx.log("froze CT %d for a consistent snapshot", vmid);
                }
                for (String volid : volumes(locked.main())) {
                    storage().snapshot(volid, name);
                    done.add(volid);
                    ctx.log("snapshot of %s created", volid);
                }
            } catch (RuntimeException e) {
                for (String volid : done) {
                    try {
                        storage().deleteSnapshot(volid, name);
                    } catch (RuntimeException cleanup) {
                        ctx.warn("could not remove snapshot of %s: %s", volid, cleanup.getMessage());
                    }
                }
                configs().update(vmid, Optional.empty(), c -> c.withoutSnapshot(name).withMain(c.main().without("lock")));
                throw e;
            } finally {
                if (frozen) {
                    service.driver().unfreeze(vmid);
                }
            }
            long now = service.clock().instant().getEpochSecond();
            configs().update(vmid, Optional.empty(), c -> {
                CtSection snap = c.snapshots().get(name).without("snapstate").with("snaptime", Long.toString(now));
                return c.withSnapshot(name, snap).withMain(c.main().without("lock").with("parent", name));
            });
            return null;
        }));
    }

    private static CtSection withParent(CtSection snap, Optional<String> parent) {
        return parent.map(p -> snap.with("parent", p)).orElse(snap);
    }

    /** {@code POST .../snapshot/{snapname}/rollback}: a {@code vzrollback} task; stops the container first. */
    public String rollback(int vmid, String user, String name, boolean start) {
        CtConfig config = configs().load(vmid).config();
        CtConfigs.checkLock(config);
        CtSection snap = Optional.ofNullable(config.snapshots().get(name))
                .orElseThrow(() -> new ParameterError("snapname", "snapshot '" + name + "' does not exist"));
        if (config.main().getBool("protection", false)) {
            throw new Conflict("can't rollback CT " + vmid + " - protection mode enabled");
        }
        requireSnapshotFeature(snap);
        return service.task("vzrollback", vmid, user, ctx -> configs().locked(vmid, () -> {
            configs().lock(vmid, "rollback");
            try {
                if (service.driver().isRunning(vmid)) {
                    service.driver().stop(vmid);
                    ctx.log("stopped CT %d", vmid);
                }
                for (String volid : volumes(snap)) {
                    storage().rollback(volid, name);
                    ctx.log("rolled back %s to '%s'", volid, name);
                }
                configs().update(vmid, Optional.empty(), c -> {
                    // the container's own description survives a rollback, as in Proxmox
                    CtSection restored = c.snapshots().get(name).without("snaptime").without("snapstate").with("parent", name)
                            .with("lock", "rollback").withDescription(c.main().description());
                    return c.withMain(restored).withPending(CtSection.EMPTY);
                });
            } finally {
                configs().unlock(vmid, "rollback");
            }
            if (start) {
                service.power().startNow(vmid, false, ctx::log);
            }
            return null;
        }));
    }

    /** {@code DELETE .../snapshot/{snapname}}: a {@code vzdelsnapshot} task. */
    public String delete(int vmid, String user, String name, boolean force) {
        CtConfig config = configs().load(vmid).config();
        if (!force) {
            CtConfigs.checkLock(config);
        }
        CtSection snap = Optional.ofNullable(config.snapshots().get(name))
                .orElseThrow(() -> new ParameterError("snapname", "snapshot '" + name + "' does not exist"));
        return service.task("vzdelsnapshot", vmid, user, ctx -> configs().locked(vmid, () -> {
            configs().update(vmid, Optional.empty(), c -> {
                if (!force) {
                    CtConfigs.checkLock(c);
                }
                return c.withMain(c.main().with("lock", "snapshot-delete"));
            });
            try {
                for (String volid : volumes(snap)) {
                    try {
                        storage().deleteSnapshot(volid, name);
                        ctx.log("removed snapshot '%s' of %s", name, volid);
                    } catch (RuntimeException e) {
                        if (!force) {
                            throw e;
                        }
                        ctx.warn("could not remove snapshot of %s: %s", volid, e.getMessage());
                    }
                }
                Optional<String> parent = snap.get("parent");
                configs().update(vmid, Optional.empty(), c -> {
                    CtConfig next = c.withoutSnapshot(name);
                    for (Map.Entry<String, CtSection> e : c.snapshots().entrySet()) {
                        if (e.getValue().get("parent").filter(name::equals).isPresent()) {
                            next = next.withSnapshot(e.getKey(), withParent(e.getValue().without("parent"), parent));
                        }
                    }
                    CtSection main = next.main();
                    if (main.get("parent").filter(name::equals).isPresent()) {
                        main = withParent(main.without("parent"), parent);
                    }
                    return next.withMain(main);
                });
            } finally {
                configs().unlock(vmid, "snapshot-delete");
            }
            return null;
        }));
    }

    /** {@code GET .../snapshot/{snapname}/config}. */
    public Map<String, Object> config(int vmid, String name) {
        CtConfig config = configs().load(vmid).config();
        CtSection snap = Optional.ofNullable(config.snapshots().get(name))
                .orElseThrow(() -> new ParameterError("snapname", "snapshot '" + name + "' does not exist"));
        return ConfigEditor.answer(snap, Optional.empty());
    }

    /** {@code PUT .../snapshot/{snapname}/config}: only the description changes. */
    public void describe(int vmid, String name, Optional<String> description) {
        configs().update(vmid, Optional.empty(), c -> {
            CtSection snap = Optional.ofNullable(c.snapshots().get(name))
                    .orElseThrow(() -> new ParameterError("snapname", "snapshot '" + name + "' does not exist"));
            return c.withSnapshot(name, snap.withDescription(description.map(d -> d.endsWith("\n") ? d : d + "\n").orElse("")));
        });
    }
}
