package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.corral.core.guest.FileTreeGuest;
import org.corral.core.task.TaskContext;
import org.corral.lxc.config.CtConfig;
import org.corral.lxc.config.CtConfigCodec;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.config.MountPoint;

/** Containers as {@link FileTreeGuest}: what backup needs of them, with pve-container's lock rules. */
public final class LxcGuestDriver implements FileTreeGuest {
    private final LxcService service;

    LxcGuestDriver(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public String type() {
        return "lxc";
    }

    @Override
    public List<Integer> list() {
        return service.configs().list();
    }

    @Override
    public boolean exists(int vmid) {
        return service.configs().find(vmid).isPresent();
    }

    @Override
    public Optional<String> name(int vmid) {
        return service.configs().load(vmid).config().main().get("hostname");
    }

    @Override
    public String configText(int vmid) {
        CtConfig config = service.configs().load(vmid).config();
        // as vzdump keeps it: no lock, no snapshot tree
        return CtConfigCodec.write(CtConfig.of(config.main().without("lock").without("parent")));
    }

    @Override
    public void lock(int vmid, String name) {
        service.configs().lock(vmid, name);
    }

    @Override
    public void unlock(int vmid, String name) {
        service.configs().unlock(vmid, name);
    }

    @Override
    public boolean isRunning(int vmid) {
        return service.driver().isRunning(vmid);
    }

    @Override
    public void stop(int vmid, Duration timeout, TaskContext ctx) {
        service.configs().locked(vmid, () -> {
            service.driver().shutdown(vmid, timeout, true);
            return null;
        });
    }

    @Override
    public void start(int vmid, TaskContext ctx) {
        service.configs().locked(vmid, () -> {
            service.power().startNow(vmid, false, ctx::log);
            return null;
        });
    }

    @Override
    public void freeze(int vmid) {
        service.driver().freeze(vmid);
    }

    @Override
    public void thaw(int vmid) {
        service.driver().unfreeze(vmid);
    }

    private List<MountPoint> included(int vmid) {
        CtSection main = service.configs().load(vmid).config().main();
        List<MountPoint> out = new ArrayList<>();
        for (String key : Power.volumeKeys(main)) {
            MountPoint mp = MountPoint.parse(key, main.get(key).orElseThrow());
            if (mp.isRoot()) {
                out.add(0, mp);
            } else if (mp.backup()) {
                throw new IllegalStateException("mount point " + key + " ('" + mp.path() + "') has backup=1: "
                        + "Corral backs up the root file system only so far");
            }
        }
        if (out.isEmpty() || !out.get(0).isRoot()) {
            throw new IllegalStateException("CT " + vmid + " has no root file system volume to back up");
        }
        return out;
    }

    @Override
    public List<TreeVolume> backupVolumes(int vmid, Optional<String> snapshot) {
        List<TreeVolume> out = new ArrayList<>();
        for (MountPoint mp : included(vmid)) {
            out.add(new TreeVolume(mp.key(), mp.path(), service.storage().path(mp.volume(), snapshot)));
        }
        return out;
    }

    @Override
    public boolean canSnapshot(int vmid) {
        return included(vmid).stream().allMatch(mp -> service.storage().canSnapshot(mp.volume()));
    }

    @Override
    public void snapshot(int vmid, String name) {
        List<String> done = new ArrayList<>();
        try {
            for (MountPoint mp : included(vmid)) {
                service.storage().snapshot(mp.volume(), name);
                done.add(mp.volume());
            }
        } catch (RuntimeException e) {
            for (String volid : done) {
                try {
                    service.storage().deleteSnapshot(volid, name);
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        }
    }

    @Override
    public void deleteSnapshot(int vmid, String name) {
        RuntimeException first = null;
        for (MountPoint mp : included(vmid)) {
            try {
                service.storage().deleteSnapshot(mp.volume(), name);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public long rootId(int vmid) {
        return service.configs().load(vmid).config().isUnprivileged() ? LxcConfigWriter.ID_MAP_BASE : 0;
    }
}
