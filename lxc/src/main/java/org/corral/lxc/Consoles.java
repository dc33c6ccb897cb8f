package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import com.pty4j.PtyProcess;
import com.pty4j.PtyProcessBuilder;
import com.pty4j.WinSize;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.corral.core.console.ConsoleBackend;
import org.corral.core.console.ConsoleConnection;
import org.corral.core.console.ConsoleKind;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.error.Conflict;
import org.corral.core.error.PermissionDenied;
import org.corral.lxc.config.CtSection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Container consoles for {@code termproxy} and {@code vncproxy}: a terminal registered with
 * {@link ConsoleProxies} that, when the client's websocket arrives, runs {@code lxc-console}
 * (or, for {@code cmode: shell}, {@code lxc-attach} with a login shell) under a real pty from
 * pty4j, with resizes passed on. Proxmox runs the same terminal under vncterm for its GUI
 * console; Corral answers {@code vncproxy} with the terminal too and lets the client render it
 * (xterm.js), so both calls give a {@link ConsoleKind#TERMINAL}. Each console is a
 * {@code vncproxy} task that ends when the session does (or when nobody connects in time).
 */
public final class Consoles {
    private static final Logger log = LoggerFactory.getLogger(Consoles.class);
    /** A ticket nobody claims is dropped by ConsoleProxies after a minute. */
    private static final Duration CLAIM_WAIT = Duration.ofSeconds(65);

    private final LxcService service;

    Consoles(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    /** The API path a console belongs to; the websocket call must name the same guest. */
    public String guestPath(int vmid) {
        return "/nodes/" + service.node().name() + "/lxc/" + vmid;
    }

    /** {@code termproxy} and {@code vncproxy}: registers the console and answers {@code port}, {@code ticket}, {@code user}, {@code upid}. */
    public Map<String, Object> open(int vmid, String user) {
        CtSection conf = service.configs().load(vmid).config().main();
        if (!service.driver().isRunning(vmid)) {
            throw new Conflict("CT " + vmid + " not running");
        }
        String cmode = conf.get("cmode").orElse("tty");
        int ttys = (int) conf.getLong("tty", 2);
        Session session = new Session(service.driver().consoleCommand(vmid, cmode, ttys));
        ConsoleProxies.Pending pending = service.consoles().register(user, guestPath(vmid), ConsoleKind.TERMINAL, session);
        String upid = service.task("vncproxy", vmid, user, ctx -> {
            ctx.log("console of CT %d waiting on port %d", vmid, pending.port());
            if (!session.connected.await(CLAIM_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                ctx.log("nobody connected");
                return;
            }
            ctx.log("connected");
            session.closed.await();
            ctx.log("console closed");
        });
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("user", user);
        out.put("ticket", pending.ticket());
        out.put("port", pending.port());
        out.put("upid", upid);
        return out;
    }

    /** {@code vncwebsocket}: hands the registered console to the server, which upgrades and pipes it. */
    public ConsoleProxies.Pending claim(int vmid, int port, String ticket, String user) {
        return service.consoles().claim(port, ticket, user, guestPath(vmid))
                .orElseThrow(() -> new PermissionDenied("Permission check failed (invalid or expired console ticket)"));
    }

    /** Opens the terminal when the websocket arrives: one process per connection. */
    static final class Session implements ConsoleBackend {
        private final List<String> command;
        final CountDownLatch connected = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);

        Session(List<String> command) {
            this.command = List.copyOf(command);
        }

        @Override
        public ConsoleConnection connect() throws IOException {
            Map<String, String> env = new LinkedHashMap<>();
            env.put("TERM", "xterm-256color");
            env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            env.put("LANG", "C.UTF-8");
            PtyProcess process = new PtyProcessBuilder(command.toArray(String[]::new)).setEnvironment(env)
                    .setInitialColumns(80).setInitialRows(24).setRedirectErrorStream(true).start();
            connected.countDown();
            process.onExit().thenRun(closed::countDown);
            return new PtyConnection(process, closed);
        }
    }

    /** A console process under a pty. */
    static final class PtyConnection implements ConsoleConnection {
        private final PtyProcess process;
        private final CountDownLatch closed;

        PtyConnection(PtyProcess process, CountDownLatch closed) {
            this.process = process;
            this.closed = closed;
        }

        @Override
        public InputStream output() {
            return process.getInputStream();
        }

        @Override
        public OutputStream input() {
            return process.getOutputStream();
        }

        @Override
        public void resize(int columns, int rows) {
            if (columns > 0 && rows > 0 && process.isAlive()) {
                process.setWinSize(new WinSize(columns, rows));
            }
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
            log.debug("Console process {} ended", process.pid());
            closed.countDown();
        }
    }
}
