package org.corral.server.rrd;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.NotFound;
import org.corral.core.node.Node;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.server.api.GuestIndex;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;
import org.rrd4j.ConsolFun;

/** The RRD data behind the graphs of a node, its guests and its storages ({@code .../rrddata}). */
public final class RrdApi implements ApiModule {
    private final Node node;
    private final MetricsStore metrics;
    private final GuestIndex guests;
    private final StorageService storage;
    private final Clock clock;

    public RrdApi(Node node, MetricsStore metrics, GuestIndex guests, StorageService storage, Clock clock) {
        this.node = requireNonNull(node, "node is null");
        this.metrics = requireNonNull(metrics, "metrics is null");
        this.guests = requireNonNull(guests, "guests is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    private static Schema nodeParam() {
        return Schema.string().format(Formats.PVE_NODE).description("The cluster node name.");
    }

    private static Schema vmidParam() {
        return Schema.integer().format(Formats.PVE_VMID).description("The (unique) ID of the VM.");
    }

    private static Schema timeframe(RrdLayout.Timeframe... allowed) {
        return Schema.string().enumValues(Arrays.stream(allowed).map(RrdLayout.Timeframe::apiName).toArray(String[]::new))
                .description("Specify the time frame you are interested in.");
    }

    private static Schema cf() {
        return Schema.string().enumValues("AVERAGE", "MAX").optional().description("The RRD consolidation function");
    }

    private static Schema points() {
        return Schema.array(Schema.object());
    }

    @Override
    public List<ApiMethod> methods() {
        RrdLayout.Timeframe[] guestFrames = {RrdLayout.Timeframe.HOUR, RrdLayout.Timeframe.DAY, RrdLayout.Timeframe.WEEK,
            RrdLayout.Timeframe.MONTH, RrdLayout.Timeframe.YEAR};
        return List.of(
                ApiMethod.get("/nodes/{node}/rrddata")
                        .name("rrddata")
                        .description("Read node RRD statistics")
                        .permission(Check.path("/nodes/{node}", Privilege.SYS_AUDIT))
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("timeframe", timeframe(RrdLayout.Timeframe.values()))
                        .parameter("cf", cf())
                        .returns(points())
                        .handler(r -> {
                            node.requireLocal(r.string("node"));
                            return read(r, RrdLayout.Kind.NODE, "node", node.name());
                        }),
                ApiMethod.get("/nodes/{node}/qemu/{vmid}/rrddata")
                        .name("rrddata")
                        .description("Read VM RRD statistics")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_AUDIT))
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("vmid", vmidParam())
                        .parameter("timeframe", timeframe(guestFrames))
                        .parameter("cf", cf())
                        .returns(points())
                        .handler(r -> guest(r, "qemu")),
                ApiMethod.get("/nodes/{node}/lxc/{vmid}/rrddata")
                        .name("rrddata")
                        .description("Read container RRD statistics")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_AUDIT))
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("vmid", vmidParam())
                        .parameter("timeframe", timeframe(guestFrames))
                        .parameter("cf", cf())
                        .returns(points())
                        .handler(r -> guest(r, "lxc")),
                ApiMethod.get("/nodes/{node}/storage/{storage}/rrddata")
                        .name("rrddata")
                        .description("Read storage RRD statistics")
                        .permission(Check.pathAny("/storage/{storage}", Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE))
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID).description("The storage identifier."))
                        .parameter("timeframe", timeframe(guestFrames))
                        .parameter("cf", cf())
                        .returns(points())
                        .handler(this::storage));
    }

    private Object guest(ApiRequest r, String type) {
        node.requireLocal(r.string("node"));
        int vmid = r.vmId("vmid");
        boolean here = guests.snapshot().guests().stream()
                .anyMatch(g -> g.vmid() == vmid && g.type().equals(type) && g.node().equals(node.name()));
        if (!here) {
            throw new NotFound("Configuration file 'nodes/" + node.name() + "/" + (type.equals("qemu") ? "qemu-server" : "lxc")
                    + "/" + vmid + ".conf' does not exist");
        }
        return read(r, RrdLayout.Kind.GUEST, type, Integer.toString(vmid));
    }

    private Object storage(ApiRequest r) {
        node.requireLocal(r.string("node"));
        String id = r.string("storage");
        StorageConfig config = storage.config().get(id).orElseThrow(() -> new NotFound("storage '" + id + "' does not exist"));
        if (!config.availableOn(node.name())) {
            throw new NotFound("storage '" + id + "' is not available on node '" + node.name() + "'");
        }
        return read(r, RrdLayout.Kind.STORAGE, "storage", id);
    }

    private List<Map<String, Object>> read(ApiRequest r, RrdLayout.Kind kind, String group, String id) {
        RrdLayout.Timeframe timeframe = RrdLayout.Timeframe.valueOf(r.string("timeframe").toUpperCase(Locale.ROOT));
        ConsolFun cf = ConsolFun.valueOf(r.optionalString("cf").orElse("AVERAGE"));
        return metrics.read(kind, group, id, timeframe, cf, clock.millis() / 1000);
    }
}
