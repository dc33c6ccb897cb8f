package org.corral.lxc.api;

import static java.util.Objects.requireNonNull;
import static org.corral.lxc.api.ApiParams.CT;
import static org.corral.lxc.api.ApiParams.VM_PATH;

import java.util.List;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Schema;
import org.corral.lxc.LxcService;

/** {@code .../status/*}: current state and the power actions, each a worker task. */
public final class LxcStatusApi implements ApiModule {
    private final LxcService service;

    public LxcStatusApi(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(index(), current(), start(), stop(), shutdown(), reboot(), suspend(), resume(), interfaces());
    }

    private ApiMethod index() {
        return ApiParams.ct(ApiMethod.get(CT + "/status").name("vmcmdidx").description("Directory index")
                        .permission(Check.authenticated()))
                .directoryIndex("subdir", r -> {
                    service.checkNode(r.string("node"));
                    service.configs().load(r.vmId("vmid"));
                });
    }

    private ApiMethod current() {
        return ApiParams.ct(ApiMethod.get(CT + "/status/current").name("vm_status").description("Get virtual machine status.")
                        .permission(Check.path(VM_PATH, Privilege.VM_AUDIT)))
                .returns(Schema.object().description("Status, resource use (cpu, mem, swap, disk, netin, netout) and pid."))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    int vmid = r.vmId("vmid");
                    return service.power().status(vmid, service.configs().load(vmid).config(), true);
                });
    }

    private ApiMethod interfaces() {
        return ApiParams.ct(ApiMethod.get(CT + "/interfaces").name("ip").description("Get IP addresses of the specified container interface.")
                        .permission(Check.path(VM_PATH, Privilege.VM_AUDIT)))
                .returns(Schema.array(Schema.object()
                        .property("name", Schema.string().description("The name of the interface"))
                        .property("hwaddr", Schema.string().description("The MAC address of the interface"))
                        .property("inet", Schema.string().optional().description("The IPv4 address of the interface"))
                        .property("inet6", Schema.string().optional().description("The IPv6 address of the interface"))))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    int vmid = r.vmId("vmid");
                    service.configs().load(vmid);
                    return service.driver().interfaces(vmid);
                });
    }

    private static ApiMethod power(String action, String name, String description) {
        return ApiParams.ct(ApiMethod.post(CT + "/status/" + action).name(name).description(description)
                        .permission(Check.path(VM_PATH, Privilege.VM_POWER_MGMT)))
                .returns(ApiParams.upid());
    }

    private static boolean skiplock(ApiRequest r) {
        if (r.bool("skiplock") && !r.auth().isRoot()) {
            throw new ParameterError("skiplock", "Only root may use this option.");
        }
        return r.bool("skiplock");
    }

    private ApiMethod start() {
        return power("start", "vm_start", "Start the container.")
                .parameter("skiplock", Schema.bool().optional().description("Ignore locks - only root is allowed to use this option."))
                .parameter("debug", Schema.bool().defaultValue(false)
                        .description("If set, enables very verbose debug log-level on start."))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.power().start(r.vmId("vmid"), r.auth().userid(), skiplock(r), r.bool("debug"));
                });
    }

    private ApiMethod stop() {
        return power("stop", "vm_stop", "Stop the container. This will abruptly stop all processes running in the container.")
                .worksWithoutQuorum()
                .parameter("skiplock", Schema.bool().optional().description("Ignore locks - only root is allowed to use this option."))
                .parameter("overrule-shutdown", Schema.bool().defaultValue(false)
                        .description("Try to abort active 'vzshutdown' tasks before stopping."))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.power().stop(r.vmId("vmid"), r.auth().userid(), skiplock(r));
                });
    }

    private ApiMethod shutdown() {
        return power("shutdown", "vm_shutdown", "Shutdown the container. This will trigger a clean shutdown of the container, "
                        + "see lxc-stop(1) for details.")
                .worksWithoutQuorum()
                .parameter("timeout", Schema.integer().minimum(0).defaultValue(60).description("Wait maximal timeout seconds."))
                .parameter("forceStop", Schema.bool().defaultValue(false).description("Make sure the Container stops."))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.power().shutdown(r.vmId("vmid"), r.auth().userid(), r.integer("timeout"), r.bool("forceStop"));
                });
    }

    private ApiMethod reboot() {
        return power("reboot", "vm_reboot", "Reboot the container by shutting it down, and starting it again. Applies pending changes.")
                .parameter("timeout", Schema.integer().minimum(0).optional()
                        .description("Wait maximal timeout seconds for the shutdown."))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.power().reboot(r.vmId("vmid"), r.auth().userid(), r.optionalLong("timeout").orElse(60L));
                });
    }

    private ApiMethod suspend() {
        return power("suspend", "vm_suspend", "Suspend the container (freeze all its processes).")
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.power().suspend(r.vmId("vmid"), r.auth().userid());
                });
    }

    private ApiMethod resume() {
        return power("resume", "vm_resume", "Resume the container.")
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.power().resume(r.vmId("vmid"), r.auth().userid());
                });
    }
}
