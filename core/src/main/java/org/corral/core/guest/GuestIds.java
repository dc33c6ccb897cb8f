package org.corral.core.guest;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.StaleVersionException;
import org.corral.core.error.Conflict;

/**
 * VMIDs are one namespace for VMs and containers on every node. A new guest's first config is
 * written under one cluster-wide lock in the config store, after checking every node's
 * {@code qemu-server} and {@code lxc} directories, so a VM and a container created at once can't
 * both get the same id.
 */
public final class GuestIds {
    /** The store lock that every VMID reservation takes. */
    public static final String LOCK = "vmid-reservation";
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(30);

    /** The two guest kinds, with the config directory and the word Proxmox's messages use. */
    public enum Kind {
        QEMU("qemu-server", "VM"),
        LXC("lxc", "CT");

        private final String dir;
        private final String label;

        Kind(String dir, String label) {
            this.dir = dir;
            this.label = label;
        }

        public String dir() {
            return dir;
        }

        public String label() {
            return label;
        }
    }

    /** The guest that holds a VMID: its node and kind. */
    public record Owner(String node, Kind kind) {
        public Owner {
            requireNonNull(node, "node is null");
            requireNonNull(kind, "kind is null");
        }
    }

    private final ConfigStore store;

    public GuestIds(ConfigStore store) {
        this.store = requireNonNull(store, "store is null");
    }

    /** The config path of a guest: {@code nodes/NODE/qemu-server/VMID.conf} or {@code .../lxc/VMID.conf}. */
    public static String path(String node, Kind kind, int vmid) {
        return "nodes/" + node + "/" + kind.dir() + "/" + vmid + ".conf";
    }

    /** Which guest of the cluster holds {@code vmid}, if any. */
    public Optional<Owner> owner(int vmid) {
        for (String node : store.list("nodes")) {
            for (Kind kind : Kind.values()) {
                if (store.read(path(node, kind, vmid)).isPresent()) {
                    return Optional.of(new Owner(node, kind));
                }
            }
        }
        return Optional.empty();
    }

    /** Refuses a VMID that a guest holds, with Proxmox's "VM 100 already exists on node 'pve1'". */
    public void checkUnused(int vmid) {
        owner(vmid).ifPresent(owner -> {
            throw taken(vmid, owner);
        });
    }

    /**
     * Writes the first config of a new guest ({@code text}, usually with {@code lock: create})
     * under the reservation lock; refuses when any guest of the cluster holds {@code vmid}.
     * Returns the new file's version.
     */
    public int reserve(String node, Kind kind, int vmid, String text) {
        requireNonNull(node, "node is null");
        requireNonNull(kind, "kind is null");
        try (ConfigStore.Lock lock = store.lock(LOCK, LOCK_TIMEOUT)) {
            checkUnused(vmid);
            try {
                return store.write(path(node, kind, vmid), text, ConfigStore.NEW);
            } catch (StaleVersionException e) {
                // written without the lock by something that bypassed this class
                throw taken(vmid, new Owner(node, kind));
            }
        }
    }

    private static Conflict taken(int vmid, Owner owner) {
        return new Conflict(owner.kind().label() + " " + vmid + " already exists on node '" + owner.node() + "'");
    }

    /** The VMIDs this node's guests of one kind hold, ascending. */
    public List<Integer> list(String node, Kind kind) {
        return store.list("nodes/" + node + "/" + kind.dir()).stream()
                .filter(name -> name.matches("\\d+\\.conf"))
                .map(name -> Integer.parseInt(name.substring(0, name.length() - ".conf".length())))
                .sorted()
                .toList();
    }
}
