package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;

/**
 * Every guest config in the cluster ({@code nodes/NODE/qemu-server/ID.conf},
 * {@code nodes/NODE/lxc/ID.conf}), kept current from store watches so that listing a thousand
 * guests reads memory, not a thousand files. Writes made through this node's store are applied
 * before the write returns ({@link #changed}, called by {@link WriteThroughStore}), so the next
 * listing on this node shows them; writes of other nodes arrive through the watch.
 */
public final class GuestIndex implements AutoCloseable {
    private static final Pattern GUEST = Pattern.compile("nodes/([^/]+)/(qemu-server|lxc)/(\\d+)\\.conf");
    static final String STORAGE_CFG = "storage.cfg";
    private static final Comparator<Guest> ORDER = Comparator.comparingInt(Guest::vmid).thenComparing(Guest::node)
            .thenComparing(Guest::type);

    /** What cluster views need of one guest: where it lives and its main options. */
    public record Guest(String node, String type, int vmid, Map<String, String> options, Map<String, Object> resource) {
        public Guest {
            requireNonNull(node, "node is null");
            requireNonNull(type, "type is null");
            options = Map.copyOf(options);
            requireNonNull(resource, "resource is null");
        }

        Guest(String node, String type, int vmid, Map<String, String> options) {
            this(node, type, vmid, options, Map.of());
        }

        public Optional<String> option(String key) {
            return Optional.ofNullable(options.get(key));
        }
    }

    /**
     * The index at one moment: every guest ordered by VMID (then node and type), and the VMIDs in
     * use. A new snapshot is made only after a change, so its identity says "unchanged".
     */
    public record Snapshot(long version, List<Guest> guests, Set<Integer> vmids) {}

    private final ConfigStore store;
    private final Map<String, Guest> guests = new ConcurrentHashMap<>();
    private final AtomicLong changes = new AtomicLong();
    private final AtomicLong storageChanges = new AtomicLong();
    private final ReentrantLock[] stripes = new ReentrantLock[64];
    private volatile Snapshot snapshot;
    private final List<AutoCloseable> watches = new ArrayList<>();

    public GuestIndex(ConfigStore store) {
        this.store = requireNonNull(store, "store is null");
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new ReentrantLock();
        }
        // watch first so that no change between the scan and the watch is missed
        watches.add(store.watch("nodes", this::changed));
        watches.add(store.watch(STORAGE_CFG, this::changed));
        for (String node : store.list("nodes")) {
            for (String dir : new String[] {"qemu-server", "lxc"}) {
                for (String file : store.list("nodes/" + node + "/" + dir)) {
                    changed("nodes/" + node + "/" + dir + "/" + file);
                }
            }
        }
    }

    /**
     * The store reports (or this node wrote) a change of {@code path}: reads the file and applies
     * it. Reads and applies of one path run one at a time, and the store's reads of one client
     * never go back in time, so a later report can't be overtaken by an earlier one.
     */
    public void changed(String path) {
        if (path.equals(STORAGE_CFG)) {
            storageChanges.incrementAndGet();
            return;
        }
        Matcher m = GUEST.matcher(path);
        if (!m.matches()) {
            return;
        }
        ReentrantLock lock = stripes[Math.floorMod(path.hashCode(), stripes.length)];
        lock.lock();
        try {
            Optional<ConfigFile> file = store.read(path);
            if (file.isEmpty()) {
                if (guests.remove(path) != null) {
                    changes.incrementAndGet();
                }
                return;
            }
            String type = m.group(2).equals("lxc") ? "lxc" : "qemu";
            Guest parsed = new Guest(m.group(1), type, Integer.parseInt(m.group(3)), mainSection(file.get().text()));
            // the /cluster/resources entry is built once per change, not once per listing
            Guest guest = new Guest(parsed.node(), parsed.type(), parsed.vmid(), parsed.options(),
                    Collections.unmodifiableMap(ClusterApi.guestResource(parsed)));
            Guest before = guests.put(path, guest);
            if (!guest.equals(before)) {
                // after the map changed, so that whoever sees the new count sees the change
                changes.incrementAndGet();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The options before the first snapshot or pending section. */
    static Map<String, String> mainSection(String text) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("[")) {
                break;
            }
            int colon = line.indexOf(':');
            if (line.startsWith("#") || colon <= 0) {
                continue;
            }
            options.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
        }
        return options;
    }

    /** The current snapshot; the same object until a guest config changes. */
    public Snapshot snapshot() {
        Snapshot known = snapshot;
        long version = changes.get();
        if (known != null && known.version() == version) {
            return known;
        }
        synchronized (this) {
            known = snapshot;
            version = changes.get();
            if (known != null && known.version() == version) {
                return known;
            }
            // the count is read before the map: a change made while copying counts again
            List<Guest> sorted = new ArrayList<>(guests.values());
            sorted.sort(ORDER);
            Set<Integer> vmids = new HashSet<>();
            sorted.forEach(g -> vmids.add(g.vmid()));
            Snapshot fresh = new Snapshot(version, List.copyOf(sorted), Collections.unmodifiableSet(vmids));
            snapshot = fresh;
            return fresh;
        }
    }

    /** How many changes of storage.cfg were seen; a new number means its entries must be made again. */
    public long storageVersion() {
        return storageChanges.get();
    }

    public Collection<Guest> all() {
        return snapshot().guests();
    }

    public boolean exists(int vmid) {
        return snapshot().vmids().contains(vmid);
    }

    @Override
    public void close() {
        for (AutoCloseable watch : watches) {
            try {
                watch.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
