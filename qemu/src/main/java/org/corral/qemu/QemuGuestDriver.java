package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.corral.core.guest.GuestDriver;
import org.corral.core.task.TaskContext;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmConfigCodec;

/** VMs as {@link GuestDriver}: configs, qemu-server's {@code lock:} rules and power state. */
public final class QemuGuestDriver implements GuestDriver {
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
}
