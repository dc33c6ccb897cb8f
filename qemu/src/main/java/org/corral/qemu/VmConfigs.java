package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.Digest;
import org.corral.core.config.StaleVersionException;
import org.corral.core.guest.GuestIds;
import org.corral.core.error.ApiException;
import org.corral.core.error.NotFound;
import org.corral.core.error.Conflict;
import org.corral.core.node.Node;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmConfigCodec;

/**
 * The VM configs of this node in the config store ({@code nodes/NODE/qemu-server/VMID.conf}):
 * read, compare-and-set writes, the VMID check across the cluster, and the per-VM lock.
 */
public final class VmConfigs {
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(10);
    private static final int WRITE_ATTEMPTS = 50;

    private final Node node;
    private final ConfigStore store;
    private final GuestIds ids;

    public VmConfigs(Node node, ConfigStore store) {
        this.node = requireNonNull(node, "node is null");
        this.store = requireNonNull(store, "store is null");
        this.ids = new GuestIds(store);
    }

    /** A config as read, with what a compare-and-set write needs. */
    public record Loaded(int vmid, VmConfig config, String digest, int version) {}

    public String path(int vmid) {
        return "nodes/" + node.name() + "/qemu-server/" + vmid + ".conf";
    }

    public ConfigStore store() {
        return store;
    }

    public Optional<Loaded> find(int vmid) {
        return store.read(path(vmid)).map(file -> loaded(vmid, file));
    }

    private static Loaded loaded(int vmid, ConfigFile file) {
        VmConfig config;
        try {
            config = VmConfigCodec.parse(file.text());
        } catch (IllegalArgumentException e) {
            throw new ApiException(500, "unable to parse config of VM " + vmid + ": " + e.getMessage());
        }
        return new Loaded(vmid, config, file.digest(), file.version());
    }

    /** The config, or Proxmox's "Configuration file ... does not exist". */
    public Loaded load(int vmid) {
        return find(vmid).orElseThrow(() -> missing(vmid));
    }

    public ApiException missing(int vmid) {
        return new NotFound("Configuration file '" + path(vmid) + "' does not exist");
    }

    /**
     * Changes the config by compare-and-set: {@code change} gets the current config and answers the
     * new one, or throws to change nothing. Retried when someone else wrote in between.
     */
    public VmConfig update(int vmid, UnaryOperator<VmConfig> change) {
        for (int attempt = 1; ; attempt++) {
            Loaded current = load(vmid);
            VmConfig next = change.apply(current.config());
            if (next.equals(current.config())) {
                return next;
            }
            try {
                store.write(path(vmid), VmConfigCodec.write(next), current.version());
                return next;
            } catch (StaleVersionException e) {
                if (attempt >= WRITE_ATTEMPTS) {
                    throw e.asConflict();
                }
            }
        }
    }

    /** As {@link #update}, refusing with Proxmox's message when the file changed since {@code digest}. */
    public VmConfig update(int vmid, Optional<String> digest, UnaryOperator<VmConfig> change) {
        Loaded current = load(vmid);
        Digest.check(digest, current.digest());
        VmConfig next = change.apply(current.config());
        try {
            store.write(path(vmid), VmConfigCodec.write(next), current.version());
        } catch (StaleVersionException e) {
            throw e.asConflict();
        }
        return next;
    }

    /** Writes a new config under the cluster's VMID reservation; refuses when any guest holds the VMID. */
    public void create(int vmid, VmConfig config) {
        ids.reserve(node.name(), GuestIds.Kind.QEMU, vmid, VmConfigCodec.write(config));
    }

    public void delete(int vmid) {
        Loaded current = load(vmid);
        store.delete(path(vmid), current.version());
    }

    /** Refuses a VMID that a VM or container of any node uses. */
    public void checkUnused(int vmid) {
        ids.checkUnused(vmid);
    }

    /** VMIDs of the VMs on this node, ascending. */
    public List<Integer> list() {
        return ids.list(node.name(), GuestIds.Kind.QEMU);
    }

    /** Takes the cluster-wide lock of one VM for a read-modify-write that spans more than one store call. */
    public ConfigStore.Lock lock(int vmid) {
        return store.lock("qemu-server-" + vmid, LOCK_TIMEOUT);
    }

    /** Refuses a locked VM with Proxmox's "VM is locked (REASON)". */
    public static void checkLock(VmConfig config) {
        config.lock().ifPresent(reason -> {
            throw new Conflict("VM is locked (" + reason + ")");
        });
    }

    public static void checkNotTemplate(VmConfig config, String what) {
        if (config.isTemplate()) {
            throw new ApiException(500, "you can't " + what + " if VM is a template");
        }
    }

    /** The datacenter's MAC prefix ({@code mac_prefix} in datacenter.cfg), if set. */
    public Optional<String> macPrefix() {
        return store.read("datacenter.cfg").flatMap(file -> {
            for (String line : file.text().split("\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).strip().equals("mac_prefix")) {
                    return Optional.of(line.substring(colon + 1).strip());
                }
            }
            return Optional.empty();
        });
    }

    public Node node() {
        return node;
    }
}
