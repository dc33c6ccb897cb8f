package org.corral.qemu.api;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiRequest;
import org.corral.core.node.Node;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.qemu.config.VmOptions;

/** Parameter declarations and readers the qemu API methods share. */
final class ApiParams {
    private ApiParams() {}

    static Schema node() {
        return Schema.string().format(Formats.PVE_NODE).description("The cluster node name.");
    }

    static Schema vmid() {
        return Schema.integer().format(Formats.PVE_VMID).minimum(100).maximum(999_999_999).description("The (unique) ID of the VM.");
    }

    static Schema skiplock() {
        return Schema.bool().optional().description("Ignore locks - only root is allowed to use this option.");
    }

    static Schema upid() {
        return Schema.string().format(Formats.UPID).description("The task's UPID.");
    }

    /** The node must be this one: Corral runs a VM on the node that holds its config. */
    static void checkNode(ApiRequest request, Node node) {
        node.requireLocal(request.string("node"));
    }


    /** Declares every VM option as an optional parameter. */
    static ApiMethod withOptions(ApiMethod method) {
        VmOptions.all().forEach((name, entry) -> {
            if (!name.equals("parent") && !name.equals("vmstate")) {
                method.parameter(name, entry.schema());
            }
        });
        return method;
    }

    /** The VM options the request carries, as config text. */
    static Map<String, String> options(ApiRequest request) {
        Map<String, String> out = new LinkedHashMap<>();
        request.params().forEach((name, value) -> {
            if (VmOptions.find(name).isPresent() && !name.equals("vmstate")) {
                out.put(name, text(value));
            }
        });
        return out;
    }

    static String text(Object value) {
        if (value instanceof Boolean b) {
            return b ? "1" : "0";
        }
        if (value instanceof Double d) {
            return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
        }
        return String.valueOf(value);
    }

    static boolean flag(ApiRequest request, String name) {
        return request.has(name) && request.bool(name);
    }
}
