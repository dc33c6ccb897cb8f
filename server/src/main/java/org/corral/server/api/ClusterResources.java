package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.corral.core.access.PermissionView;
import org.corral.core.access.Privilege;
import org.corral.core.api.EncodedAnswer;
import org.corral.core.guest.GuestUsage;

/**
 * {@code /cluster/resources} from memory: the guest index, the sampled figures of running guests,
 * this node's sampled entry and its storages. One pass over the guests asks the caller's
 * {@link PermissionView}; the encoded answer is kept per permission view and type, and given
 * again as long as none of its inputs changed (each input is a new object after a change).
 */
final class ClusterResources {
    /** One storage of this node with its {@code /cluster/resources} entry. */
    record StorageEntry(String id, Map<String, Object> resource) {}

    /** What an answer is made of; compared by identity. */
    record Inputs(GuestIndex.Snapshot guests, Map<Integer, GuestUsage.Usage> qemu, Map<Integer, GuestUsage.Usage> lxc,
            Map<String, Object> node, List<StorageEntry> storages) {
        boolean sameAs(Inputs other) {
            return guests == other.guests && qemu == other.qemu && lxc == other.lxc && node == other.node
                    && storages == other.storages;
        }
    }

    private static final int MAX_KEPT = 64;
    private static final long MAX_KEPT_BYTES = 64L << 20;

    private final String nodeName;
    private final GuestIndex guests;
    private final RunningGuests running;
    private final Supplier<Map<String, Object>> nodeEntry;
    private final Supplier<List<StorageEntry>> storages;
    private final ConcurrentHashMap<Key, Slot> kept = new ConcurrentHashMap<>();

    ClusterResources(String nodeName, GuestIndex guests, RunningGuests running, Supplier<Map<String, Object>> nodeEntry,
            Supplier<List<StorageEntry>> storages) {
        this.nodeName = requireNonNull(nodeName, "nodeName is null");
        this.guests = requireNonNull(guests, "guests is null");
        this.running = requireNonNull(running, "running is null");
        this.nodeEntry = requireNonNull(nodeEntry, "nodeEntry is null");
        this.storages = requireNonNull(storages, "storages is null");
    }

    Inputs inputs() {
        return new Inputs(guests.snapshot(), running.running("qemu"), running.running("lxc"), nodeEntry.get(), storages.get());
    }

    /** The answer for a caller, encoded; the same object while nothing it shows changed. */
    EncodedAnswer answer(Optional<String> type, PermissionView view) {
        Key key = new Key(view, type.orElse(""));
        Slot slot = kept.get(key);
        if (slot == null) {
            if (kept.size() >= MAX_KEPT) {
                // callers come and go with user.cfg changes: start over rather than track age
                kept.clear();
            }
            slot = kept.computeIfAbsent(key, k -> new Slot());
        }
        Inputs inputs = inputs();
        Slot.Kept known = slot.kept;
        if (known != null && known.inputs().sameAs(inputs)) {
            return known.answer();
        }
        slot.lock.lock();
        try {
            // another caller may have made it meanwhile, from the same or newer inputs
            inputs = inputs();
            known = slot.kept;
            if (known != null && known.inputs().sameAs(inputs)) {
                return known.answer();
            }
            EncodedAnswer answer = EncodedAnswer.of(list(type, view, inputs));
            slot.kept = new Slot.Kept(inputs, answer);
            trim();
            return answer;
        } finally {
            slot.lock.unlock();
        }
    }

    private void trim() {
        long bytes = 0;
        for (Slot slot : kept.values()) {
            Slot.Kept k = slot.kept;
            bytes += k == null ? 0 : k.answer().size();
        }
        if (bytes > MAX_KEPT_BYTES) {
            kept.clear();
        }
    }

    /** The entries the caller may see: guests (VM.Audit), this node (Sys.Audit), its storages. */
    List<Map<String, Object>> list(Optional<String> type, PermissionView view, Inputs inputs) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (type.isEmpty() || type.get().equals("vm")) {
            for (GuestIndex.Guest g : inputs.guests().guests()) {
                if (!view.guest(g.vmid()).contains(Privilege.VM_AUDIT)) {
                    continue;
                }
                GuestUsage.Usage usage = g.node().equals(nodeName)
                        ? (g.type().equals("lxc") ? inputs.lxc() : g.type().equals("qemu") ? inputs.qemu() : Map.<Integer, GuestUsage.Usage>of())
                                .get(g.vmid())
                        : null;
                out.add(usage != null ? runningResource(g.resource(), usage) : g.resource());
            }
        }
        if ((type.isEmpty() || type.get().equals("node")) && view.hasAll("/nodes/" + nodeName, Privilege.SYS_AUDIT)) {
            out.add(inputs.node());
        }
        if (type.isEmpty() || type.get().equals("storage")) {
            for (StorageEntry storage : inputs.storages()) {
                if (view.hasAny("/storage/" + storage.id(), Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE)) {
                    out.add(storage.resource());
                }
            }
        }
        return out;
    }

    /**
     * A running guest's entry: its measured figures instead of a stopped guest's zeros; what
     * could not be measured is left out, and so is {@code disk}, which nobody measures yet.
     */
    static Map<String, Object> runningResource(Map<String, Object> stopped, GuestUsage.Usage usage) {
        Map<String, Object> entry = new LinkedHashMap<>(stopped);
        entry.put("status", "running");
        for (String key : List.of("cpu", "mem", "disk", "uptime")) {
            entry.remove(key);
        }
        entry.putAll(usage.fields());
        return entry;
    }

    /** A caller's permission view (by identity) and the type asked for. */
    private record Key(PermissionView view, String type) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.view == view && k.type.equals(type);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(view) * 31 + type.hashCode();
        }
    }

    private static final class Slot {
        record Kept(Inputs inputs, EncodedAnswer answer) {}

        final ReentrantLock lock = new ReentrantLock();
        volatile Kept kept;
    }
}
