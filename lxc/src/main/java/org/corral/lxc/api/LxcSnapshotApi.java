package org.corral.lxc.api;

import static java.util.Objects.requireNonNull;
import static org.corral.lxc.api.ApiParams.CT;
import static org.corral.lxc.api.ApiParams.VM_PATH;

import java.util.List;
import java.util.Map;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.Check;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.lxc.LxcService;

/** {@code .../snapshot}: list, take, roll back, delete and describe snapshots. */
public final class LxcSnapshotApi implements ApiModule {
    private static final String SNAP = CT + "/snapshot/{snapname}";

    private final LxcService service;

    public LxcSnapshotApi(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    private static Schema snapname() {
        return Schema.string().format(Formats.PVE_CONFIGID).maxLength(40).description("The name of the snapshot.");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(list(), create(), index(), delete(), rollback(), config(), describe());
    }

    private ApiMethod list() {
        return ApiParams.ct(ApiMethod.get(CT + "/snapshot").name("list").description("List all snapshots.")
                        .permission(Check.path(VM_PATH, Privilege.VM_AUDIT)))
                .returns(Schema.array(Schema.object()
                        .property("name", Schema.string().description("Snapshot identifier. Value 'current' identifies the current VM."))
                        .property("description", Schema.string().description("Snapshot description."))
                        .property("snaptime", Schema.integer().optional().description("Snapshot creation time"))
                        .property("parent", Schema.string().optional().description("Parent snapshot identifier."))))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.snapshots().list(r.vmId("vmid"));
                });
    }

    private ApiMethod create() {
        return ApiParams.ct(ApiMethod.post(CT + "/snapshot").name("snapshot").description("Snapshot a container.")
                        .permission(Check.path(VM_PATH, Privilege.VM_SNAPSHOT)))
                .parameter("snapname", snapname())
                .parameter("description", Schema.string().multiLine().optional().description("A textual description or comment."))
                .returns(ApiParams.upid())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.snapshots().create(r.vmId("vmid"), r.auth().userid(), r.string("snapname"),
                            r.optionalString("description"));
                });
    }

    private ApiMethod index() {
        return ApiParams.ct(ApiMethod.get(SNAP).name("snapshot_cmd_idx").description("Directory index")
                        .permission(Check.authenticated()))
                .parameter("snapname", snapname())
                .returns(Schema.array(Schema.object()))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    service.snapshots().config(r.vmId("vmid"), r.string("snapname"));
                    return List.of(Map.of("cmd", "rollback"), Map.of("cmd", "config"));
                });
    }

    private ApiMethod delete() {
        return ApiParams.ct(ApiMethod.delete(SNAP).name("delsnapshot").description("Delete a LXC snapshot.")
                        .permission(Check.path(VM_PATH, Privilege.VM_SNAPSHOT)))
                .parameter("snapname", snapname())
                .parameter("force", Schema.bool().optional()
                        .description("For removal from config file, even if removing disk snapshots fails."))
                .returns(ApiParams.upid())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.snapshots().delete(r.vmId("vmid"), r.auth().userid(), r.string("snapname"), r.bool("force"));
                });
    }

    private ApiMethod rollback() {
        return ApiParams.ct(ApiMethod.post(SNAP + "/rollback").name("rollback").description("Rollback LXC state to specified snapshot.")
                        .permission(Check.pathAny(VM_PATH, Privilege.VM_SNAPSHOT, Privilege.VM_SNAPSHOT_ROLLBACK)))
                .parameter("snapname", snapname())
                .parameter("start", Schema.bool().defaultValue(false)
                        .description("Whether the container should get started after rolling back successfully"))
                .returns(ApiParams.upid())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.snapshots().rollback(r.vmId("vmid"), r.auth().userid(), r.string("snapname"), r.bool("start"));
                });
    }

    private ApiMethod config() {
        return ApiParams.ct(ApiMethod.get(SNAP + "/config").name("get_snapshot_config").description("Get snapshot configuration")
                        .permission(Check.path(VM_PATH, Privilege.VM_AUDIT)))
                .parameter("snapname", snapname())
                .returns(Schema.object())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.snapshots().config(r.vmId("vmid"), r.string("snapname"));
                });
    }

    private ApiMethod describe() {
        return ApiParams.ct(ApiMethod.put(SNAP + "/config").name("update_snapshot_config")
                        .description("Update snapshot metadata.")
                        .permission(Check.path(VM_PATH, Privilege.VM_SNAPSHOT)))
                .parameter("snapname", snapname())
                .parameter("description", Schema.string().multiLine().optional().description("A textual description or comment."))
                .returns(Schema.nullValue())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    service.snapshots().describe(r.vmId("vmid"), r.string("snapname"), r.optionalString("description"));
                    return null;
                });
    }
}
