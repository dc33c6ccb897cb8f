package org.corral.lxc.api;

import static java.util.Objects.requireNonNull;
import static org.corral.lxc.api.ApiParams.CT;
import static org.corral.lxc.api.ApiParams.VM_PATH;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.lxc.CtPermissions;
import org.corral.lxc.LxcService;
import org.corral.lxc.Provisioning;
import org.corral.lxc.config.CtConfig;
import org.corral.lxc.config.CtOptions;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.config.MountPoint;

/** Clones, templates, resizes, moves volumes, and tells which of these a container allows. */
public final class LxcDiskApi implements ApiModule {
    private final LxcService service;

    public LxcDiskApi(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(cloneCt(), template(), resize(), moveVolume(), feature());
    }

    private static Schema mountPointKeys(String description) {
        List<String> keys = new ArrayList<>();
        keys.add("rootfs");
        for (int i = 0; i < CtOptions.MAX_MOUNT_POINTS; i++) {
            keys.add("mp" + i);
        }
        return Schema.string().enumValues(keys.toArray(String[]::new)).typeText("<rootfs | mpN>").description(description);
    }

    private ApiMethod cloneCt() {
        return ApiParams.ct(ApiMethod.post(CT + "/clone").name("clone_vm").description("Create a container clone/copy. You need "
                                + "'VM.Clone' on /vms/{vmid}, 'VM.Allocate' on /vms/{newid} (or on the pool) and "
                                + "'Datastore.AllocateSpace' on the target storage.")
                        .permission(Check.path(VM_PATH, Privilege.VM_CLONE)))
                .parameter("newid", Schema.integer().format(Formats.PVE_VMID).description("VMID for the clone."))
                .parameter("hostname", Schema.string().format(Formats.DNS_NAME).optional().description("Set a hostname for the new CT."))
                .parameter("description", Schema.string().multiLine().optional().description("Description for the new CT."))
                .parameter("pool", Schema.string().format(Formats.PVE_POOLID).optional().description("Add the new CT to the specified pool."))
                .parameter("snapname", Schema.string().format(Formats.PVE_CONFIGID).maxLength(40).optional()
                        .description("The name of the snapshot."))
                .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID).optional()
                        .description("Target storage for full clone."))
                .parameter("full", Schema.bool().optional().description("Create a full copy of all disks. This is always done when "
                        + "you clone a normal CT. For CT templates, we try to create a linked clone by default."))
                .parameter("target", Schema.string().format(Formats.PVE_NODE).optional()
                        .description("Target node. Only allowed if the original VM is on shared storage."))
                .parameter("bwlimit", Schema.number().minimum(0).optional().description("Override I/O bandwidth limit (in KiB/s)."))
                .returns(ApiParams.upid())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    r.optionalString("target").ifPresent(service::checkNode);
                    return service.provisioning().clone(r, r.vmId("vmid"), new Provisioning.CloneRequest(r.vmId("newid"),
                            r.optionalString("hostname"), r.optionalString("description"), r.optionalString("pool"),
                            r.optionalString("snapname"), r.optionalString("storage"),
                            r.has("full") ? Optional.of(r.bool("full")) : Optional.empty()));
                });
    }

    private ApiMethod template() {
        return ApiParams.ct(ApiMethod.post(CT + "/template").name("template").description("Create a Template.")
                        .permission(Check.path(VM_PATH, Privilege.VM_ALLOCATE)))
                .returns(Schema.nullValue())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    service.provisioning().template(r.vmId("vmid"));
                    return null;
                });
    }

    private void checkVolumeStorage(ApiRequest r, int vmid, String key) {
        CtConfig config = service.configs().load(vmid).config();
        config.main().get(key).map(v -> MountPoint.parse(key, v)).filter(mp -> mp.type() == MountPoint.Type.VOLUME)
                .ifPresent(mp -> CtPermissions.need(r, "/storage/" + service.storage().storageOf(mp.volume()),
                        Privilege.DATASTORE_ALLOCATE_SPACE));
    }

    private ApiMethod resize() {
        return ApiParams.ct(ApiMethod.put(CT + "/resize").name("resize_vm").description("Resize a container mount point.")
                        .permission(Check.path(VM_PATH, Privilege.VM_CONFIG_DISK)))
                .parameter("disk", mountPointKeys("The disk you want to resize."))
                .parameter("size", Schema.string().pattern("\\+?\\d+(\\.\\d+)?[KMGT]?").typeText("\\+?\\d+(\\.\\d+)?[KMGT]?")
                        .description("The new size. With the '+' sign the value is added to the actual size of the volume and "
                                + "without it, the value is taken as an absolute one. Shrinking disk size is not supported."))
                .parameter("digest", ApiParams.digest())
                .returns(ApiParams.upid())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    int vmid = r.vmId("vmid");
                    checkVolumeStorage(r, vmid, r.string("disk"));
                    return service.provisioning().resize(vmid, r.auth().userid(), r.string("disk"), r.string("size"),
                            r.optionalString("digest"));
                });
    }

    private ApiMethod moveVolume() {
        return ApiParams.ct(ApiMethod.post(CT + "/move_volume").name("move_volume")
                        .description("Move a rootfs-/mp-volume to a different storage.")
                        .permission(Check.path(VM_PATH, Privilege.VM_CONFIG_DISK)))
                .parameter("volume", mountPointKeys("Volume which will be moved."))
                .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID).description("Target Storage."))
                .parameter("delete", Schema.bool().defaultValue(false)
                        .description("Delete the original volume after successful copy. By default the original is kept as an "
                                + "unused volume entry."))
                .parameter("digest", ApiParams.digest())
                .parameter("bwlimit", Schema.number().minimum(0).optional().description("Override I/O bandwidth limit (in KiB/s)."))
                .returns(ApiParams.upid())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    CtPermissions.need(r, "/storage/" + r.string("storage"), Privilege.DATASTORE_ALLOCATE_SPACE);
                    return service.provisioning().moveVolume(r.vmId("vmid"), r.auth().userid(), r.string("volume"), r.string("storage"),
                            r.bool("delete"), r.optionalString("digest"));
                });
    }

    private ApiMethod feature() {
        return ApiParams.ct(ApiMethod.get(CT + "/feature").name("vm_feature").description("Check if feature for virtual machine is available.")
                        .permission(Check.path(VM_PATH, Privilege.VM_AUDIT)))
                .parameter("feature", Schema.string().enumValues("snapshot", "clone", "copy").description("Feature to check."))
                .parameter("snapname", Schema.string().format(Formats.PVE_CONFIGID).maxLength(40).optional()
                        .description("The name of the snapshot."))
                .returns(Schema.object().property("hasFeature", Schema.bool().description("Whether the feature is available."))
                        .property("nodes", Schema.array(Schema.string()).description("Nodes the feature is available on.")))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    CtConfig config = service.configs().load(r.vmId("vmid")).config();
                    CtSection section = r.optionalString("snapname").map(config.snapshots()::get).orElse(config.main());
                    boolean has = section != null && hasFeature(section, r.string("feature"), config.isTemplate());
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("hasFeature", has ? 1 : 0);
                    out.put("nodes", has ? List.of(service.node().name()) : List.of());
                    return out;
                });
    }

    private boolean hasFeature(CtSection section, String feature, boolean template) {
        for (String key : section.options().keySet()) {
            if (!CtOptions.isMountPoint(key)) {
                continue;
            }
            MountPoint mp = MountPoint.parse(key, section.get(key).orElseThrow());
            if (mp.type() != MountPoint.Type.VOLUME) {
                if (!feature.equals("copy")) {
                    return false;
                }
                continue;
            }
            boolean ok = switch (feature) {
                case "snapshot" -> service.storage().canSnapshot(mp.volume());
                case "clone" -> template && service.storage().canLinkedClone(mp.volume());
                default -> true;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
