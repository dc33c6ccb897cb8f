package org.corral.qemu.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.ApiException;
import org.corral.core.error.NotFound;
import org.corral.core.json.Json;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.qemu.QemuCommandLine;
import org.corral.qemu.QemuService;
import org.corral.qemu.VmEditor;
import org.corral.qemu.config.VmConfig;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /nodes/{node}/qemu}: the VM list, create, the VM's index, destroy, and its config
 * ({@code GET}, {@code PUT}, {@code POST}), pending changes, cloud-init and showcmd.
 */
public final class VmApi implements ApiModule {
    private static final String BASE = "/nodes/{node}/qemu";
    private static final String VM = BASE + "/{vmid}";
    private final QemuService service;
    private final VmEditor editor;

    public VmApi(QemuService service, VmEditor editor) {
        this.service = requireNonNull(service, "service is null");
        this.editor = requireNonNull(editor, "editor is null");
    }

    @Override
    public List<ApiMethod> methods() {
        List<ApiMethod> methods = new ArrayList<>();
        methods.add(ApiMethod.get(BASE).name("vmlist")
                .description("Virtual machine index (per node).")
                .permission(Check.authenticated())
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("full", Schema.bool().optional().description("Determine the full status of active VMs."))
                .returns(Schema.array(Schema.object()))
                .handler(this::list));
        methods.add(ApiParams.withOptions(ApiMethod.post(BASE).name("create_vm")
                .description("Create or restore a virtual machine. You need 'VM.Allocate' on /vms/{vmid} or on the pool, "
                        + "and 'Datastore.AllocateSpace' on every storage a new disk goes to.")
                .permission(Check.or(Check.path("/vms/{vmid}", Privilege.VM_ALLOCATE), Check.path("/pool/{pool}", Privilege.VM_ALLOCATE)))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .parameter("start", Schema.bool().defaultValue(false).description("Start VM after it was created successfully."))
                .parameter("pool", Schema.string().format(Formats.PVE_POOLID).optional().description("Add the VM to the specified pool."))
                .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID).optional().description("Default storage."))
                .parameter("unique", Schema.bool().optional().description("Assign a unique random ethernet address (restore only)."))
                .parameter("force", Schema.bool().optional().description("Allow to overwrite existing VM (restore only)."))
                .parameter("archive", Schema.string().maxLength(255).optional().description("The backup archive to restore from."))
                .returns(ApiParams.upid())
                .handler(this::create)));
        methods.add(ApiMethod.get(VM).name("vmdiridx")
                .description("Directory index.")
                .permission(Check.authenticated())
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .directoryIndex("subdir", r -> {
                    ApiParams.checkNode(r, service.node());
                    service.configs().load(r.vmId("vmid"));
                }));
        methods.add(ApiMethod.delete(VM).name("destroy_vm")
                .description("Destroy the VM and all used/owned volumes. Removes any VM specific permissions and firewall rules.")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_ALLOCATE))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .parameter("skiplock", ApiParams.skiplock())
                .parameter("purge", Schema.bool().optional()
                        .description("Remove VMID from configurations, like backup & replication jobs and HA."))
                .parameter("destroy-unreferenced-disks", Schema.bool().defaultValue(false)
                        .description("If set, destroy additionally all disks not referenced in the config but with a matching VMID from all enabled storages."))
                .returns(ApiParams.upid())
                .handler(this::destroy));
        methods.add(ApiMethod.get(VM + "/config").name("vm_config")
                .description("Get the virtual machine configuration with pending configuration changes applied. "
                        + "Set the 'current' parameter to get the current configuration instead.")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_AUDIT))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .parameter("current", Schema.bool().defaultValue(false)
                        .description("Get current values (instead of pending values)."))
                .parameter("snapshot", Schema.string().format(Formats.PVE_CONFIGID).maxLength(40).optional()
                        .description("Fetch config values from given snapshot."))
                .returns(Schema.object())
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    return editor.config(r.vmId("vmid"), r.bool("current"), r.optionalString("snapshot"));
                }));
        methods.add(updateMethod(ApiMethod.post(VM + "/config").name("update_vm_async")
                .description("Set virtual machine options (asynchronous API).")
                .returns(Schema.string().format(Formats.UPID).optional().description("The task's UPID.")), true));
        methods.add(updateMethod(ApiMethod.put(VM + "/config").name("update_vm")
                .description("Set virtual machine options (synchronous API) - You should consider using the POST method instead "
                        + "for any actions involving hotplug or storage allocation.")
                .returns(Schema.nullValue()), false));
        methods.add(ApiMethod.get(VM + "/pending").name("vm_pending")
                .description("Get the virtual machine configuration with both current and pending values.")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_AUDIT))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .returns(Schema.array(Schema.object()))
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    return editor.pending(r.vmId("vmid"));
                }));
        methods.add(ApiMethod.get(VM + "/cloudinit/dump").name("cloudinit_generated_config_dump")
                .description("Get automatically generated cloudinit config.")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_AUDIT))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .parameter("type", Schema.string().enumValues("user", "network", "meta").description("Config type."))
                .returns(Schema.string())
                .handler(this::cloudInitDump));
        methods.add(ApiMethod.put(VM + "/cloudinit").name("cloudinit_update")
                .description("Regenerate and change cloudinit config drive.")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_CONFIG_CLOUDINIT))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .returns(Schema.nullValue())
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    service.cloudInitRegenerate(r.vmId("vmid"));
                    return null;
                }));
        methods.add(ApiMethod.get(VM + "/showcmd").name("showcmd")
                .description("The QEMU command line the VM is started with (qm showcmd).")
                .extension()
                .permission(Check.rootOnly())
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .parameter("pretty", Schema.bool().defaultValue(false).description("Puts each option on a new line to enhance human readability."))
                .parameter("snapshot", Schema.string().format(Formats.PVE_CONFIGID).maxLength(40).optional()
                        .description("Fetch config values from given snapshot."))
                .returns(Schema.string())
                .handler(this::showcmd));
        methods.add(ApiMethod.get(VM + "/feature").name("vm_feature")
                .description("Check if feature for virtual machine is available.")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_AUDIT))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .parameter("feature", Schema.string().enumValues("snapshot", "clone", "copy").description("Feature to check."))
                .parameter("snapname", Schema.string().format(Formats.PVE_CONFIGID).maxLength(40).optional()
                        .description("The name of the snapshot."))
                .returns(Schema.object())
                .handler(this::feature));
        methods.add(ApiMethod.put(VM + "/sendkey").name("vm_sendkey")
                .description("Send key event to virtual machine.")
                .permission(Check.rootOnly())
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .parameter("key", Schema.string().pattern("[a-z0-9_\\-]+(-[a-z0-9_]+)*").description("The key (qemu monitor encoding), e.g. ctrl-alt-delete."))
                .parameter("skiplock", ApiParams.skiplock())
                .returns(Schema.nullValue())
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    service.sendKey(r.vmId("vmid"), r.string("key"));
                    return null;
                }));
        return methods;
    }

    private ApiMethod updateMethod(ApiMethod method, boolean async) {
        return ApiParams.withOptions(method
                .permission(Check.pathAny("/vms/{vmid}", Privilege.VM_CONFIG_DISK, Privilege.VM_CONFIG_CDROM, Privilege.VM_CONFIG_CPU,
                        Privilege.VM_CONFIG_MEMORY, Privilege.VM_CONFIG_NETWORK, Privilege.VM_CONFIG_HWTYPE, Privilege.VM_CONFIG_OPTIONS,
                        Privilege.VM_CONFIG_CLOUDINIT))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .parameter("delete", Schema.string().format(Formats.PVE_CONFIGID + "-list").optional()
                        .description("A list of settings you want to delete."))
                .parameter("revert", Schema.string().format(Formats.PVE_CONFIGID + "-list").optional()
                        .description("Revert a pending change."))
                .parameter("digest", Schema.string().maxLength(40).optional()
                        .description("Prevent changes if current configuration file has different SHA1 digest. This can be used to prevent concurrent modifications."))
                .parameter("skiplock", ApiParams.skiplock())
                .parameter("force", Schema.bool().optional()
                        .description("Force physical removal. Without this, we simple remove the disk from the config file and create an additional configuration entry called 'unused[n]', which contains the volume ID. Unlink of unused[n] always cause physical removal."))
                .parameter("background_delay", Schema.integer().minimum(1).maximum(30).optional()
                        .description("Time to wait for the task to finish. We return 'null' if the task finish within that time."))
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    VmEditor.Change change = new VmEditor.Change(ApiParams.options(r),
                            r.optionalString("delete").map(Formats::splitList).orElse(List.of()),
                            r.optionalString("revert").map(Formats::splitList).orElse(List.of()),
                            r.optionalString("digest"), ApiParams.flag(r, "skiplock"), ApiParams.flag(r, "force"));
                    return editor.update(r, r.vmId("vmid"), change, async);
                }));
    }

    private Object list(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        ArrayNode out = Json.array();
        for (int vmid : service.configs().list()) {
            if (!request.can("/vms/" + vmid, Privilege.VM_AUDIT)) {
                continue;
            }
            Optional<VmConfig> config = service.configs().find(vmid).map(l -> l.config());
            config.ifPresent(c -> out.add(service.driver().status(vmid, c, ApiParams.flag(request, "full"))));
        }
        return out;
    }

    private Object create(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        int vmid = request.vmId("vmid");
        if (request.has("archive")) {
            return service.restore(request, vmid);
        }
        return editor.create(request, vmid, ApiParams.options(request), request.bool("start"));
    }


    private Object destroy(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        return editor.destroy(request, request.vmId("vmid"), ApiParams.flag(request, "purge"), ApiParams.flag(request, "skiplock"),
                request.bool("destroy-unreferenced-disks"));
    }

    private Object cloudInitDump(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        return service.cloudInitDump(request.vmId("vmid"), request.string("type"));
    }

    private Object showcmd(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        int vmid = request.vmId("vmid");
        VmConfig config = service.configs().load(vmid).config();
        if (request.has("snapshot")) {
            Map<String, String> section = config.snapshots().get(request.string("snapshot"));
            if (section == null) {
                throw new NotFound("snapshot '" + request.string("snapshot") + "' does not exist");
            }
            config = VmConfig.of(section);
        }
        return QemuCommandLine.shellJoin(service.driver().commandLine(vmid, config, Optional.empty()), request.bool("pretty"));
    }

    private Object feature(ApiRequest request) {
        ApiParams.checkNode(request, service.node());
        boolean has = service.hasFeature(request.vmId("vmid"), request.string("feature"), request.optionalString("snapname"));
        ObjectNode out = Json.object();
        out.put("hasFeature", has ? 1 : 0);
        out.putArray("nodes").add(service.node().name());
        return out;
    }
}
