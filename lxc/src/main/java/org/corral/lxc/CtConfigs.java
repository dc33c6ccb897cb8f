package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.Digest;
import org.corral.core.config.StaleVersionException;
import org.corral.core.guest.GuestIds;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.lxc.config.CtConfig;
import org.corral.lxc.config.CtConfigCodec;

/**
 * The containers' config files in the store ({@code nodes/NODE/lxc/VMID.conf}) with Proxmox's
 * rules: a missing file is "does not exist", a locked container refuses changes with
 * "CT is locked (REASON)", writes are compare-and-set, and a per-container mutex orders the
 * operations of this node as pve-container's config lock does.
 */
public final class CtConfigs {
    private static final int ATTEMPTS = 20;

    /** A config as read, with the store version it was read at and its digest. */
    public record Loaded(int vmid, CtConfig config, int version, String digest) {
        public Loaded {
            requireNonNull(config, "config is null");
            requireNonNull(digest, "digest is null");
        }
    }

    private final String node;
    private final ConfigStore store;
    private final GuestIds ids;
    private final Map<Integer, ReentrantLock> mutexes = new ConcurrentHashMap<>();

    public CtConfigs(String node, ConfigStore store) {
        this.node = requireNonNull(node, "node is null");
        this.store = requireNonNull(store, "store is null");
        this.ids = new GuestIds(store);
    }

    public String path(int vmid) {
        return "nodes/" + node + "/lxc/" + vmid + ".conf";
    }

    public Optional<Loaded> find(int vmid) {
        return store.read(path(vmid)).map(f -> loaded(vmid, f));
    }

    private static Loaded loaded(int vmid, ConfigFile file) {
        return new Loaded(vmid, CtConfigCodec.parse(file.text()), file.version(), file.digest());
    }

    public Loaded load(int vmid) {
        return find(vmid).orElseThrow(() -> new NotFound("Configuration file '" + path(vmid) + "' does not exist"));
    }

    public static void checkLock(CtConfig config) {
        config.lock().ifPresent(lock -> {
            throw new Conflict("CT is locked (" + lock + ")");
        });
    }

    /**
     * Changes the config by compare-and-set, retried when another writer came between;
     * {@code digest}, when given, must match the file as first read.
     */
    public Loaded update(int vmid, Optional<String> digest, UnaryOperator<CtConfig> change) {
        for (int attempt = 1; ; attempt++) {
            Loaded current = load(vmid);
            if (attempt == 1) {
                Digest.check(digest, current.digest());
            }
            CtConfig next = change.apply(current.config());
            String text = CtConfigCodec.write(next);
            try {
                int version = store.write(path(vmid), text, current.version());
                return new Loaded(vmid, next, version, Digest.sha1Hex(text));
            } catch (StaleVersionException e) {
                if (digest.isPresent() || attempt >= ATTEMPTS) {
                    throw e.asConflict();
                }
            }
        }
    }

    /** Writes a new container's first config under the cluster's VMID reservation; refuses when any guest holds the VMID. */
    public Loaded create(int vmid, CtConfig config) {
        String text = CtConfigCodec.write(config);
        int version = ids.reserve(node, GuestIds.Kind.LXC, vmid, text);
        return new Loaded(vmid, config, version, Digest.sha1Hex(text));
    }

    public void delete(int vmid) {
        for (int attempt = 1; ; attempt++) {
            Optional<ConfigFile> file = store.read(path(vmid));
            if (file.isEmpty()) {
                return;
            }
            try {
                store.delete(path(vmid), file.get().version());
                return;
            } catch (StaleVersionException e) {
                if (attempt >= ATTEMPTS) {
                    throw e.asConflict();
                }
            }
        }
    }

    /** Sets {@code lock: NAME}; refuses when the container is locked already. */
    public Loaded lock(int vmid, String name) {
        return update(vmid, Optional.empty(), c -> {
            checkLock(c);
            return c.withMain(c.main().with("lock", name));
        });
    }

    /** Clears {@code lock: NAME} if that lock is still set. */
    public void unlock(int vmid, String name) {
        if (find(vmid).isEmpty()) {
            return;
        }
        update(vmid, Optional.empty(), c -> c.lock().filter(name::equals).isPresent() ? c.withMain(c.main().without("lock")) : c);
    }

    /** Runs {@code action} holding this node's mutex of the container. */
    public <T> T locked(int vmid, Supplier<T> action) {
        ReentrantLock mutex = mutexes.computeIfAbsent(vmid, id -> new ReentrantLock());
        mutex.lock();
        try {
            return action.get();
        } finally {
            mutex.unlock();
        }
    }

    /** Refuses a VMID that a VM or container of any node uses. */
    public void checkUnused(int vmid) {
        ids.checkUnused(vmid);
    }

    /** The VMIDs of this node's containers, ascending. */
    public List<Integer> list() {
        return ids.list(node, GuestIds.Kind.LXC);
    }
}
