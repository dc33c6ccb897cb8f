package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.json.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The QEMU guest agent of one VM, reached through its {@code .qga} socket. Each call opens its own
 * connection, as QEMU's chardev serves one client at a time and a stale client must not block others.
 */
public final class GuestAgent {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Freezing waits for every file system to flush, which can take long on a busy guest. */
    public static final Duration FREEZE_TIMEOUT = Duration.ofMinutes(5);

    private final int vmid;
    private final Path socket;

    public GuestAgent(int vmid, Path socket) {
        this.vmid = vmid;
        this.socket = requireNonNull(socket, "socket is null");
    }

    /** Runs an agent command; an agent that does not answer is reported as not running. */
    public JsonNode command(String command, Map<String, ?> arguments, Duration timeout) {
        QmpClient client;
        try {
            client = QmpClient.connectAgent(socket, Duration.ofSeconds(3));
        } catch (QmpException.Timeout e) {
            throw new QmpException("VM " + vmid + " qmp command '" + command + "' failed - QEMU guest agent is not running");
        }
        try (client) {
            return client.execute(command, arguments, timeout);
        } catch (QmpException.Timeout e) {
            throw new QmpException.Timeout("VM " + vmid + " qmp command '" + command + "' failed - got timeout");
        }
    }

    public JsonNode command(String command) {
        return command(command, Map.of(), DEFAULT_TIMEOUT);
    }

    public void ping() {
        command("guest-ping");
    }

    public JsonNode osInfo() {
        return command("guest-get-osinfo");
    }

    public JsonNode networkInterfaces() {
        return command("guest-network-get-interfaces");
    }

    /** Freezes the guest's file systems; answers how many it froze. */
    public long fsfreezeFreeze() {
        return command("guest-fsfreeze-freeze", Map.of(), FREEZE_TIMEOUT).asLong();
    }

    /** Thaws the guest's file systems; answers how many it thawed. */
    public long fsfreezeThaw() {
        return command("guest-fsfreeze-thaw", Map.of(), FREEZE_TIMEOUT).asLong();
    }

    /** {@code thawed} or {@code frozen}. */
    public String fsfreezeStatus() {
        return command("guest-fsfreeze-status").asString();
    }

    /** Starts {@code command} (program and arguments) in the guest with output captured; answers its pid. */
    public long exec(List<String> command, Optional<String> input) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("no command given");
        }
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("path", command.get(0));
        args.put("arg", command.subList(1, command.size()));
        args.put("capture-output", true);
        input.ifPresent(data -> args.put("input-data", Base64.getEncoder().encodeToString(data.getBytes(StandardCharsets.UTF_8))));
        return command("guest-exec", args, DEFAULT_TIMEOUT).path("pid").asLong();
    }

    /** The state of a command started by {@link #exec}, its output decoded from base64 as Proxmox answers it. */
    public JsonNode execStatus(long pid) {
        JsonNode status = command("guest-exec-status", Map.of("pid", pid), DEFAULT_TIMEOUT);
        ObjectNode out = Json.object();
        status.properties().forEach(e -> {
            String key = e.getKey();
            if ((key.equals("out-data") || key.equals("err-data")) && e.getValue().isString()) {
                out.put(key, new String(Base64.getDecoder().decode(e.getValue().asString()), StandardCharsets.UTF_8));
            } else {
                out.set(key, e.getValue());
            }
        });
        return out;
    }
}
