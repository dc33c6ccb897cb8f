package org.corral.qemu.api;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.config.Digest;
import org.corral.core.error.ApiException;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.qemu.DiskOperations;
import org.corral.qemu.QemuService;
import org.corral.qemu.VmConfigs;
import org.corral.qemu.VmEditor;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.VmConfig;

/** Disk operations of a VM: {@code resize}, {@code move_disk} and {@code unlink}. */
public final class VmDiskApi implements ApiModule {
    private static final String VM = "/nodes/{node}/qemu/{vmid}";
    private static final String DISK_KEYS = "(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0|unused\\d+)";

    private final QemuService service;
    private final DiskOperations disks;
    private final VmEditor editor;

    public VmDiskApi(QemuService service, DiskOperations disks, VmEditor editor) {
        this.service = requireNonNull(service, "service is null");
        this.disks = requireNonNull(disks, "disks is null");
        this.editor = requireNonNull(editor, "editor is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.put(VM + "/resize").name("resize_vm")
                        .description("Extend volume size.")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_CONFIG_DISK))
                        .proxyToNode()
                        .parameter("node", ApiParams.node())
                        .parameter("vmid", ApiParams.vmid())
                        .parameter("disk", Schema.string().pattern(DISK_KEYS).description("The disk you want to resize."))
                        .parameter("size", Schema.string().pattern("\\+?\\d+(\\.\\d+)?[KMGT]?").description(
                                "The new size. With the '+' sign the value is added to the actual size of the volume and without it, "
                                        + "the value is taken as an absolute one. Shrinking disk size is not supported."))
                        .parameter("digest", Schema.string().maxLength(40).optional()
                                .description("Prevent changes if current configuration file has different SHA1 digest."))
                        .parameter("skiplock", ApiParams.skiplock())
                        .returns(ApiParams.upid())
                        .handler(this::resize),
                ApiMethod.post(VM + "/move_disk").name("move_vm_disk")
                        .description("Move volume to different storage or to a different VM.")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_CONFIG_DISK))
                        .proxyToNode()
                        .parameter("node", ApiParams.node())
                        .parameter("vmid", ApiParams.vmid())
                        .parameter("disk", Schema.string().pattern(DISK_KEYS).description("The disk you want to move."))
                        .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID).optional().description("Target storage."))
                        .parameter("format", Schema.string().enumValues("raw", "qcow2", "vmdk").optional().description("Target Format."))
                        .parameter("delete", Schema.bool().defaultValue(false)
                                .description("Delete the original disk after successful copy. By default the original disk is kept as unused disk."))
                        .parameter("digest", Schema.string().maxLength(40).optional()
                                .description("Prevent changes if current configuration file has different SHA1 digest."))
                        .parameter("bwlimit", Schema.integer().minimum(0).optional().description("Override I/O bandwidth limit (in KiB/s)."))
                        .parameter("target-vmid", ApiParams.vmid().optional().description("The (unique) ID of the VM."))
                        .parameter("target-disk", Schema.string().pattern(DISK_KEYS).optional()
                                .description("The config key the disk will be moved to on the target VM."))
                        .returns(ApiParams.upid())
                        .handler(this::move),
                ApiMethod.put(VM + "/unlink").name("unlink")
                        .description("Unlink/delete disk images.")
                        .permission(Check.path("/vms/{vmid}", Privilege.VM_CONFIG_DISK))
                        .proxyToNode()
                        .parameter("node", ApiParams.node())
                        .parameter("vmid", ApiParams.vmid())
                        .parameter("idlist", Schema.string().format(Formats.PVE_CONFIGID + "-list")
                                .description("A list of disk IDs you want to delete."))
                        .parameter("force", Schema.bool().optional().description("Force physical removal. Without this, we simple remove the disk "
                                + "from the config file and create an additional configuration entry called 'unused[n]', which contains the volume ID. "
                                + "Unlink of unused[n] always cause physical removal."))
                        .returns(Schema.nullValue())
                        .handler(this::unlink));
    }

    private Object resize(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        int vmid = request.vmId("vmid");
        String disk = request.string("disk");
        boolean skiplock = ApiParams.flag(request, "skiplock");
        if (skiplock && !request.auth().isRoot()) {
            throw new PermissionDenied("Only root may use this option.");
        }
        VmConfig config = service.configs().load(vmid).config();
        Drive drive = disks.disk(config, disk);
        String storage = drive.storage().orElseThrow();
        if (!request.can("/storage/" + storage, Privilege.DATASTORE_ALLOCATE_SPACE)) {
            throw new PermissionDenied("Permission check failed (/storage/" + storage + ", Datastore.AllocateSpace)");
        }
        String size = request.string("size");
        disks.checkResize(vmid, disk, size, request.optionalString("digest"), skiplock);
        return service.tasks().start("resize", Integer.toString(vmid), request.auth().authid(),
                ctx -> disks.resize(vmid, disk, size, ctx)).format();
    }

    private Object move(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        int vmid = request.vmId("vmid");
        if (request.has("target-vmid") || request.has("target-disk")) {
            throw new ParameterError("target-vmid", "moving a disk to another VM is not supported yet");
        }
        String storage = request.optionalString("storage").orElseThrow(() -> new ParameterError("storage", "property is missing and it is not optional"));
        VmConfigs.Loaded loaded = service.configs().load(vmid);
        Digest.check(request.optionalString("digest"), loaded.digest());
        VmConfigs.checkLock(loaded.config());
        Drive drive = disks.disk(loaded.config(), request.string("disk"));
        service.volumes().checkStorage(storage);
        if (!request.can("/storage/" + storage, Privilege.DATASTORE_ALLOCATE_SPACE)) {
            throw new PermissionDenied("Permission check failed (/storage/" + storage + ", Datastore.AllocateSpace)");
        }
        if (drive.storage().orElseThrow().equals(storage) && request.optionalString("format").map(f -> f.equals(
                service.volumes().format(drive.file()))).orElse(true)) {
            throw new ApiException(500, "you can't move to the same storage with same format");
        }
        boolean delete = request.bool("delete");
        Optional<String> format = request.optionalString("format");
        return service.tasks().start("qmmove", Integer.toString(vmid), request.auth().authid(),
                ctx -> disks.move(vmid, drive.key(), storage, format, delete, ctx)).format();
    }

    private Object unlink(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        List<String> keys = DiskOperations.unlinkKeys(request.string("idlist"));
        editor.update(request, request.vmId("vmid"), new VmEditor.Change(Map.of(), keys, List.of(), Optional.empty(), false,
                ApiParams.flag(request, "force")), false);
        return null;
    }
}
