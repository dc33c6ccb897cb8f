package org.corral.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How long the config store waits on slow or silent links: datacenter.cfg's {@code store-timeouts}
 * ({@code tick=MS,init-limit=TICKS,sync-limit=TICKS,session=SECONDS}), Corral's counterpart of
 * corosync's totem token settings.
 * <ul>
 *   <li>{@code tick}: ZooKeeper's basic time unit; members send heartbeats each tick.</li>
 *   <li>{@code init-limit}: ticks a member may take to connect and sync with a new leader (an election's end).</li>
 *   <li>{@code sync-limit}: ticks a follower may lag behind its leader before it is dropped (and an election starts).</li>
 *   <li>{@code session}: seconds of silence after which a node is shown offline and its locks are released.</li>
 * </ul>
 * The defaults keep a cluster whose sites are 20 ms apart working (Proxmox's corosync wants under
 * 5 ms): a tick of 2 s is 100 round trips. The store reads datacenter.cfg only once it runs, so each
 * node keeps the last value it saw in its local directory, and a change takes effect at the node's
 * next start.
 */
public record StoreTimings(int tickMs, int initLimit, int syncLimit, int sessionSeconds) {
    /** The datacenter.cfg option. */
    public static final String OPTION = "store-timeouts";
    public static final StoreTimings DEFAULTS = new StoreTimings(2000, 10, 5, 15);
    private static final String LOCAL_FILE = "store-timeouts";

    public StoreTimings {
        check(tickMs >= 100 && tickMs <= 60_000, "tick must be between 100 and 60000 ms");
        check(initLimit >= 2 && initLimit <= 1000, "init-limit must be between 2 and 1000 ticks");
        check(syncLimit >= 2 && syncLimit <= 1000, "sync-limit must be between 2 and 1000 ticks");
        // ZooKeeper clamps a session to 2..20 ticks: refuse what it would silently change
        check(sessionSeconds * 1000L >= 2L * tickMs && sessionSeconds * 1000L <= 20L * tickMs,
                "session must be between 2 and 20 ticks (" + Math.ceilDiv(2 * tickMs, 1000) + " to " + 20 * tickMs / 1000 + " s with tick=" + tickMs + ")");
    }

    /**
     * Parses the option's value; keys left out keep their defaults. Throws
     * {@link IllegalArgumentException} with a message for the user on anything else.
     */
    public static StoreTimings parse(String value) {
        Map<String, Integer> given = new LinkedHashMap<>();
        for (String part : value.split(",")) {
            String item = part.strip();
            if (item.isEmpty()) {
                continue;
            }
            int eq = item.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("'" + item + "' is not key=value");
            }
            String key = item.substring(0, eq).strip();
            if (!key.equals("tick") && !key.equals("init-limit") && !key.equals("sync-limit") && !key.equals("session")) {
                throw new IllegalArgumentException("unknown key '" + key + "' (tick, init-limit, sync-limit, session)");
            }
            try {
                if (given.put(key, Integer.parseInt(item.substring(eq + 1).strip())) != null) {
                    throw new IllegalArgumentException("duplicate key '" + key + "'");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("value of '" + key + "' is not an integer");
            }
        }
        return new StoreTimings(given.getOrDefault("tick", DEFAULTS.tickMs), given.getOrDefault("init-limit", DEFAULTS.initLimit),
                given.getOrDefault("sync-limit", DEFAULTS.syncLimit), given.getOrDefault("session", DEFAULTS.sessionSeconds));
    }

    /** The option's value, in the form {@link #parse} reads. */
    public String format() {
        return "tick=" + tickMs + ",init-limit=" + initLimit + ",sync-limit=" + syncLimit + ",session=" + sessionSeconds;
    }

    /** The timings this node last saw in datacenter.cfg, or the defaults. An unreadable file is an error, not a silent default. */
    public static StoreTimings local(Path localDir) {
        Path file = localDir.resolve(LOCAL_FILE);
        if (!Files.exists(file)) {
            return DEFAULTS;
        }
        try {
            return parse(Files.readString(file, UTF_8).strip());
        } catch (IOException e) {
            throw new UncheckedIOException("can't read " + file, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("invalid store timings in " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Keeps {@code timings} (empty: the defaults) for the node's next start; answers whether they
     * differ from what was kept before.
     */
    public static boolean remember(Path localDir, Optional<StoreTimings> timings) {
        StoreTimings wanted = timings.orElse(DEFAULTS);
        if (wanted.equals(local(localDir))) {
            return false;
        }
        Path file = localDir.resolve(LOCAL_FILE);
        try {
            Path tmp = Files.createTempFile(localDir, LOCAL_FILE, ".tmp");
            Files.writeString(tmp, wanted.format() + "\n", UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("can't write " + file, e);
        }
        return true;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
