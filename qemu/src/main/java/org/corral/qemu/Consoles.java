package org.corral.qemu;

import static java.util.Objects.requireNonNull;


import java.time.Duration;
import java.util.List;
import java.util.Map;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.corral.core.config.ConfigStore;
import org.corral.core.console.ConsoleKind;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.error.ApiException;
import org.corral.core.error.PermissionDenied;
import org.corral.core.json.Json;
import org.corral.core.node.Node;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskManager;
import org.corral.qemu.config.PropertyStrings;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmOptions;
import org.corral.qemu.console.SocketConsole;
import tools.jackson.databind.node.ObjectNode;

/**
 * The VM consoles: {@code vncproxy} (RFB from the VM's VNC socket, the one-time ticket set as VNC
 * password through QMP), {@code termproxy} (a serial port's socket), and the claim that
 * {@code vncwebsocket} makes. Each console runs as a task that ends with the connection.
 */
public final class Consoles {
    /** How long an unclaimed console waits for its websocket, as ConsoleProxies keeps it. */
    private static final Duration CLAIM_WINDOW = Duration.ofSeconds(60);

    private final Node node;
    private final VmConfigs configs;
    private final VmRuntime runtime;
    private final ConsoleProxies proxies;
    private final TaskManager tasks;
    private final ConfigStore store;

    public Consoles(Node node, VmConfigs configs, VmRuntime runtime, ConsoleProxies proxies, TaskManager tasks) {
        this.node = requireNonNull(node, "node is null");
        this.configs = requireNonNull(configs, "configs is null");
        this.runtime = requireNonNull(runtime, "runtime is null");
        this.proxies = requireNonNull(proxies, "proxies is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
        this.store = configs.store();
    }

    public String guestPath(int vmid) {
        return "/nodes/" + node.name() + "/qemu/" + vmid;
    }

    /** {@code POST vncproxy}: port, ticket (the VNC password), cert, user, upid. */
    public ObjectNode vncproxy(int vmid, String user, boolean generatePassword) {
        VmConfig config = configs.load(vmid).config();
        if (!runtime.isRunning(vmid)) {
            throw VmRuntime.notRunning(vmid);
        }
        String vga = config.get("vga").map(v -> PropertyStrings.parse(VmOptions.VGA, v).getOrDefault("type", "std")).orElse("std");
        if (vga.equals("none") || vga.startsWith("serial")) {
            throw new ApiException(500, "VM " + vmid + " has no VNC display (vga: " + vga + "); use termproxy for its serial console");
        }
        SocketConsole backend = new SocketConsole(runtime.paths(vmid).vnc());
        ConsoleProxies.Pending pending = proxies.register(user, guestPath(vmid), ConsoleKind.RFB, backend);
        runtime.command(vmid, "set_password", Map.of("protocol", "vnc", "password", pending.ticket()));
        runtime.command(vmid, "expire_password", Map.of("protocol", "vnc", "time", "+" + CLAIM_WINDOW.toSeconds()));
        String upid = consoleTask("vncproxy", vmid, user, backend);
        ObjectNode out = Json.object();
        out.put("port", pending.port());
        out.put("ticket", pending.ticket());
        out.put("cert", certificate());
        out.put("user", user);
        out.put("upid", upid);
        if (generatePassword) {
            out.put("password", pending.ticket());
        }
        return out;
    }

    /** {@code POST termproxy}: a serial port ({@code serial0} by default) as an xterm.js terminal. */
    public ObjectNode termproxy(int vmid, String user, String serial) {
        VmConfig config = configs.load(vmid).config();
        if (!runtime.isRunning(vmid)) {
            throw VmRuntime.notRunning(vmid);
        }
        if (!"socket".equals(config.get(serial).orElse(""))) {
            throw new ApiException(500, "VM " + vmid + ": " + serial + " is not a serial socket ('" + serial + ": socket')");
        }
        SocketConsole backend = new SocketConsole(runtime.paths(vmid).serial(Integer.parseInt(serial.substring("serial".length()))));
        ConsoleProxies.Pending pending = proxies.register(user, guestPath(vmid), ConsoleKind.TERMINAL, backend);
        String upid = consoleTask("termproxy", vmid, user, backend);
        ObjectNode out = Json.object();
        out.put("port", pending.port());
        out.put("ticket", pending.ticket());
        out.put("user", user);
        out.put("upid", upid);
        return out;
    }

    /** {@code GET vncwebsocket}: hands the console registered under {@code port} to the server, once. */
    public ConsoleProxies.Pending claim(int vmid, int port, String ticket, String user) {
        return proxies.claim(port, ticket, user, guestPath(vmid))
                .orElseThrow(() -> new PermissionDenied("Permission check failed (invalid vncticket or port)"));
    }

    /** {@code POST spiceproxy}: refused with the reason, as this node serves no SPICE proxy. */
    public Object spiceproxy(int vmid) {
        VmConfig config = configs.load(vmid).config();
        if (!spiceSupported()) {
            throw new ApiException(500, "SPICE is not available: QEMU on node '" + node.name() + "' has no SPICE support");
        }
        String vga = config.get("vga").map(v -> PropertyStrings.parse(VmOptions.VGA, v).getOrDefault("type", "std")).orElse("std");
        if (!vga.startsWith("qxl")) {
            throw new ApiException(500, "VM " + vmid + " has no SPICE display (vga: " + vga + "); SPICE needs 'vga: qxl'");
        }
        throw new ApiException(501, "SPICE is not available: node '" + node.name()
                + "' runs no SPICE proxy yet; use vncproxy or termproxy");
    }

    private boolean spiceSupported() {
        try {
            return ProcessRunner.of(QemuCommandLine.QEMU, "-spice", "help").output().contains("spice options");
        } catch (RuntimeException e) {
            return false;
        }
    }

    private String consoleTask(String type, int vmid, String user, SocketConsole backend) {
        return tasks.start(type, Integer.toString(vmid), user, ctx -> {
            try {
                backend.connected().get(CLAIM_WINDOW.toMillis() + 5000, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                ctx.log("no client connected within %d s", CLAIM_WINDOW.toSeconds());
                return;
            }
            ctx.log("connected to VM %d", vmid);
            backend.closed().get();
            ctx.log("connection closed");
        }).format();
    }

    /** The node's TLS certificate as vncproxy answers it (custom one if uploaded). */
    private String certificate() {
        return store.read("nodes/" + node.name() + "/pveproxy-ssl.pem")
                .or(() -> store.read("nodes/" + node.name() + "/pve-ssl.pem"))
                .map(f -> f.text()).orElse("");
    }

}
