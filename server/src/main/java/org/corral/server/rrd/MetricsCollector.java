package org.corral.server.rrd;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.corral.core.guest.GuestUsage;
import org.corral.server.api.GuestIndex;
import org.corral.server.api.RunningGuests;
import org.corral.server.host.HostStatus;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;
import org.corral.storage.StorageStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples this node, its running guests and its storages into the {@link MetricsStore} at a fixed
 * interval (Proxmox's pvestatd: every 10 s), from the same sources as {@code /nodes/{node}/status}
 * and {@code /cluster/resources}. A figure that could not be measured is left unknown.
 */
public final class MetricsCollector implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsCollector.class);
    /** Proxmox counts the traffic of physical NICs only, not of bridges, taps and veths. */
    private static final Pattern PHYSICAL_NIC = Pattern.compile("eth\\d+|en[^:.]+|ib[^:.]+");

    private final String nodeName;
    private final MetricsStore metrics;
    private final HostStatus host;
    private final Path proc;
    private final RunningGuests running;
    private final GuestIndex guests;
    private final StorageService storage;
    private final Clock clock;
    private ScheduledExecutorService executor;

    public MetricsCollector(String nodeName, MetricsStore metrics, HostStatus host, Path proc, RunningGuests running,
            GuestIndex guests, StorageService storage, Clock clock) {
        this.nodeName = requireNonNull(nodeName, "nodeName is null");
        this.metrics = requireNonNull(metrics, "metrics is null");
        this.host = requireNonNull(host, "host is null");
        this.proc = requireNonNull(proc, "proc is null");
        this.running = requireNonNull(running, "running is null");
        this.guests = requireNonNull(guests, "guests is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    /** Collects every {@code interval} on a thread of its own until {@link #close()}. */
    public synchronized MetricsCollector start(Duration interval) {
        if (executor != null) {
            throw new IllegalStateException("already started");
        }
        executor = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("rrd-collector-" + nodeName)
                .daemon(true).factory());
        executor.scheduleAtFixedRate(this::collectLogged, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    private void collectLogged() {
        try {
            collect();
        } catch (RuntimeException e) {
            // the next round tries again; a stopped collector would leave the graphs empty for good
            log.warn("Collecting metrics failed", e);
        }
    }

    /** One round: node, running guests, storages, all at the current second. */
    public void collect() {
        long now = clock.millis() / 1000;
        metrics.update(RrdLayout.Kind.NODE, "node", nodeName, now, node());
        GuestIndex.Snapshot snapshot = guests.snapshot();
        for (String type : List.of("qemu", "lxc")) {
            for (Map.Entry<Integer, GuestUsage.Usage> guest : running.running(type).entrySet()) {
                Optional<GuestIndex.Guest> config = snapshot.guests().stream()
                        .filter(g -> g.vmid() == guest.getKey() && g.type().equals(type) && g.node().equals(nodeName))
                        .findFirst();
                metrics.update(RrdLayout.Kind.GUEST, type, Integer.toString(guest.getKey()), now,
                        guest(guest.getValue(), config.map(GuestIndex.Guest::resource).orElse(Map.of())));
            }
        }
        for (StorageConfig config : storage.config().list()) {
            if (!config.availableOn(nodeName)) {
                continue;
            }
            Optional<StorageStatus> status = storage.state(config).status();
            if (status.isPresent()) {
                metrics.update(RrdLayout.Kind.STORAGE, "storage", config.id(), now,
                        Map.of("total", (double) status.get().total(), "used", (double) status.get().used()));
            }
        }
    }

    Map<String, Double> node() {
        Map<String, Double> out = new HashMap<>();
        host.cpuShares().ifPresent(shares -> {
            out.put("cpu", shares.cpu());
            out.put("iowait", shares.iowait());
        });
        out.put("maxcpu", (double) host.cpus());
        loadavg().ifPresent(load -> out.put("loadavg", load));
        Map<String, Long> mem = host.memory();
        if (mem.get("total") > 0) {
            out.put("memtotal", (double) mem.get("total"));
            out.put("memused", (double) mem.get("used"));
        }
        Map<String, Long> swap = host.swap();
        out.put("swaptotal", (double) swap.get("total"));
        out.put("swapused", (double) swap.get("used"));
        Map<String, Long> root = host.rootfs();
        if (root.get("total") > 0) {
            out.put("roottotal", (double) root.get("total"));
            out.put("rootused", (double) root.get("used"));
        }
        netTraffic().ifPresent(traffic -> {
            out.put("netin", (double) traffic[0]);
            out.put("netout", (double) traffic[1]);
        });
        return out;
    }

    private Optional<Double> loadavg() {
        try {
            return Optional.of(Double.parseDouble(Files.readString(proc.resolve("loadavg")).trim().split("\\s+")[0]));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Bytes received and sent by the physical NICs since boot, from /proc/net/dev. */
    private Optional<long[]> netTraffic() {
        try {
            long in = 0;
            long out = 0;
            for (String line : Files.readAllLines(proc.resolve("net/dev"))) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String dev = line.substring(0, colon).trim();
                if (!PHYSICAL_NIC.matcher(dev).matches()) {
                    continue;
                }
                String[] f = line.substring(colon + 1).trim().split("\\s+");
                in += Long.parseLong(f[0]);
                out += Long.parseLong(f[8]);
            }
            return Optional.of(new long[] {in, out});
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    static Map<String, Double> guest(GuestUsage.Usage usage, Map<String, Object> resource) {
        Map<String, Double> out = new HashMap<>();
        usage.cpu().ifPresent(v -> out.put("cpu", v));
        usage.mem().ifPresent(v -> out.put("mem", (double) v));
        usage.diskread().ifPresent(v -> out.put("diskread", (double) v));
        usage.diskwrite().ifPresent(v -> out.put("diskwrite", (double) v));
        usage.netin().ifPresent(v -> out.put("netin", (double) v));
        usage.netout().ifPresent(v -> out.put("netout", (double) v));
        // the configured limits, as /cluster/resources lists them; disk use is measured by nobody yet
        for (String key : List.of("maxcpu", "maxmem")) {
            if (resource.get(key) instanceof Number n) {
                out.put(key, n.doubleValue());
            }
        }
        return out;
    }

    @Override
    public synchronized void close() {
        if (executor != null) {
            executor.shutdownNow();
            try {
                if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                    log.warn("The metrics collector of {} did not stop within 10 s", nodeName);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
