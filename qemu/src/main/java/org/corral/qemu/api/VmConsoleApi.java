package org.corral.qemu.api;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.Check;
import org.corral.core.schema.Schema;
import org.corral.qemu.Consoles;
import org.corral.qemu.QemuService;

/**
 * Consoles: {@code vncproxy} and {@code termproxy} register a console and answer its port and
 * one-time ticket; {@code vncwebsocket} hands it to the server, which upgrades the request to a
 * websocket and carries the bytes. {@code spiceproxy} says why SPICE is not offered.
 */
public final class VmConsoleApi implements ApiModule {
    private static final String VM = "/nodes/{node}/qemu/{vmid}";

    private final QemuService service;
    private final Consoles consoles;

    public VmConsoleApi(QemuService service, Consoles consoles) {
        this.service = requireNonNull(service, "service is null");
        this.consoles = requireNonNull(consoles, "consoles is null");
    }

    private ApiMethod base(ApiMethod method) {
        return method.permission(Check.path("/vms/{vmid}", Privilege.VM_CONSOLE))
                .proxyToNode()
                .parameter("node", ApiParams.node())
                .parameter("vmid", ApiParams.vmid());
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                base(ApiMethod.post(VM + "/vncproxy").name("vncproxy").description("Creates a TCP VNC proxy connections.")
                        .parameter("websocket", Schema.bool().optional().description("Prepare for websocket upgrade (only required when using serial terminal, otherwise upgrade is always possible)."))
                        .parameter("generate-password", Schema.bool().defaultValue(false)
                                .description("Generates a random password to be used as ticket instead of the API ticket."))
                        .returns(Schema.object()
                                .property("port", Schema.integer().description("The port of the proxy (a handle for vncwebsocket)."))
                                .property("ticket", Schema.string().description("The one-time ticket, also the VNC password."))
                                .property("cert", Schema.string().description("The node's TLS certificate."))
                                .property("user", Schema.string().description("The user the console is for."))
                                .property("upid", Schema.string().description("The console's task.")))
                        .handler(r -> {
                            ApiParams.checkNode(r, service.node());
                            return consoles.vncproxy(r.vmId("vmid"), r.auth().authid(), r.bool("generate-password"));
                        })),
                base(ApiMethod.post(VM + "/termproxy").name("termproxy").description("Creates a TCP proxy connections.")
                        .parameter("serial", Schema.string().enumValues("serial0", "serial1", "serial2", "serial3").optional()
                                .description("opens a serial terminal (defaults to display)"))
                        .returns(Schema.object()
                                .property("port", Schema.integer().description("The port of the proxy (a handle for vncwebsocket)."))
                                .property("ticket", Schema.string().description("The one-time ticket."))
                                .property("user", Schema.string().description("The user the console is for."))
                                .property("upid", Schema.string().description("The console's task.")))
                        .handler(r -> {
                            ApiParams.checkNode(r, service.node());
                            return consoles.termproxy(r.vmId("vmid"), r.auth().authid(), r.optionalString("serial").orElse("serial0"));
                        })),
                base(ApiMethod.get(VM + "/vncwebsocket").name("vncwebsocket").webSocket().description("Opens a websocket for VNC traffic.")
                        .parameter("port", Schema.integer().minimum(5900).maximum(65535).description("Port number returned by previous vncproxy call."))
                        .parameter("vncticket", Schema.string().maxLength(512).description("Ticket from previous call to vncproxy."))
                        .returns(Schema.object().property("port", Schema.string().description("The port of the proxy.")))
                        .handler(r -> {
                            ApiParams.checkNode(r, service.node());
                            return consoles.claim(r.vmId("vmid"), (int) r.integer("port"), r.string("vncticket"), r.auth().authid());
                        })),
                base(ApiMethod.post(VM + "/spiceproxy").name("spiceproxy")
                        .description("Returns a SPICE configuration to connect to the VM.")
                        .parameter("proxy", Schema.string().optional().description("SPICE proxy server."))
                        .returns(Schema.object())
                        .handler(r -> {
                            ApiParams.checkNode(r, service.node());
                            return consoles.spiceproxy(r.vmId("vmid"));
                        })));
    }
}
