package org.corral.qemu.api;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.json.Json;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.qemu.QemuService;
import org.corral.qemu.Snapshots;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code /nodes/{node}/qemu/{vmid}/snapshot}: list (a tree by parent), create, config, rollback, delete. */
public final class VmSnapshotApi implements ApiModule {
    private static final String SNAP = "/nodes/{node}/qemu/{vmid}/snapshot";

    private final QemuService service;
    private final Snapshots snapshots;

    public VmSnapshotApi(QemuService service, Snapshots snapshots) {
        this.service = requireNonNull(service, "service is null");
        this.snapshots = requireNonNull(snapshots, "snapshots is null");
    }

    private static Schema snapname() {
        return Schema.string().format(Formats.PVE_CONFIGID).maxLength(40).description("The name of the snapshot.");
    }

    private ApiMethod base(ApiMethod method) {
        return method.proxyToNode().parameter("node", ApiParams.node()).parameter("vmid", ApiParams.vmid());
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                base(ApiMethod.get(SNAP).name("snapshot_list").description("List all snapshots.")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_AUDIT))
                        .returns(Schema.array(Schema.object()))
                        .handler(r -> {
                            ApiParams.checkNode(r, service.node());
                            return snapshots.list(r.vmId("vmid"));
                        })),
                base(ApiMethod.post(SNAP).name("snapshot").description("Snapshot a VM.")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_SNAPSHOT))
                        .parameter("snapname", snapname())
                        .parameter("vmstate", Schema.bool().defaultValue(false).description("Save the vmstate"))
                        .parameter("description", Schema.string().maxLength(8192).multiLine().optional().description("A textual description or comment."))
                        .returns(ApiParams.upid())
                        .handler(this::create)),
                base(ApiMethod.get(SNAP + "/{snapname}").name("snapshot_cmd_idx").description("Directory index.")
                        .permission(Check.authenticated())
                        .parameter("snapname", snapname())
                        .returns(Schema.array(Schema.object()))
                        .handler(r -> {
                            ApiParams.checkNode(r, service.node());
                            snapshots.section(r.vmId("vmid"), r.string("snapname"));
                            ArrayNode out = Json.array();
                            out.addObject().put("cmd", "rollback");
                            out.addObject().put("cmd", "config");
                            return out;
                        })),
                base(ApiMethod.get(SNAP + "/{snapname}/config").name("get_snapshot_config").description("Get snapshot configuration")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_AUDIT))
                        .parameter("snapname", snapname())
                        .returns(Schema.object())
                        .handler(r -> {
                            ApiParams.checkNode(r, service.node());
                            ObjectNode out = Json.object();
                            for (Map.Entry<String, String> e : snapshots.section(r.vmId("vmid"), r.string("snapname")).entrySet()) {
                                org.corral.qemu.VmEditor.put(out, e.getKey(), e.getValue(), e.getKey());
                            }
                            return out;
                        })),
                base(ApiMethod.put(SNAP + "/{snapname}/config").name("update_snapshot_config").description("Update snapshot metadata.")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_SNAPSHOT))
                        .parameter("snapname", snapname())
                        .parameter("description", Schema.string().maxLength(8192).multiLine().optional().description("A textual description or comment."))
                        .returns(Schema.nullValue())
                        .handler(r -> {
                            ApiParams.checkNode(r, service.node());
                            snapshots.setDescription(r.vmId("vmid"), r.string("snapname"), r.optionalString("description"));
                            return null;
                        })),
                base(ApiMethod.post(SNAP + "/{snapname}/rollback").name("rollback").description("Rollback VM state to specified snapshot.")
                        .permission(Check.pathAny("/vms/{vmid}", Privilege.VM_SNAPSHOT, Privilege.VM_SNAPSHOT_ROLLBACK))
                        .parameter("snapname", snapname())
                        .parameter("start", Schema.bool().defaultValue(false)
                                .description("Whether the VM should get started after rolling back successfully."))
                        .returns(ApiParams.upid())
                        .handler(this::rollback)),
                base(ApiMethod.delete(SNAP + "/{snapname}").name("delsnapshot").description("Delete a VM snapshot.")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_SNAPSHOT))
                        .parameter("snapname", snapname())
                        .parameter("force", Schema.bool().optional()
                                .description("For removal from config file, even if removing disk snapshots fails."))
                        .returns(ApiParams.upid())
                        .handler(this::delete)));
    }

    private Object create(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        int vmid = request.vmId("vmid");
        String name = request.string("snapname");
        snapshots.checkCreate(vmid, name);
        boolean vmstate = request.bool("vmstate");
        var description = request.optionalString("description");
        return service.tasks().start("qmsnapshot", Integer.toString(vmid), request.auth().authid(),
                ctx -> snapshots.create(vmid, name, vmstate, description, ctx)).format();
    }

    private Object rollback(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        int vmid = request.vmId("vmid");
        String name = request.string("snapname");
        snapshots.checkRollback(vmid, name);
        boolean start = request.bool("start");
        return service.tasks().start("qmrollback", Integer.toString(vmid), request.auth().authid(),
                ctx -> snapshots.rollback(vmid, name, start, ctx)).format();
    }

    private Object delete(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        int vmid = request.vmId("vmid");
        String name = request.string("snapname");
        snapshots.section(vmid, name);
        boolean force = ApiParams.flag(request, "force");
        return service.tasks().start("qmdelsnapshot", Integer.toString(vmid), request.auth().authid(),
                ctx -> snapshots.delete(vmid, name, force, ctx)).format();
    }
}
