package org.corral.access.config;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.Comparator;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/** One {@code pool:} line of user.cfg: a named set of guests and storages sharing ACLs. */
public record Pool(String poolid, String comment, SortedSet<Integer> vms, SortedSet<String> storage) {
    /** Proxmox writes VM ids sorted as strings ("1000" before "200"). */
    public static final Comparator<Integer> VMID_ORDER = Comparator.comparing(String::valueOf);

    public Pool {
        requireNonNull(poolid, "poolid is null");
        requireNonNull(comment, "comment is null");
        TreeSet<Integer> vmCopy = new TreeSet<>(VMID_ORDER);
        vmCopy.addAll(vms);
        vms = Collections.unmodifiableSortedSet(vmCopy);
        TreeSet<String> storageCopy = new TreeSet<>(ProxmoxText.BYTE_ORDER);
        storageCopy.addAll(storage);
        storage = Collections.unmodifiableSortedSet(storageCopy);
    }

    public static Pool of(String poolid) {
        return new Pool(poolid, "", new TreeSet<>(), new TreeSet<>());
    }

    public Pool withComment(String value) {
        return new Pool(poolid, value, vms, storage);
    }

    public Pool withVms(SortedSet<Integer> value) {
        return new Pool(poolid, comment, value, storage);
    }

    public Pool withStorage(SortedSet<String> value) {
        return new Pool(poolid, comment, vms, value);
    }

    /** The enclosing pool of a nested pool ({@code a} of {@code a/b}), if any. */
    public Optional<String> parent() {
        int slash = poolid.lastIndexOf('/');
        return slash < 0 ? Optional.empty() : Optional.of(poolid.substring(0, slash));
    }
}
