package org.corral.qemu.api;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
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
import org.corral.core.json.Json;
import org.corral.core.schema.Schema;
import org.corral.qemu.GuestAgent;
import org.corral.qemu.QemuService;
import org.corral.qemu.QmpException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /nodes/{node}/qemu/{vmid}/agent}: QEMU guest agent commands, answered as Proxmox does
 * ({@code {"result": ...}}), with exec and exec-status for running commands in the guest.
 */
public final class VmAgentApi implements ApiModule {
    private static final String AGENT = "/nodes/{node}/qemu/{vmid}/agent";
    private static final List<String> READ = List.of("get-fsinfo", "get-host-name", "get-memory-block-info", "get-memory-blocks",
            "get-osinfo", "get-time", "get-timezone", "get-users", "get-vcpus", "info", "network-get-interfaces");
    private static final List<String> FILESYSTEM = List.of("fsfreeze-freeze", "fsfreeze-status", "fsfreeze-thaw", "fstrim");
    private static final List<String> POWER = List.of("shutdown", "suspend-disk", "suspend-hybrid", "suspend-ram");

    private final QemuService service;

    public VmAgentApi(QemuService service) {
        this.service = requireNonNull(service, "service is null");
    }

    private ApiMethod base(ApiMethod method) {
        return method.proxyToNode().parameter("node", ApiParams.node()).parameter("vmid", ApiParams.vmid());
    }

