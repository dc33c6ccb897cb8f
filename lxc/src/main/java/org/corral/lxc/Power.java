package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.IntPredicate;
import org.corral.core.error.Conflict;
import org.corral.lxc.config.CtConfig;
import org.corral.lxc.config.CtOptions;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.config.MountPoint;
import org.corral.lxc.template.GuestSetup;
import org.corral.lxc.template.RootfsFiles;

/**
 * Starting, stopping and watching containers: each state change is a worker task
 * ({@code vzstart}, {@code vzstop}, {@code vzshutdown}, {@code vzreboot}, {@code vzsuspend},
 * {@code vzresume}) that logs what it does; the status answers read LXC and the cgroups.
 */
public final class Power {
    private final LxcService service;

    Power(LxcService service) {
        this.service = requireNonNull(service, "service is null");
    }

    private CtConfigs configs() {
        return service.configs();
    }

    private LxcDriver driver() {
        return service.driver();
    }

    /** {@code status/start}: applies pending changes, then starts. */
    public String start(int vmid, String user, boolean skiplock, boolean debug) {
        CtConfig config = configs().load(vmid).config();
        if (!skiplock) {
            CtConfigs.checkLock(config);
        }
        if (config.isTemplate()) {
            throw new Conflict("you can't start a CT if it's a template");
        }
        if (driver().isRunning(vmid)) {
            throw new Conflict("CT " + vmid + " already running");
        }
        return service.task("vzstart", vmid, user, ctx -> configs().locked(vmid, () -> {
            startNow(vmid, debug, ctx::log);
            return null;
        }));
    }

