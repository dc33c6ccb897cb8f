package org.corral.core.guest;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.corral.core.task.TaskContext;

/**
 * One guest type of a node ({@code qemu}, {@code lxc}) as backup, and later migration and HA,
 * reach it: its configs, Proxmox's {@code lock:} and its power state. Changes through here skip
 * the guest's lock where the caller holds it (a backup stops and starts a guest it locked).
 */
public interface GuestDriver {
    /** The type name as Proxmox spells it in paths and resource ids: {@code qemu} or {@code lxc}. */
    String type();

    /** This node's guests of this type, ascending. */
    List<Integer> list();

    boolean exists(int vmid);

    /** The guest's name (a VM's {@code name}, a container's {@code hostname}), when it has one. */
    Optional<String> name(int vmid);

    /**
     * The guest's current configuration as Proxmox writes its file, without snapshot and
     * pending sections: what a backup keeps. A missing guest throws Proxmox's "does not exist".
     */
    String configText(int vmid);

    /** Sets {@code lock: NAME}; a guest locked already refuses with Proxmox's "VM/CT is locked (REASON)". */
    void lock(int vmid, String name);

    /** Clears {@code lock: NAME} if that lock is still set. */
    void unlock(int vmid, String name);

    boolean isRunning(int vmid);

    /**
     * Shuts the guest down cleanly, and stops it hard once {@code timeout} has passed (the caller
     * holds its lock).
     */
    void stop(int vmid, Duration timeout, TaskContext ctx);

    /** Starts the guest (the caller holds its lock). */
    void start(int vmid, TaskContext ctx);

    /** Pauses a running guest's processes or vCPUs in place. */
    void freeze(int vmid);

    /** Undoes {@link #freeze}. */
    void thaw(int vmid);
}
