package org.corral.lxc.api;

import static java.util.Objects.requireNonNull;
import static org.corral.lxc.api.ApiParams.CT;
import static org.corral.lxc.api.ApiParams.VM_PATH;

import java.time.Duration;
import java.util.List;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.Check;
import org.corral.core.schema.Schema;
import org.corral.lxc.LxcService;

/**
 * {@code POST .../exec}, a Corral extension: runs a command as root in the running container
 * through {@code lxc-attach} and answers its output and exit code. Running arbitrary commands in
 * a guest is what Proxmox guards with VM.GuestAgent.Unrestricted for VMs, so exec needs it too.
 */
public final class LxcExecApi implements ApiModule {
    /** Output kept per stream; the rest is dropped and {@code truncated} set. */
    static final int OUTPUT_CAP = 1 << 20;

    private final LxcService service;

    public LxcExecApi(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(ApiParams.ct(ApiMethod.post(CT + "/exec").name("exec").extension()
                        .description("Execute a command in the running container with '/bin/sh -c' as root, with a clean "
                                + "environment, and answer its exit code, standard output and standard error (each cut at 1 MiB).")
                        .permission(Check.path(VM_PATH, Privilege.VM_GUESTAGENT_UNRESTRICTED)))
                .parameter("command", Schema.string().minLength(1).maxLength(65536).multiLine()
                        .description("The command line, run by '/bin/sh -c' inside the container."))
                .parameter("input", Schema.string().maxLength(1 << 20).multiLine().optional().description("Data passed to the command's standard input."))
                .parameter("timeout", Schema.integer().minimum(1).maximum(3600).defaultValue(30)
                        .description("Seconds after which the command is killed."))
                .returns(Schema.object()
                        .property("exitcode", Schema.integer().description("The command's exit code (137 after a timeout kill)."))
                        .property("stdout", Schema.string().description("Standard output."))
                        .property("stderr", Schema.string().description("Standard error."))
                        .property("truncated", Schema.integer().optional().description("1 when output was cut at the limit."))
                        .property("timeout", Schema.integer().optional().description("1 when the command ran out of time.")))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.power().exec(r.vmId("vmid"), r.string("command"), r.optionalString("input"),
                            Duration.ofSeconds(r.integer("timeout")), OUTPUT_CAP);
                }));
    }
}
