package org.corral.firewall.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.ApiResult;
import org.corral.core.api.Check;
import org.corral.core.error.NotFound;
import org.corral.core.guest.GuestIds;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.firewall.FirewallService;
import org.corral.firewall.nft.FirewallEnforcer;
import org.corral.firewall.nft.FirewallLog;

/**
 * {@code GET /nodes/{node}/firewall/log} and {@code /nodes/{node}/{qemu,lxc}/{vmid}/firewall/log}:
 * the packets the firewall logged on this node (all, or one guest's), as Proxmox answers them:
 * {@code [{"n": LINE, "t": TEXT}]} with {@code total}, paged by {@code start} and {@code limit}
 * and filtered by {@code since} and {@code until}.
 */
public final class LogApi implements ApiModule {
    private static final int DEFAULT_LIMIT = 50;

    private final FirewallService fw;
    private final FirewallEnforcer enforcer;

    public LogApi(FirewallService fw, FirewallEnforcer enforcer) {
        this.fw = requireNonNull(fw, "fw is null");
        this.enforcer = requireNonNull(enforcer, "enforcer is null");
    }

    private static ApiMethod paging(ApiMethod method) {
        return method.parameter("node", Schema.string().format(Formats.PVE_NODE).description("The cluster node name."))
                .parameter("start", Schema.integer().minimum(0).optional().description("Skip this many lines."))
                .parameter("limit", Schema.integer().minimum(0).optional().description("At most this many lines (default 50)."))
                .parameter("since", Schema.integer().minimum(0).optional().description("Display log since this UNIX epoch."))
                .parameter("until", Schema.integer().minimum(0).optional().description("Display log until this UNIX epoch."))
                .returns(Schema.array(Schema.object().property("n", Schema.integer().description("Line number"))
                        .property("t", Schema.string().description("Line text"))));
    }

    @Override
    public List<ApiMethod> methods() {
        List<ApiMethod> all = new ArrayList<>();
        all.add(paging(ApiMethod.get("/nodes/{node}/firewall/log").name("log").description("Read firewall log")
                .permission(Check.path("/nodes/{node}", Privilege.SYS_SYSLOG)).proxyToNode())
                .handler(r -> page(r, Optional.empty())));
        for (GuestIds.Kind kind : GuestIds.Kind.values()) {
            String type = kind == GuestIds.Kind.QEMU ? "qemu" : "lxc";
            all.add(paging(ApiMethod.get("/nodes/{node}/" + type + "/{vmid}/firewall/log").name("log").description("Read firewall log")
                    .permission(Check.path("/vms/{vmid}", Privilege.VM_CONSOLE)).proxyToNode())
                    .parameter("vmid", Schema.integer().format(Formats.PVE_VMID).description("The (unique) ID of the VM."))
                    .handler(r -> {
                        String path = GuestIds.path(r.string("node"), kind, r.vmId("vmid"));
                        if (fw.store().read(path).isEmpty()) {
                            throw new NotFound("Configuration file '" + path + "' does not exist");
                        }
                        return page(r, Optional.of(r.vmId("vmid")));
                    }));
        }
        return all;
    }

    private ApiResult page(ApiRequest r, Optional<Integer> vmid) {
        List<FirewallLog.Entry> entries = enforcer.log().entries(vmid, r.optionalLong("since"), r.optionalLong("until"));
        int start = r.optionalInt("start").orElse(0);
        int limit = r.optionalInt("limit").orElse(DEFAULT_LIMIT);
        List<Map<String, Object>> lines = new ArrayList<>();
        for (int i = start; i < entries.size() && i < (long) start + limit; i++) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("n", i + 1);
            line.put("t", entries.get(i).text());
            lines.add(line);
        }
        return new ApiResult(lines, Map.of("total", entries.size()));
    }
}
