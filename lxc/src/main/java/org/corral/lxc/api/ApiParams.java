package org.corral.lxc.api;

import java.util.Map;
import org.corral.core.api.ApiMethod;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.lxc.config.CtOptions;

/** Parameter declarations the container API methods share. */
final class ApiParams {
    static final String BASE = "/nodes/{node}/lxc";
    static final String CT = BASE + "/{vmid}";
    static final String VM_PATH = "/vms/{vmid}";

    private ApiParams() {}

    static Schema node() {
        return Schema.string().format(Formats.PVE_NODE).description("The cluster node name.");
    }

    static Schema vmid() {
        return Schema.integer().format(Formats.PVE_VMID).description("The (unique) ID of the VM.");
    }

    static Schema upid() {
        return Schema.string().format(Formats.UPID).description("The UPID of the worker task.");
    }

    static Schema digest() {
        return Schema.string().maxLength(40).optional()
                .description("Prevent changes if current configuration file has different SHA1 digest. "
                        + "This can be used to prevent concurrent modifications.");
    }

    /** Declares {@code node} and {@code vmid}. */
    static ApiMethod ct(ApiMethod method) {
        return method.proxyToNode().parameter("node", node()).parameter("vmid", vmid());
    }

    /** Declares every container option as an optional parameter. */
    static ApiMethod options(ApiMethod method) {
        for (Map.Entry<String, Schema> e : CtOptions.all().entrySet()) {
            method.parameter(e.getKey(), e.getValue());
        }
        return method;
    }

    static Schema rawLxc() {
        return Schema.string().multiLine().optional().description("Corral extension, root@pam only: raw LXC keys as newline-separated "
                + "'lxc.KEY: VALUE' lines; replaces the container's raw keys (Proxmox keeps them in the config file only).");
    }
}
