package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;

/**
 * Every guest config in the cluster ({@code nodes/NODE/qemu-server/ID.conf},
 * {@code nodes/NODE/lxc/ID.conf}), kept current from store watches so that listing a thousand
 * guests reads memory, not a thousand files.
 */
public final class GuestIndex implements AutoCloseable {
    private static final Pattern GUEST = Pattern.compile("nodes/([^/]+)/(qemu-server|lxc)/(\\d+)\\.conf");

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

    private final ConfigStore store;
    private final Map<String, Guest> guests = new ConcurrentHashMap<>();
    private final AutoCloseable watch;

    public GuestIndex(ConfigStore store) {
        this.store = requireNonNull(store, "store is null");
        // watch first so that no change between the scan and the watch is missed
        this.watch = store.watch("nodes", this::refresh);
        for (String node : store.list("nodes")) {
            for (String dir : new String[] {"qemu-server", "lxc"}) {
                for (String file : store.list("nodes/" + node + "/" + dir)) {
                    refresh("nodes/" + node + "/" + dir + "/" + file);
                }
            }
        }
    }

    private void refresh(String path) {
        Matcher m = GUEST.matcher(path);
        if (!m.matches()) {
            return;
        }
        Optional<ConfigFile> file = store.read(path);
        if (file.isEmpty()) {
            guests.remove(path);
            return;
        }
        String type = m.group(2).equals("lxc") ? "lxc" : "qemu";
        Guest guest = new Guest(m.group(1), type, Integer.parseInt(m.group(3)), mainSection(file.get().text()));
        // the /cluster/resources entry is built once per change, not once per listing
        guests.put(path, new Guest(guest.node(), guest.type(), guest.vmid(), guest.options(),
                java.util.Collections.unmodifiableMap(ClusterApi.guestResource(guest))));
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

    public Collection<Guest> all() {
        return guests.values();
    }

    public boolean exists(int vmid) {
        return guests.values().stream().anyMatch(g -> g.vmid() == vmid);
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
