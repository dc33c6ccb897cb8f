package org.corral.qemu.api;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.qemu.Clones;
import org.corral.qemu.QemuService;

/** {@code clone} and {@code template} of a VM. */
public final class VmCloneApi implements ApiModule {
    private static final String VM = "/nodes/{node}/qemu/{vmid}";

    private final QemuService service;
    private final Clones clones;

    public VmCloneApi(QemuService service, Clones clones) {
        this.service = requireNonNull(service, "service is null");
        this.clones = requireNonNull(clones, "clones is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.post(VM + "/clone").name("clone_vm")
                        .description("Create a copy of virtual machine/template. You need 'VM.Clone' on the source, 'VM.Allocate' on the "
                                + "new VMID (or its pool) and 'Datastore.AllocateSpace' on every target storage.")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_CLONE))
                        .proxyToNode()
                        .parameter("node", ApiParams.node())
                        .parameter("vmid", ApiParams.vmid())
                        .parameter("newid", ApiParams.vmid().description("VMID for the clone."))
                        .parameter("name", Schema.string().format(Formats.DNS_NAME).optional().description("Set a name for the new VM."))
                        .parameter("description", Schema.string().multiLine().optional().description("Description for the new VM."))
                        .parameter("pool", Schema.string().format(Formats.PVE_POOLID).optional().description("Add the new VM to the specified pool."))
                        .parameter("snapname", Schema.string().format(Formats.PVE_CONFIGID).maxLength(40).optional()
                                .description("The name of the snapshot."))
                        .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID).optional()
                                .description("Target storage for full clone."))
                        .parameter("format", Schema.string().enumValues("raw", "qcow2", "vmdk").optional()
                                .description("Target format for file storage. Only valid for full clone."))
                        .parameter("full", Schema.bool().optional().description("Create a full copy of all disks. This is always done when "
                                + "you clone a normal VM. For VM templates, we try to create a linked clone by default."))
                        .parameter("target", ApiParams.node().optional().description("Target node. Only allowed if the original VM is on shared storage."))
                        .parameter("bwlimit", Schema.integer().minimum(0).optional().description("Override I/O bandwidth limit (in KiB/s)."))
                        .returns(ApiParams.upid())
                        .handler(this::clone),
                ApiMethod.post(VM + "/template").name("template")
                        .description("Create a Template.")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_ALLOCATE))
                        .proxyToNode()
                        .parameter("node", ApiParams.node())
                        .parameter("vmid", ApiParams.vmid())
                        .parameter("disk", Schema.string().pattern("(ide[0-3]|sata[0-5]|scsi\\d+|virtio\\d+|efidisk0|tpmstate0)").optional()
                                .description("If you want to convert only 1 disk to base image."))
                        .returns(ApiParams.upid())
                        .handler(this::template));
    }

    private Object clone(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        if (request.has("target") && !request.string("target").equals(service.node().name())) {
            throw new ParameterError("target", "cloning to another node is not supported yet");
        }
        int vmid = request.vmId("vmid");
        int newid = request.vmId("newid");
        String newPath = "/vms/" + newid;
        boolean allowed = request.can(newPath, Privilege.VM_ALLOCATE)
                || request.optionalString("pool").map(p -> request.can("/pool/" + p, Privilege.VM_ALLOCATE)).orElse(false);
        if (!allowed) {
            throw new PermissionDenied("Permission check failed (" + newPath + ", VM.Allocate)");
        }
        Clones.Request clone = new Clones.Request(vmid, newid, request.optionalString("name"), request.optionalString("description"),
                request.optionalString("snapname"), request.optionalString("storage"), request.optionalString("format"),
                request.has("full") ? Optional.of(request.bool("full")) : Optional.empty());
        for (String storage : clones.targetStorages(clone)) {
            if (!request.can("/storage/" + storage, Privilege.DATASTORE_ALLOCATE_SPACE)) {
                throw new PermissionDenied("Permission check failed (/storage/" + storage + ", Datastore.AllocateSpace)");
            }
        }
        clones.prepare(clone);
        try {
            return service.tasks().start("qmclone", Integer.toString(vmid), request.auth().authid(), ctx -> clones.clone(clone, ctx)).format();
        } catch (RuntimeException e) {
            service.configs().delete(newid);
            throw e;
        }
    }

    private Object template(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        int vmid = request.vmId("vmid");
        clones.checkTemplate(vmid);
        Optional<String> disk = request.optionalString("disk");
        return service.tasks().start("qmtemplate", Integer.toString(vmid), request.auth().authid(),
                ctx -> clones.template(vmid, disk, ctx)).format();
    }
}