    @Override
    public List<ApiMethod> methods() {
        List<ApiMethod> methods = new ArrayList<>();
        methods.add(base(ApiMethod.get(AGENT).name("agent_index").description("QEMU Guest Agent command index.")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_AUDIT))
                .returns(Schema.array(Schema.object()))
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    ArrayNode out = Json.array();
                    List<String> all = new ArrayList<>(READ);
                    all.addAll(FILESYSTEM);
                    all.addAll(POWER);
                    all.addAll(List.of("ping", "exec", "exec-status", "file-read", "file-write", "set-user-password"));
                    all.stream().sorted().forEach(c -> out.addObject().put("name", c));
                    return out;
                })));
        methods.add(simple(ApiMethod.post(AGENT + "/ping"), "ping", Check.pathAny("/vms/{vmid}", Privilege.VM_GUESTAGENT_AUDIT,
                Privilege.VM_GUESTAGENT_UNRESTRICTED)));
        for (String command : READ) {
            methods.add(simple(ApiMethod.get(AGENT + "/" + command), command, Check.pathAny("/vms/{vmid}", Privilege.VM_GUESTAGENT_AUDIT,
                    Privilege.VM_GUESTAGENT_UNRESTRICTED)));
        }
        for (String command : FILESYSTEM) {
            methods.add(simple(ApiMethod.post(AGENT + "/" + command), command, command.equals("fsfreeze-status")
                    ? Check.pathAny("/vms/{vmid}", Privilege.VM_GUESTAGENT_AUDIT, Privilege.VM_GUESTAGENT_FILESYSTEMMGMT,
                            Privilege.VM_GUESTAGENT_UNRESTRICTED)
                    : Check.pathAny("/vms/{vmid}", Privilege.VM_GUESTAGENT_FILESYSTEMMGMT, Privilege.VM_GUESTAGENT_UNRESTRICTED)));
        }
        for (String command : POWER) {
            methods.add(simple(ApiMethod.post(AGENT + "/" + command), command, Check.path("/vms/{vmid}", Privilege.VM_POWER_MGMT)));
        }
        methods.add(base(ApiMethod.post(AGENT + "/exec").name("exec").description("Executes the given command in the vm via the guest-agent and returns an object with the pid.")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_GUESTAGENT_UNRESTRICTED))
                .parameter("command", Schema.string().description("The command as a list of program + arguments (separated by NUL or spaces)."))
                .parameter("input-data", Schema.string().maxLength(65536).multiLine().optional().description("Data to pass as 'input-data' to the guest."))
                .returns(Schema.object().property("pid", Schema.integer().description("The PID of the process started by the guest-agent.")))
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    List<String> command = List.of(r.string("command").split(r.string("command").indexOf('\0') >= 0 ? "\0" : "\\s+"));
                    long pid = call(r, agent -> agent.exec(command, r.optionalString("input-data")));
                    ObjectNode out = Json.object();
                    out.put("pid", pid);
                    return out;
                })));
        methods.add(base(ApiMethod.get(AGENT + "/exec-status").name("exec-status").description("Gets the status of the given pid started by the guest-agent")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_GUESTAGENT_UNRESTRICTED))
                .parameter("pid", Schema.integer().minimum(0).description("The PID to query"))
                .returns(Schema.object())
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    long pid = r.integer("pid");
                    return call(r, agent -> agent.execStatus(pid));
                })));
        methods.add(base(ApiMethod.get(AGENT + "/file-read").name("file-read").description("Reads the given file via guest agent. Is limited to 16777216 bytes.")
                .permission(Check.pathAny("/vms/{vmid}", Privilege.VM_GUESTAGENT_FILEREAD, Privilege.VM_GUESTAGENT_UNRESTRICTED))
                .parameter("file", Schema.string().description("The path to the file"))
                .returns(Schema.object())
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    return call(r, agent -> readFile(agent, r.string("file")));
                })));
        methods.add(base(ApiMethod.post(AGENT + "/file-write").name("file-write").description("Writes the given file via guest agent.")
                .permission(Check.pathAny("/vms/{vmid}", Privilege.VM_GUESTAGENT_FILEWRITE, Privilege.VM_GUESTAGENT_UNRESTRICTED))
                .parameter("file", Schema.string().description("The path to the file."))
                .parameter("content", Schema.string().maxLength(61440).multiLine().description("The content to write into the file."))
                .parameter("encode", Schema.bool().defaultValue(true).description("If set, the content will be encoded as base64 (required by QEMU)."))
                .returns(Schema.nullValue())
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    call(r, agent -> writeFile(agent, r.string("file"), r.string("content"), r.bool("encode")));
                    return null;
                })));
        methods.add(base(ApiMethod.post(AGENT + "/set-user-password").name("set-user-password").description("Sets the password for the given user to the given password")
                .permission(Check.path("/vms/{vmid}", Privilege.VM_GUESTAGENT_UNRESTRICTED))
                .parameter("username", Schema.string().description("The user to set the password for."))
                .parameter("password", Schema.string().minLength(5).maxLength(1024).secret().description("The new password."))
                .parameter("crypted", Schema.bool().defaultValue(false).description("set to 1 if the password has already been passed through crypt()"))
                .returns(Schema.object())
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    JsonNode result = call(r, agent -> agent.command("guest-set-user-password", Map.of("username", r.string("username"),
                            "password", java.util.Base64.getEncoder().encodeToString(r.string("password").getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                            "crypted", r.bool("crypted")), GuestAgent.DEFAULT_TIMEOUT));
                    return wrap(result);
                })));
        return methods;
    }

    private ApiMethod simple(ApiMethod method, String command, Check check) {
        return base(method.name(command).description("Execute " + command + ".")
                .permission(check)
                .returns(Schema.object().property("result", Schema.any().description("The guest agent's answer.")))
                .handler(r -> {
                    ApiParams.checkNode(r, service.node());
                    return wrap(call(r, agent -> agent.command(qgaName(command), Map.of(), command.startsWith("fsfreeze")
                            ? GuestAgent.FREEZE_TIMEOUT : GuestAgent.DEFAULT_TIMEOUT)));
                }));
    }

    /** The agent's command name: {@code ping} is {@code guest-ping}, {@code info} {@code guest-info}. */
    static String qgaName(String command) {
        return "guest-" + command;
    }

    private static ObjectNode wrap(JsonNode result) {
        ObjectNode out = Json.object();
        out.set("result", result);
        return out;
    }

    @FunctionalInterface
    private interface AgentCall<T> {
        T run(GuestAgent agent);
    }

    private <T> T call(ApiRequest request, AgentCall<T> call) {
        GuestAgent agent = service.driver().agent(request.vmId("vmid"));
        try {
            return call.run(agent);
        } catch (QmpException e) {
            throw new ApiException(500, e.getMessage());
        }
    }

    private static ObjectNode readFile(GuestAgent agent, String file) {
        long handle = agent.command("guest-file-open", Map.of("path", file), GuestAgent.DEFAULT_TIMEOUT).asLong();
        try {
            StringBuilder base64 = new StringBuilder();
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            boolean truncated = false;
            while (true) {
                JsonNode chunk = agent.command("guest-file-read", Map.of("handle", handle, "count", 1024 * 1024), GuestAgent.DEFAULT_TIMEOUT);
                byte[] data = java.util.Base64.getDecoder().decode(chunk.path("buf-b64").asString(""));
                bytes.writeBytes(data);
                if (chunk.path("eof").asBoolean(true)) {
                    break;
                }
                if (bytes.size() >= 16 * 1024 * 1024) {
                    truncated = true;
                    break;
                }
            }
            base64.append(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
            ObjectNode out = Json.object();
            out.put("content", base64.toString());
            if (truncated) {
                out.put("truncated", 1);
            }
            return out;
        } finally {
            agent.command("guest-file-close", Map.of("handle", handle), Duration.ofSeconds(10));
        }
    }

    private static Optional<Void> writeFile(GuestAgent agent, String file, String content, boolean encode) {
        long handle = agent.command("guest-file-open", Map.of("path", file, "mode", "wb"), GuestAgent.DEFAULT_TIMEOUT).asLong();
        try {
            String data = encode ? java.util.Base64.getEncoder().encodeToString(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)) : content;
            agent.command("guest-file-write", Map.of("handle", handle, "buf-b64", data), GuestAgent.DEFAULT_TIMEOUT);
        } finally {
            agent.command("guest-file-close", Map.of("handle", handle), Duration.ofSeconds(10));
        }
        return Optional.empty();
    }
}
