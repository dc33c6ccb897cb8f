package org.corral.firewall.nft;

import static java.util.Objects.requireNonNull;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;

/**
 * The lines the firewall logged (NFLOG, read by {@link NflogReader}), newest last, the last
 * {@value #CAPACITY} kept. Each line is in the shape of Proxmox's {@code pve-firewall.log}:
 * {@code VMID LEVEL CHAIN TIME ACTION: IN=... OUT=... SRC=... DST=... PROTO=... SPT=... DPT=...}
 * (VMID 0 for the host).
 */
public final class FirewallLog {
    static final int CAPACITY = 50_000;

    /** One logged packet: when (epoch seconds), whose rule (0: the host's) and the line. */
    public record Entry(long time, int vmid, String text) {
        public Entry {
            requireNonNull(text, "text is null");
        }
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private volatile String state = "the firewall is not enforced on this node: nothing is logged";

    synchronized void add(Entry entry) {
        if (entries.size() == CAPACITY) {
            entries.removeFirst();
        }
        entries.addLast(entry);
    }

    /** Entries in order, only {@code vmid}'s when given, logged between {@code since} and {@code until} (epoch seconds, inclusive). */
    public synchronized List<Entry> entries(Optional<Integer> vmid, Optional<Long> since, Optional<Long> until) {
        return entries.stream().filter(e -> vmid.isEmpty() || e.vmid() == vmid.get())
                .filter(e -> since.isEmpty() || e.time() >= since.get())
                .filter(e -> until.isEmpty() || e.time() <= until.get()).toList();
    }

    /** Whether packets are being read, or why not. */
    public String state() {
        return state;
    }

    void state(String value) {
        state = requireNonNull(value, "value is null");
    }
}
