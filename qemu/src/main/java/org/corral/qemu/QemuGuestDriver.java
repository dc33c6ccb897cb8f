package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.ArrayList;
import org.corral.core.guest.DiskImageGuest;
import org.corral.qemu.config.Drive;
import org.corral.core.task.TaskContext;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmConfigCodec;

/** VMs as {@link DiskImageGuest}: configs, qemu-server's {@code lock:} rules, power state and disks. */
public final class QemuGuestDriver implements DiskImageGuest {
    private final QemuService service;

    QemuGuestDriver(QemuService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public String type() {
        return "qemu";
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
        return service.configs().load(vmid).config().get("name");
    }

    @Override
    public String configText(int vmid) {
        VmConfig config = service.configs().load(vmid).config();
        // as vzdump keeps it: no lock, no snapshot tree
        return VmConfigCodec.write(VmConfig.of(config.options()).without("lock", "parent"));
    }

    @Override
    public void lock(int vmid, String name) {
        service.configs().update(vmid, c -> {
            VmConfigs.checkLock(c);
            return c.with("lock", name);
        });
    }

    @Override
    public void unlock(int vmid, String name) {
        if (service.configs().find(vmid).isEmpty()) {
            return;
        }
        service.configs().update(vmid, c -> c.lock().filter(name::equals).isPresent() ? c.without("lock") : c);
    }

    @Override
    public boolean isRunning(int vmid) {
        return service.driver().runtime().isRunning(vmid);
    }

    @Override
    public void stop(int vmid, Duration timeout, TaskContext ctx) {
        service.driver().shutdown(vmid, timeout, true, true, ctx);
    }

    @Override
    public void start(int vmid, TaskContext ctx) {
        service.driver().start(vmid, new QemuDriver.StartOptions(QemuDriver.DEFAULT_START_TIMEOUT, true, Optional.empty()), ctx);
    }

    @Override
    public void freeze(int vmid) {
        service.driver().pause(vmid, true);
    }

    @Override
    public void thaw(int vmid) {
        service.driver().resume(vmid, true, true);
    }

    @Override
    public List<DiskImage> backupDisks(int vmid) {
        List<DiskImage> out = new ArrayList<>();
        for (Drive drive : service.configs().load(vmid).config().drives().values()) {
            if (drive.isCdrom() || drive.isCloudInit() || drive.isNone() || !drive.flag("backup", true)) {
                continue;
            }
            if (!drive.isVolume()) {
                throw new IllegalStateException("drive " + drive.key() + " ('" + drive.file() + "') is not a storage volume and can't be backed up");
            }
            out.add(new DiskImage(drive.key(), drive.file(), service.volumes().path(drive.file())));
        }
        return out;
    }
}
