package org.corral.firewall.nft;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;
import org.corral.firewall.FirewallService;
import org.corral.firewall.FwConfig;
import org.corral.firewall.FwKind;
import org.corral.firewall.FwParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node's nftables ruleset in step with the config store: applies it at start and again
 * whenever a {@code .fw} file or a guest config of this node changes (config-store watches, no
 * polling). Changes that come while an apply runs are folded into one more apply. Without nft it
 * does nothing and says so in its status; with the datacenter firewall disabled it removes
 * Corral's tables (if any) and leaves the rest of the host's ruleset alone.
 */
public final class FirewallEnforcer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FirewallEnforcer.class);

    /** What the last apply did. */
    public enum State { PENDING, APPLIED, DISABLED, FAILED, UNAVAILABLE }

    public record Status(State state, String message, int rules, long millis, Instant at, long generation) {}

    private final FirewallService service;
    private final NftApplier applier;
    private final NftCompiler compiler;
    private final Clock clock;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("firewall-apply").factory());
    private final AtomicBoolean queued = new AtomicBoolean();
    private final AtomicReference<Status> status;
    private final List<AutoCloseable> watches = new ArrayList<>();
    private long generation;
    // what is in the kernel now, as far as we know; null when unknown
    private NftCompiler.Compiled applied;
    // the files read by the last inputs(), by path
    private Map<String, Parsed> parsed = Map.of();
    // the ruleset in the kernel with what it was compiled from, for the simulator; null when unknown
    private volatile NftSimulator.Model appliedModel;
    private final FirewallLog firewallLog = new FirewallLog();
    private NflogReader nflog;
    private volatile Map<Integer, String> interfaceNames = Map.of();
    private volatile long interfacesRead;

    public FirewallEnforcer(FirewallService service, NftApplier applier, NftCompiler compiler, Clock clock) {
        this.service = requireNonNull(service, "service is null");
        this.applier = requireNonNull(applier, "applier is null");
        this.compiler = requireNonNull(compiler, "compiler is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.status = new AtomicReference<>(new Status(State.PENDING, "not applied yet", 0, 0, clock.instant(), 0));
    }

    /** The enforcer of the node daemon: nft in its own namespace, system service names. */
    public static FirewallEnforcer local(FirewallService service) {
        return new FirewallEnforcer(service, NftApplier.local(), new NftCompiler(Services.system()), Clock.systemUTC());
    }

    /** Watches the store and applies once now; without nft it only records that. */
    public FirewallEnforcer start() {
        if (!applier.available()) {
            status.set(new Status(State.UNAVAILABLE, "nft is not installed: the firewall is not enforced", 0, 0, clock.instant(), 0));
            log.warn("nft is not installed: the firewall is not enforced on node {}", service.node().name());
            return this;
        }
        ConfigStore store = service.store();
        String nodeDir = "nodes/" + service.node().name();
        nflog = NflogReader.start(applier.namespace(), NftCompiler.LOG_GROUP, firewallLog, this::interfaceName);
        watches.add(store.watch("firewall", path -> changed(path)));
        watches.add(store.watch(nodeDir, path -> changed(path)));
        request();
        return this;
    }

    /** What the ruleset logged (rules and policies with a log level), read from NFLOG while enforcing. */
    public FirewallLog log() {
        return firewallLog;
    }

    /** An interface's name by its index, from a list read again (at most once a second) when the index is new. */
    private String interfaceName(int index) {
        String name = interfaceNames.get(index);
        if (name == null && System.nanoTime() - interfacesRead > 1_000_000_000L) {
            interfacesRead = System.nanoTime();
            interfaceNames = applier.interfaces();
            name = interfaceNames.get(index);
        }
        return name == null ? "if" + index : name;
    }

    private void changed(String path) {
        if (path.endsWith(".fw") || path.endsWith(".conf")) {
            request();
        }
    }

    /** Asks for an apply; one that is already waiting covers this one too. */
    public void request() {
        if (queued.compareAndSet(false, true)) {
            try {
                worker.execute(() -> {
                    queued.set(false);
                    applyNow();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                queued.set(false);
            }
        }
    }

    public Status status() {
        return status.get();
    }

    /** Reads, compiles and applies; answers the status it leaves. */
    public synchronized Status applyNow() {
        long started = System.nanoTime();
        long gen = ++generation;
        Status next;
        try {
            FirewallInputs in = inputs();
            NftCompiler.Compiled compiled = compiler.compile(in);
            compiled.warnings().forEach(w -> log.warn("Firewall rule not applied: {}", w));
            appliedModel = null;
            apply(compiled);
            appliedModel = new NftSimulator.Model(compiled, in, sources(), true);
            if (compiled.filtersGuests()) {
                bridgeThroughInet();
            }
            long millis = (System.nanoTime() - started) / 1_000_000;
            next = compiled.enabled()
                    ? new Status(State.APPLIED, compiled.warnings().isEmpty() ? "applied" : "applied; skipped: "
                            + String.join("; ", compiled.warnings()), compiled.rules(), millis, clock.instant(), gen)
                    : new Status(State.DISABLED, "the datacenter firewall is disabled (cluster.fw enable: 0)", 0, millis,
                            clock.instant(), gen);
            log.info("Firewall {} on node {}: {} rules in {} ms", next.state() == State.APPLIED ? "applied" : "disabled",
                    service.node().name(), next.rules(), millis);
        } catch (RuntimeException e) {
            long millis = (System.nanoTime() - started) / 1_000_000;
            next = new Status(State.FAILED, e.getMessage(), 0, millis, clock.instant(), gen);
            log.error("Firewall not applied on node {}; the previous ruleset stays: {}", service.node().name(), e.getMessage());
        }
        status.set(next);
        return next;
    }

    /**
     * Guest rules need bridged packets in the inet hooks: without br_netfilter's call-iptables the
     * guests' out-chains would never run and their in-chains (gated by a mark set in inet) neither,
     * so the firewall would fail open. Proxmox's pve-firewall sets the same two switches.
     */
    private void bridgeThroughInet() {
        for (String key : List.of("net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables")) {
            try {
                applier.sysctl(key, "1");
            } catch (NftApplier.NftException e) {
                throw new NftApplier.NftException("guest rules are loaded but bridged traffic bypasses them"
                        + " (is the br_netfilter module loaded?): " + e.getMessage());
            }
        }
    }

    /**
     * Loads only the chains and sets that changed since the last apply when the layout is the
     * same (a one-rule edit touches one guest's chains), else the whole batch; a refused delta
     * falls back to the whole batch, which also repairs tables changed behind our back.
     */
    private void apply(NftCompiler.Compiled compiled) {
        java.util.Optional<tools.jackson.databind.node.ObjectNode> delta = applied == null
                ? java.util.Optional.empty() : compiled.deltaFrom(applied);
        if (delta.isPresent()) {
            if (delta.get().get("nftables").isEmpty()) {
                applied = compiled;
                return;
            }
            try {
                applier.apply(delta.get().toString());
                applied = compiled;
                return;
            } catch (NftApplier.NftException e) {
                log.warn("Firewall delta refused, loading the whole ruleset: {}", e.getMessage());
            }
        }
        applied = null;
        applier.apply(compiled.json());
        applied = compiled;
    }

    /**
     * The ruleset the simulator runs packets through: the one in the kernel when the last apply
     * succeeded, else (not started, or the last apply failed) the one the store's files compile to now.
     */
    public synchronized NftSimulator.Model model() {
        NftSimulator.Model current = appliedModel;
        if (current != null) {
            return current;
        }
        FirewallInputs in = inputs();
        return new NftSimulator.Model(compiler.compile(in), in, sources(), false);
    }

    /** The files read by the last {@link #inputs()} by the names rule comments use (cluster.fw, host.fw, VMID.fw). */
    private Map<String, NftSimulator.Source> sources() {
        Map<String, NftSimulator.Source> out = new HashMap<>();
        parsed.forEach((path, p) -> out.put(path.substring(path.lastIndexOf('/') + 1), new NftSimulator.Source(path, p.parsed())));
        return out;
    }

    /** The tiers as they are in the store now. */
    public synchronized FirewallInputs inputs() {
        ConfigStore store = service.store();
        Node node = service.node();
        Map<String, Parsed> seen = new HashMap<>();
        FwConfig cluster = read(FirewallService.CLUSTER_FILE, FwKind.CLUSTER, seen);
        FwConfig host = read(FirewallService.hostFile(node.name()), FwKind.HOST, seen);
        List<Guest> guests = new ArrayList<>();
        for (String kind : List.of("qemu-server", "lxc")) {
            String dir = "nodes/" + node.name() + "/" + kind;
            for (String name : store.list(dir)) {
                if (!name.matches("\\d+\\.conf")) {
                    continue;
                }
                int vmid = Integer.parseInt(name.substring(0, name.length() - 5));
                String text = store.read(dir + "/" + name).map(ConfigFile::text).orElse("");
                boolean container = kind.equals("lxc");
                FwConfig fw = read(FirewallService.guestFile(vmid), FwKind.GUEST, seen);
                guests.add(new Guest(vmid, container, fw, GuestNics.parse(vmid, container, text)));
            }
        }
        Set<Integer> ports = new LinkedHashSet<>();
        if (node.apiPort() > 0) {
            ports.add(node.apiPort());
        }
        ports.add(8006);
        ports.add(22);
        ports.add(3128);
        // ZooKeeper carries the config store between nodes: management hosts (local_network) must keep it
        for (int port : new int[] {node.zooKeeper().client(), node.zooKeeper().quorum(), node.zooKeeper().election()}) {
            if (port > 0) {
                ports.add(port);
            }
        }
        parsed = seen;
        return new FirewallInputs(cluster, service.effectiveClusterAliases(cluster), host, guests, List.copyOf(ports));
    }

    /** A file's text and what it parsed to. */
    private record Parsed(String text, FwParser.Parsed parsed) {
        FwConfig config() {
            return parsed.config();
        }
    }

    /** A file parsed, or the last parse of it when its text is unchanged (an edit of one guest parses one file). */
    private FwConfig read(String path, FwKind kind, Map<String, Parsed> seen) {
        String text = service.store().read(path).map(ConfigFile::text).orElse("");
        Parsed last = parsed.get(path);
        if (last == null || !last.text().equals(text)) {
            FwParser.Parsed fresh = FwParser.parse(path, text, kind);
            fresh.warnings().forEach(w -> log.warn("Skipped firewall line: {}", w));
            last = new Parsed(text, fresh);
        }
        seen.put(path, last);
        return last.config();
    }

    @Override
    public void close() {
        for (AutoCloseable watch : watches) {
            try {
                watch.close();
            } catch (Exception e) {
                log.debug("Closing a firewall watch failed: {}", e.getMessage());
            }
        }
        watches.clear();
        if (nflog != null) {
            nflog.close();
        }
        worker.shutdown();
        try {
            worker.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
