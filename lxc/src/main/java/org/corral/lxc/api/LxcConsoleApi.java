package org.corral.lxc.api;

import static java.util.Objects.requireNonNull;
import static org.corral.lxc.api.ApiParams.CT;
import static org.corral.lxc.api.ApiParams.VM_PATH;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.Check;
import org.corral.core.schema.Schema;
import org.corral.lxc.LxcService;

/**
 * {@code termproxy}, {@code vncproxy} and {@code vncwebsocket}. Both proxies answer a terminal
 * console (xterm.js protocol): Proxmox wraps the same terminal in vncterm for its noVNC view,
 * Corral's clients render the terminal directly.
 */
public final class LxcConsoleApi implements ApiModule {
    private final LxcService service;

    public LxcConsoleApi(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(termproxy(), vncproxy(), vncwebsocket());
    }

    private static Schema proxyAnswer() {
        return Schema.object()
                .property("user", Schema.string().description("The user the ticket is for."))
                .property("ticket", Schema.string().description("One-time ticket for vncwebsocket."))
                .property("port", Schema.integer().description("The console handle to pass to vncwebsocket."))
                .property("upid", ApiParams.upid());
    }

    private ApiMethod termproxy() {
        return ApiParams.ct(ApiMethod.post(CT + "/termproxy").name("termproxy").description("Creates a TCP proxy connection.")
                        .permission(Check.path(VM_PATH, Privilege.VM_CONSOLE)))
                .returns(proxyAnswer())
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.consoleService().open(r.vmId("vmid"), r.auth().userid());
                });
    }

    private ApiMethod vncproxy() {
        return ApiParams.ct(ApiMethod.post(CT + "/vncproxy").name("vncproxy").description("Creates a TCP VNC proxy connections. "
                                + "Corral answers a terminal console (xterm.js protocol over vncwebsocket) instead of VNC.")
                        .permission(Check.path(VM_PATH, Privilege.VM_CONSOLE)))
                .parameter("websocket", Schema.bool().optional().description("use websocket instead of standard VNC."))
                .parameter("width", Schema.integer().minimum(16).maximum(4096).optional()
                        .description("sets the width of the console in pixels."))
                .parameter("height", Schema.integer().minimum(16).maximum(2160).optional()
                        .description("sets the height of the console in pixels."))
                .returns(proxyAnswer().property("cert", Schema.string().description("Unused: the console is a terminal.")))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    Map<String, Object> out = new LinkedHashMap<>(service.consoleService().open(r.vmId("vmid"), r.auth().userid()));
                    out.put("cert", "");
                    return out;
                });
    }

    private ApiMethod vncwebsocket() {
        return ApiParams.ct(ApiMethod.get(CT + "/vncwebsocket").name("vncwebsocket").description("Opens a websocket for VNC traffic.")
                        .permission(Check.path(VM_PATH, Privilege.VM_CONSOLE)).webSocket())
                .parameter("port", Schema.integer().minimum(5900).maximum(65535).description("Port number returned by previous vncproxy call."))
                .parameter("vncticket", Schema.string().maxLength(512).description("Ticket from previous call to vncproxy."))
                .returns(Schema.object().description("The claimed console; the server upgrades the connection to a websocket."))
                .handler(r -> {
                    service.checkNode(r.string("node"));
                    return service.consoleService().claim(r.vmId("vmid"), (int) r.integer("port"), r.string("vncticket"),
                            r.auth().userid());
                });
    }
}
