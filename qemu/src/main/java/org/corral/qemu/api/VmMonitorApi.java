package org.corral.qemu.api;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.Check;
import org.corral.core.error.PermissionDenied;
import org.corral.core.schema.Schema;
import org.corral.qemu.QemuService;

/**
 * {@code POST /nodes/{node}/qemu/{vmid}/monitor}: a QEMU human monitor command. Read-only
 * commands ({@code info ...}, {@code help}) need Sys.Audit on {@code /}, all others Sys.Modify.
 */
public final class VmMonitorApi implements ApiModule {
    private final QemuService service;

    public VmMonitorApi(QemuService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(ApiMethod.post("/nodes/{node}/qemu/{vmid}/monitor").name("monitor")
                .description("Execute QEMU monitor commands. Sys.Modify is required for commands which are not read-only ('info *' and 'help').")
                .permission(Check.pathAny("/", Privilege.SYS_AUDIT, Privilege.SYS_MODIFY))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .parameter("command", Schema.string().description("The monitor command."))
                .returns(Schema.string())
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    String command = r.string("command");
                    boolean readOnly = command.matches("\\s*info(\\s+.*|)") || command.matches("\\s*help\\s*");
                    if (!readOnly && !r.can("/", Privilege.SYS_MODIFY)) {
                        throw new PermissionDenied("Permission check failed (/, Sys.Modify)");
                    }
                    int vmid = r.vmId("vmid");
                    service.configs().load(vmid);
                    return service.driver().monitor(vmid, command);
                }));
    }
}
