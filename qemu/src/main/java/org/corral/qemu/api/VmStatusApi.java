package org.corral.qemu.api;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.PermissionDenied;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.core.task.TaskBody;
import org.corral.qemu.QemuCommandLine;
import org.corral.qemu.QemuDriver;
import org.corral.qemu.config.VmOptions;
import org.corral.qemu.QemuService;
import org.corral.qemu.VmConfigs;

/** {@code /nodes/{node}/qemu/{vmid}/status}: current state, start, stop, shutdown, reboot, reset, suspend, resume. */
public final class VmStatusApi implements ApiModule {
    private static final String STATUS = "/nodes/{node}/qemu/{vmid}/status";

    private final QemuService service;

    public VmStatusApi(QemuService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public List<ApiMethod> methods() {
        List<ApiMethod> methods = new ArrayList<>();
        methods.add(base(ApiMethod.get(STATUS).name("vmcmdidx").description("Directory index")
                .permission(Check.authenticated())
                .directoryIndex("subdir", r -> {
                    ApiParams.checkNode(r, service.node());
                    service.configs().load(r.vmId("vmid"));
                })));
        methods.add(base(ApiMethod.get(STATUS + "/current").name("vm_status").description("Get virtual machine status.")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_AUDIT))
                .returns(Schema.object())
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    int vmid = r.vmId("vmid");
                    return service.driver().status(vmid, service.configs().load(vmid).config(), true);
                })));
        methods.add(power(ApiMethod.post(STATUS + "/start").name("vm_start").description("Start virtual machine.")
                .parameter("timeout", Schema.integer().minimum(0).maximum(86400).optional()
                        .description("Wait maximal timeout seconds. Default 30."))
                .parameter("machine", Schema.string().pattern(VmOptions.MACHINE_TYPE).optional()
                        .description("Specify the QEMU machine, instead of the config's (pinned to the newest version QEMU offers)."))
                .parameter("stateuri", Schema.string().maxLength(128).optional().description("Some command save/restore state from this location."))
                .parameter("migratedfrom", ApiParams.node().optional()
                        .description("The cluster node name.")), "qmstart", (r, vmid) -> {
                    Duration timeout = r.optionalLong("timeout").map(Duration::ofSeconds).orElse(QemuDriver.DEFAULT_START_TIMEOUT);
                    QemuDriver.StartOptions options = new QemuDriver.StartOptions(timeout, skiplock(r), Optional.empty(),
                            r.optionalString("machine").map(QemuCommandLine::debianMachine));
                    service.driver().checkStartable(vmid, service.configs().load(vmid).config(), options.skiplock());
                    return ctx -> service.driver().start(vmid, options, ctx);
                }));
        methods.add(power(ApiMethod.post(STATUS + "/stop").name("vm_stop").worksWithoutQuorum()
                .description("Stop virtual machine. The qemu process will exit immediately. This is akin to pulling the power plug of a running computer and may damage the VM data.")
                .parameter("timeout", Schema.integer().minimum(0).optional().description("Wait maximal timeout seconds."))
                .parameter("keepActive", Schema.bool().optional().description("Do not deactivate storage volumes."))
                .parameter("overrule-shutdown", Schema.bool().optional().description("Try to abort active 'qmshutdown' tasks before stopping."))
                .parameter("migratedfrom", ApiParams.node().optional().description("The cluster node name.")), "qmstop", (r, vmid) -> {
                    Duration timeout = r.optionalLong("timeout").map(Duration::ofSeconds).orElse(QemuDriver.DEFAULT_STOP_TIMEOUT);
                    boolean skip = skiplock(r);
                    checkLock(vmid, skip, true);
                    return ctx -> service.driver().stop(vmid, timeout, skip, ctx);
                }));
        methods.add(power(ApiMethod.post(STATUS + "/shutdown").name("vm_shutdown").worksWithoutQuorum()
                .description("Shutdown virtual machine. This is similar to pressing the power button on a physical machine. This will send an ACPI event for the guest OS, which should then proceed to a clean shutdown.")
                .parameter("timeout", Schema.integer().minimum(0).optional().description("Wait maximal timeout seconds."))
                .parameter("forceStop", Schema.bool().defaultValue(false).description("Make sure the VM stops."))
                .parameter("keepActive", Schema.bool().optional().description("Do not deactivate storage volumes.")), "qmshutdown", (r, vmid) -> {
                    Duration timeout = r.optionalLong("timeout").map(Duration::ofSeconds).orElse(QemuDriver.DEFAULT_SHUTDOWN_TIMEOUT);
                    boolean skip = skiplock(r);
                    boolean force = r.bool("forceStop");
                    checkLock(vmid, skip, false);
                    return ctx -> service.driver().shutdown(vmid, timeout, force, skip, ctx);
                }));
        methods.add(power(ApiMethod.post(STATUS + "/reboot").name("vm_reboot")
                .description("Reboot the VM by shutting it down, and starting it again. Applies pending changes.")
                .parameter("timeout", Schema.integer().minimum(0).optional().description("Wait maximal timeout seconds for the shutdown.")),
                "qmreboot", (r, vmid) -> {
                    Duration timeout = r.optionalLong("timeout").map(Duration::ofSeconds).orElse(QemuDriver.DEFAULT_SHUTDOWN_TIMEOUT);
                    checkLock(vmid, false, false);
                    requireRunning(vmid);
                    return ctx -> service.driver().reboot(vmid, timeout, ctx);
                }));
        methods.add(power(ApiMethod.post(STATUS + "/reset").name("vm_reset").description("Reset virtual machine."), "qmreset", (r, vmid) -> {
            boolean skip = skiplock(r);
            checkLock(vmid, skip, false);
            requireRunning(vmid);
            return ctx -> service.driver().reset(vmid, skip);
        }));
        methods.add(power(ApiMethod.post(STATUS + "/suspend").name("vm_suspend")
                .description("Suspend virtual machine. With todisk=1 the RAM is saved to a state volume and the VM stops; starting it resumes.")
                .parameter("todisk", Schema.bool().defaultValue(false)
                        .description("If set, suspends the VM to disk. Will be resumed on next VM start."))
                .parameter("statestorage", Schema.string().format(Formats.PVE_STORAGE_ID).optional()
                        .description("The storage for the VM state")), "qmsuspend", (r, vmid) -> {
                    boolean skip = skiplock(r);
                    boolean todisk = r.bool("todisk");
                    if (todisk) {
                        // saving RAM to a volume needs the disk privileges too
                        if (!r.can("/vms/" + vmid, Privilege.VM_CONFIG_DISK)) {
                            throw new PermissionDenied("Permission check failed (/vms/" + vmid + ", VM.Config.Disk)");
                        }
                        r.optionalString("statestorage").ifPresent(s -> {
                            if (!r.can("/storage/" + s, Privilege.DATASTORE_ALLOCATE_SPACE)) {
                                throw new PermissionDenied("Permission check failed (/storage/" + s + ", Datastore.AllocateSpace)");
                            }
                        });
                    }
                    checkLock(vmid, skip, false);
                    requireRunning(vmid);
                    Optional<String> storage = r.optionalString("statestorage");
                    return todisk ? ctx -> service.driver().suspendToDisk(vmid, storage, skip, ctx) : ctx -> service.driver().pause(vmid, skip);
                }));
        methods.add(power(ApiMethod.post(STATUS + "/resume").name("vm_resume").description("Resume virtual machine.")
                .parameter("nocheck", Schema.bool().optional().description("Skip the lock check (used by migration).")), "qmresume",
                (r, vmid) -> {
                    boolean skip = skiplock(r);
                    boolean nocheck = ApiParams.flag(r, "nocheck");
                    requireRunning(vmid);
                    return ctx -> service.driver().resume(vmid, skip, nocheck);
                }));
        return methods;
    }

    /** Prepares a power task: checks run before the UPID is handed out, the body runs in the task. */
    @FunctionalInterface
    private interface PowerAction {
        TaskBody prepare(ApiRequest request, int vmid);
    }

    private ApiMethod base(ApiMethod method) {
        return method.proxyToNode().parameter("node", ApiParams.node()).parameter("vmid", ApiParams.vmid());
    }

    private ApiMethod power(ApiMethod method, String type, PowerAction action) {
        return base(method)
                .permission(Check.path("/vms/{vmid}", Privilege.VM_POWER_MGMT))
                .parameter("skiplock", ApiParams.skiplock())
                .returns(ApiParams.upid())
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    int vmid = r.vmId("vmid");
                    TaskBody body = action.prepare(r, vmid);
                    return service.tasks().start(type, Integer.toString(vmid), r.auth().authid(), body).format();
                });
    }

    private static boolean skiplock(ApiRequest request) {
        boolean skip = ApiParams.flag(request, "skiplock");
        if (skip && !request.auth().isRoot()) {
            throw new PermissionDenied("Only root may use this option.");
        }
        return skip;
    }

    private void checkLock(int vmid, boolean skiplock, boolean allowSuspended) {
        var config = service.configs().load(vmid).config();
        if (!skiplock && !(allowSuspended && config.lock().filter("suspended"::equals).isPresent())) {
            VmConfigs.checkLock(config);
        }
    }

    private void requireRunning(int vmid) {
        if (!service.driver().runtime().isRunning(vmid)) {
            throw org.corral.qemu.VmRuntime.notRunning(vmid);
        }
    }
}
