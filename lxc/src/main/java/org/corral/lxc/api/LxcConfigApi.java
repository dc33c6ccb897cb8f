package org.corral.lxc.api;

import static java.util.Objects.requireNonNull;
import static org.corral.lxc.api.ApiParams.CT;
import static org.corral.lxc.api.ApiParams.VM_PATH;

import java.util.List;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.Check;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.lxc.LxcService;

/** {@code .../config} and {@code .../pending}. */
public final class LxcConfigApi implements ApiModule {
    private final LxcService service;

    public LxcConfigApi(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(read(), update(), pending());
    }

    private ApiMethod read() {
        return ApiParams.ct(ApiMethod.get(CT + "/config").name("vm_config").description("Get container configuration.")
                        .permission(Check.path(VM_PATH, Privilege.VM_AUDIT)))
                .parameter("snapshot", Schema.string().format(Formats.PVE_CONFIGID).maxLength(40).optional()
                        .description("Fetch config values from given snapshot."))
                .parameter("current", Schema.bool().defaultValue(false)
                        .description("Get current values (instead of pending values)."))
                .returns(Schema.object().description("The container configuration, its digest and raw lxc keys."))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.editor().read(r.vmId("vmid"), r.optionalString("snapshot"), r.bool("current"));
                });
    }

    private ApiMethod update() {
        ApiMethod method = ApiParams.ct(ApiMethod.put(CT + "/config").name("update_vm").description("Set container options.")
                        .permission(Check.pathAny(VM_PATH, Privilege.VM_CONFIG_DISK, Privilege.VM_CONFIG_CPU,
                                Privilege.VM_CONFIG_MEMORY, Privilege.VM_CONFIG_NETWORK, Privilege.VM_CONFIG_OPTIONS)))
                .parameter("delete", Schema.string().format(Formats.PVE_CONFIGID + "-list").optional()
                        .description("A list of settings you want to delete."))
                .parameter("revert", Schema.string().format(Formats.PVE_CONFIGID + "-list").optional()
                        .description("Revert a pending change."))
                .parameter("digest", ApiParams.digest())
                .parameter("lxc", ApiParams.rawLxc())
                .returns(Schema.nullValue());
        ApiParams.options(method);
        return method.handler(r -> {
            service.checkNode(r.string("node"));
            service.editor().update(r, r.vmId("vmid"));
            return null;
        });
    }

    private ApiMethod pending() {
        return ApiParams.ct(ApiMethod.get(CT + "/pending").name("vm_pending")
                        .description("Get container configuration, including pending changes.")
                        .permission(Check.path(VM_PATH, Privilege.VM_AUDIT)))
                .returns(Schema.array(Schema.object()
                        .property("key", Schema.string().description("Configuration option name."))
                        .property("value", Schema.string().optional().description("Current value."))
                        .property("pending", Schema.string().optional().description("Pending value."))
                        .property("delete", Schema.integer().optional()
                                .description("Indicates a pending delete request if present and not 0."))))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.editor().pending(r.vmId("vmid"));
                });
    }
}
