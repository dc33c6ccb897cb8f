package org.corral.lxc.api;

import static java.util.Objects.requireNonNull;
import static org.corral.lxc.api.ApiParams.BASE;
import static org.corral.lxc.api.ApiParams.CT;
import static org.corral.lxc.api.ApiParams.VM_PATH;

import java.util.List;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.Check;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.lxc.LxcService;

/** {@code /nodes/{node}/lxc}: list, create and destroy containers. */
public final class LxcIndexApi implements ApiModule {
    private final LxcService service;

    public LxcIndexApi(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(list(), create(), index(), destroy());
    }

    private ApiMethod list() {
        return ApiMethod.get(BASE).name("vmlist")
                .description("LXC container index (per node). Only lists CTs where you have VM.Audit permission on /vms/<vmid>.")
                .permission(Check.authenticated())
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .returns(Schema.array(Schema.object()))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.power().list(vmid -> r.can("/vms/" + vmid, Privilege.VM_AUDIT));
                });
    }

    private ApiMethod create() {
        ApiMethod method = ApiMethod.post(BASE).name("create_vm")
                .description("Create or restore a container. You need 'VM.Allocate' permission on /vms/{vmid} or on the VM pool "
                        + "/pool/{pool}. You also need 'Datastore.AllocateSpace' permissions on the storage. For privileged "
                        + "containers, 'Sys.Modify' permissions on '/' are required.")
                .permission(Check.authenticated())
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid())
                .parameter("ostemplate", Schema.string().maxLength(255).description("The OS template or backup file."))
                .parameter("password", Schema.string().minLength(5).optional().secret()
                        .description("Sets root password inside container."))
                .parameter("storage", Schema.string().format(Formats.PVE_STORAGE_ID).defaultValue("local")
                        .description("Default Storage."))
                .parameter("force", Schema.bool().optional().description("Allow to overwrite existing container."))
                .parameter("restore", Schema.bool().optional().description("Mark this as restore task."))
                .parameter("unique", Schema.bool().optional().description("Assign a unique random ethernet address."))
                .parameter("pool", Schema.string().format(Formats.PVE_POOLID).optional().description("Add the VM to the specified pool."))
                .parameter("ignore-unpack-errors", Schema.bool().optional().description("Ignore errors when extracting the template."))
                .parameter("ssh-public-keys", Schema.string().optional()
                        .description("Setup public SSH keys (one key per line, OpenSSH format)."))
                .parameter("bwlimit", Schema.number().minimum(0).optional().description("Override I/O bandwidth limit (in KiB/s)."))
                .parameter("start", Schema.bool().defaultValue(false)
                        .description("Start the CT after its creation finished successfully."))
                .parameter("lxc", ApiParams.rawLxc())
                .returns(ApiParams.upid());
        ApiParams.options(method);
        return method.handler(r -> {
            service.checkNode(r.string("node"));
            return service.provisioning().create(r);
        });
    }

    private ApiMethod index() {
        return ApiParams.ct(ApiMethod.get(CT).name("vmdiridx").description("Directory index")
                        .permission(Check.authenticated()))
                .directoryIndex("subdir", r -> {
                    service.checkNode(r.string("node"));
                    service.configs().load(r.vmId("vmid"));
                });
    }

    private ApiMethod destroy() {
        return ApiParams.ct(ApiMethod.delete(CT).name("destroy_vm")
                        .description("Destroy the container (also delete all uses files).")
                        .permission(Check.path(VM_PATH, Privilege.VM_ALLOCATE)))
                .parameter("force", Schema.bool().defaultValue(false).description("Force destroy, even if running."))
                .parameter("purge", Schema.bool().defaultValue(false)
                        .description("Remove container from all related configurations. For example, backup jobs, replication jobs "
                                + "or HA. Related ACLs and Firewall entries will *always* be removed."))
                .parameter("destroy-unreferenced-disks", Schema.bool().optional()
                        .description("If set, destroy additionally all disks with the VMID from all enabled storages which are not "
                                + "referenced in the config."))
                .returns(ApiParams.upid())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.provisioning().destroy(r.vmId("vmid"), r.auth().userid(), r.bool("force"), r.bool("purge"),
                            r.bool("destroy-unreferenced-disks"));
                });
    }
}