    /** Starts at once in the calling thread (a task body): pending changes are applied first. */
    void startNow(int vmid, boolean debug, Consumer<String> log) {
        CtConfig config = configs().load(vmid).config();
        if (!config.pending().isEmpty()) {
            config = configs().update(vmid, Optional.empty(), c -> c.withMain(LxcService.effective(c)).withPending(CtSection.EMPTY))
                    .config();
            log.accept("applied pending changes");
        }
        CtSection conf = config.main();
        if (debug) {
            conf = conf.with("debug", "1");
        }
        try {
            refreshGuestFiles(conf);
            driver().start(vmid, conf, log, LxcService.START_TIMEOUT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        log.accept("CT " + vmid + " started");
    }

    /**
     * Rewrites hostname, hosts, DNS and network files before each start, as Proxmox's pre-start
     * hook does, so that a clone's new name or a changed address reaches the guest.
     */
    private void refreshGuestFiles(CtSection conf) throws IOException {
        String ostype = conf.get("ostype").orElse("unmanaged");
        MountPoint root = MountPoint.parse("rootfs", conf.get("rootfs").orElseThrow());
        if (root.type() != MountPoint.Type.VOLUME) {
            return;
        }
        int rootId = conf.getBool("unprivileged", false) ? (int) LxcConfigWriter.ID_MAP_BASE : 0;
        RootfsFiles files = new RootfsFiles(service.storage().path(root.volume()),
                rootId, rootId);
        GuestSetup setup = new GuestSetup(files, service.clock(), service.random());
        setup.apply(ostype, conf, GuestSetup.Secrets.NONE, service.hostDns());
    }

    public String stop(int vmid, String user, boolean skiplock) {
        CtConfig config = configs().load(vmid).config();
        if (!skiplock) {
            CtConfigs.checkLock(config);
        }
        if (!driver().isRunning(vmid)) {
            throw new Conflict("CT " + vmid + " not running");
        }
        return service.task("vzstop", vmid, user, ctx -> {
            driver().stop(vmid);
            ctx.log("CT %d stopped", vmid);
        });
    }

    public String shutdown(int vmid, String user, long timeoutSeconds, boolean force) {
        CtConfigs.checkLock(configs().load(vmid).config());
        if (!driver().isRunning(vmid)) {
            throw new Conflict("CT " + vmid + " not running");
        }
        return service.task("vzshutdown", vmid, user, ctx -> {
            try {
                driver().shutdown(vmid, Duration.ofSeconds(timeoutSeconds), force);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(e.getMessage() + (force ? "" : " (use forceStop to kill it)"), e);
            }
            ctx.log("CT %d stopped", vmid);
        });
    }

    public String reboot(int vmid, String user, long timeoutSeconds) {
        CtConfigs.checkLock(configs().load(vmid).config());
        if (!driver().isRunning(vmid)) {
            throw new Conflict("CT " + vmid + " not running");
        }
        return service.task("vzreboot", vmid, user, ctx -> configs().locked(vmid, () -> {
            // a reboot through shutdown and start also applies pending changes, as Proxmox does
            driver().shutdown(vmid, Duration.ofSeconds(timeoutSeconds), true);
            ctx.log("CT %d stopped, starting again", vmid);
            startNow(vmid, false, ctx::log);
            return null;
        }));
    }

    public String suspend(int vmid, String user) {
        CtConfigs.checkLock(configs().load(vmid).config());
        if (!driver().isRunning(vmid)) {
            throw new Conflict("CT " + vmid + " not running");
        }
        return service.task("vzsuspend", vmid, user, ctx -> {
            driver().freeze(vmid);
            ctx.log("CT %d frozen", vmid);
        });
    }

    public String resume(int vmid, String user) {
        configs().load(vmid);
        if (!driver().isRunning(vmid)) {
            throw new Conflict("CT " + vmid + " not running");
        }
        return service.task("vzresume", vmid, user, ctx -> {
            driver().unfreeze(vmid);
            ctx.log("CT %d thawed", vmid);
        });
    }

    /**
     * Starts the containers marked {@code onboot} that are not running, in {@code startup}
     * order (then by VMID), waiting each one's {@code up} delay, in one {@code startall} task; for
     * the server to call when the node comes up. Empty when there is nothing to start.
     */
    public Optional<String> startOnBoot(String user) {
        List<int[]> order = new ArrayList<>();
        for (int vmid : configs().list()) {
            configs().find(vmid).map(l -> l.config().main()).filter(c -> c.getBool("onboot", false) && !c.getBool("template", false))
                    .ifPresent(c -> order.add(new int[] {vmid, startupValue(c, "order", Integer.MAX_VALUE), startupValue(c, "up", 0)}));
        }
        order.removeIf(e -> driver().isRunning(e[0]));
        if (order.isEmpty()) {
            return Optional.empty();
        }
        order.sort(Comparator.<int[]>comparingInt(e -> e[1]).thenComparingInt(e -> e[0]));
        return Optional.of(service.tasks().start("startall", "", user, ctx -> {
            for (int[] e : order) {
                try {
                    configs().locked(e[0], () -> {
                        startNow(e[0], false, ctx::log);
                        return null;
                    });
                    if (e[2] > 0) {
                        Thread.sleep(e[2] * 1000L);
                    }
                } catch (RuntimeException failure) {
                    ctx.warn("CT %d: %s", e[0], failure.getMessage());
                }
            }
        }).format());
    }

    private static int startupValue(CtSection conf, String key, int fallback) {
        for (String part : conf.get("startup").orElse("").split(",")) {
            String p = part.trim();
            if (key.equals("order") && p.matches("\\d+")) {
                return Integer.parseInt(p);
            }
            if (p.startsWith(key + "=")) {
                return Integer.parseInt(p.substring(key.length() + 1));
            }
        }
        return fallback;
    }

    private static void putFigure(Map<String, Object> out, String key, boolean running, Map<String, Object> figures) {
        if (!running) {
            out.put(key, key.equals("cpu") ? 0.0 : 0L);
        } else if (figures.containsKey(key)) {
            out.put(key, figures.get(key));
        }
    }

    /** One container as {@code GET /nodes/{node}/lxc} and {@code status/current} describe it. */
    public Map<String, Object> status(int vmid, CtConfig config, boolean withDisk) {
        CtSection conf = config.main();
        Map<String, Object> out = new LinkedHashMap<>();
        LxcDriver.Info info = driver().info(vmid);
        boolean running = info.state() != LxcDriver.State.STOPPED;
        out.put("vmid", vmid);
        out.put("name", conf.get("hostname").orElse("CT" + vmid));
        out.put("status", running ? "running" : "stopped");
        out.put("type", "lxc");
        out.put("cpus", conf.has("cores") ? conf.getLong("cores", 1) : driver().host().cpus());
        if (conf.has("cpulimit") && conf.getDouble("cpulimit", 0) > 0) {
            out.put("cpus", conf.getDouble("cpulimit", 0));
        }
        out.put("maxmem", conf.getLong("memory", 512) * 1024 * 1024);
        out.put("maxswap", conf.getLong("swap", 512) * 1024 * 1024);
        long maxdisk = conf.get("rootfs").map(r -> MountPoint.parse("rootfs", r).sizeBytes().orElse(0)).orElse(0L);
        out.put("maxdisk", maxdisk);
        Optional<LxcDriver.Usage> usage = running ? driver().usage(vmid, conf) : Optional.empty();
        // a stopped container uses nothing; of a running one only what was measured is reported
        Map<String, Object> figures = usage.map(u -> u.figures().fields()).orElse(Map.of());
        putFigure(out, "mem", running, figures);
        if (!running || usage.isPresent()) {
            out.put("swap", usage.map(LxcDriver.Usage::swap).orElse(0L));
        }
        long disk = 0;
        if (withDisk && running) {
            disk = conf.get("rootfs").map(r -> MountPoint.parse("rootfs", r))
                    .filter(mp -> mp.type() == MountPoint.Type.VOLUME)
                    .map(mp -> {
                        try {
                            return service.storage().used(mp.volume());
                        } catch (RuntimeException e) {
                            return OptionalLong.empty();
                        }
                    }).orElse(OptionalLong.empty()).orElse(0);
        }
        out.put("disk", disk);
        for (String key : List.of("netin", "netout", "diskread", "diskwrite", "uptime", "cpu")) {
            putFigure(out, key, running, figures);
        }
        info.pid().ifPresent(pid -> out.put("pid", pid));
        if (info.state() == LxcDriver.State.FROZEN) {
            out.put("lock-state", "frozen");
        }
        config.lock().ifPresent(l -> out.put("lock", l));
        conf.get("tags").ifPresent(t -> out.put("tags", t));
        if (config.isTemplate()) {
            out.put("template", 1);
        }
        out.put("ha", Map.of("managed", 0));
        return out;
    }

    /** Every container of this node, as {@code GET /nodes/{node}/lxc} lists them. */
    public List<Map<String, Object>> list(IntPredicate visible) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int vmid : configs().list()) {
            if (!visible.test(vmid)) {
                continue;
            }
            configs().find(vmid).ifPresent(l -> out.add(status(vmid, l.config(), false)));
        }
        return out;
    }

    /** {@code exec}: runs {@code command} with {@code /bin/sh -c} in the running container. */
    public Map<String, Object> exec(int vmid, String command, Optional<String> input, Duration timeout, int cap) {
        configs().load(vmid);
        LxcDriver.ExecResult r = driver().exec(vmid, List.of("/bin/sh", "-c", command),
                input.map(i -> new ByteArrayInputStream(i.getBytes(StandardCharsets.UTF_8))), timeout, cap);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("exitcode", r.exitCode());
        out.put("stdout", r.stdout());
        out.put("stderr", r.stderr());
        if (r.truncated()) {
            out.put("truncated", 1);
        }
        if (r.timedOut()) {
            out.put("timeout", 1);
        }
        return out;
    }

    /** Keys of the mount points that are storage volumes (rootfs first). */
    static List<String> volumeKeys(CtSection conf) {
        List<String> keys = new ArrayList<>();
        if (conf.has("rootfs")) {
            keys.add("rootfs");
        }
        keys.addAll(LxcDriver.mountKeys(conf));
        return keys.stream().filter(k -> MountPoint.parse(k, conf.get(k).orElseThrow()).type() == MountPoint.Type.VOLUME).toList();
    }

    /** Every volume id the section refers to: volume mount points and unused volumes. */
    static List<String> volumes(CtSection conf) {
        List<String> out = new ArrayList<>();
        for (String key : volumeKeys(conf)) {
            out.add(MountPoint.parse(key, conf.get(key).orElseThrow()).volume());
        }
        conf.options().forEach((k, v) -> {
            if (CtOptions.isUnused(k)) {
                out.add(v.split(",")[0]);
            }
        });
        return out;
    }
}
