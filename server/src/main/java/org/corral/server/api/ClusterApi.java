package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.corral.cluster.StoreTimings;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.api.EncodedAnswer;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.Digest;
import org.corral.core.config.KeyValueConfig;
import org.corral.core.config.StaleVersionException;
import org.corral.core.error.ParameterError;
import org.corral.core.guest.GuestUsage;
import org.corral.core.node.Node;
import org.corral.core.schema.Formats;
import org.corral.core.schema.PropertyFormat;
import org.corral.core.schema.Schema;
import org.corral.server.http.AuditLog;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;
import org.corral.storage.StorageState;
import tools.jackson.databind.JsonNode;

/** {@code /cluster}: status, resources, next free VMID, datacenter options and the cluster log. */
public final class ClusterApi implements ApiModule {
    public static final String CLUSTER_NAME = "corral";
    private static final String DATACENTER = "datacenter.cfg";

    private final Node node;
    private final ConfigStore store;
    private final GuestIndex guests;
    private final NodeApi nodes;
    private final StorageService storage;
    private final RunningGuests running;
    private final AuditLog audit;
    private final ClusterConfigApi clusterConfig;
    private final ClusterResources resources;
    private final ReentrantLock storageMeasuring = new ReentrantLock();
    private volatile StorageSample storageSample;

    public ClusterApi(Node node, ConfigStore store, GuestIndex guests, NodeApi nodes, StorageService storage,
            RunningGuests running, AuditLog audit, ClusterConfigApi clusterConfig) {
        this.node = requireNonNull(node, "node is null");
        this.store = requireNonNull(store, "store is null");
        this.guests = requireNonNull(guests, "guests is null");
        this.nodes = requireNonNull(nodes, "nodes is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.running = requireNonNull(running, "running is null");
        this.audit = requireNonNull(audit, "audit is null");
        this.clusterConfig = requireNonNull(clusterConfig, "clusterConfig is null");
        this.resources = new ClusterResources(node.name(), guests, running, nodes::resource, this::storageEntries);
    }

    /** The datacenter.cfg options Corral knows, in Proxmox's names and formats. */
    static Map<String, Schema> datacenterOptions() {
        Map<String, Schema> o = new LinkedHashMap<>();
        o.put("keyboard", Schema.string().enumValues("de", "de-ch", "da", "en-gb", "en-us", "es", "fi", "fr", "fr-be", "fr-ca",
                "fr-ch", "hu", "is", "it", "ja", "lt", "mk", "nl", "no", "pl", "pt", "pt-br", "sv", "sl", "tr").optional()
                .description("Default keyboard layout for vnc server."));
        o.put("language", Schema.string().pattern("[a-z]{2}(_[a-zA-Z]{2,4})?").optional().description("Default GUI language."));
        o.put("http_proxy", Schema.string().pattern("http://.*").maxLength(256).optional()
                .description("Specify external http proxy which is used for downloads (example: 'http://username:password@host:port/')"));
        o.put("console", Schema.string().enumValues("applet", "vv", "html5", "xtermjs").optional()
                .description("Select the default Console viewer."));
        o.put("email_from", Schema.string().format(Formats.EMAIL).optional().description("Specify email address to send notification from."));
        o.put("mac_prefix", Schema.string().pattern("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){0,2}:?").optional()
                .description("Prefix for the auto-generated MAC addresses of virtual guests."));
        o.put("max_workers", Schema.integer().minimum(1).optional()
                .description("Defines how many workers (per node) are maximal started on actions like 'stopall VMs' or task from the ha-manager."));
        o.put("migration", Schema.propertyString(PropertyFormat.of()
                .defaultKey("type", Schema.string().enumValues("secure", "insecure").optional())
                .key("network", Schema.string().pattern("[0-9a-fA-F:.]+/\\d+").optional())).optional()
                .description("For cluster wide migration settings."));
        o.put("next-id", Schema.propertyString(PropertyFormat.of()
                .key("lower", Schema.integer().minimum(100).maximum(999_999_999).optional())
                .key("upper", Schema.integer().minimum(100).maximum(999_999_999).optional())).optional()
                .description("Control the range for the free VMID auto-selection pool."));
        o.put("fencing", Schema.string().enumValues("watchdog", "hardware", "both").optional()
                .description("Set the fencing mode of the HA cluster."));
        o.put("ha", Schema.propertyString(PropertyFormat.of()
                .key("shutdown_policy", Schema.string().enumValues("freeze", "failover", "conditional", "migrate").optional())).optional()
                .description("Cluster wide HA settings."));
        o.put("bwlimit", Schema.propertyString(PropertyFormat.of()
                .key("default", Schema.integer().minimum(0).optional())
                .key("restore", Schema.integer().minimum(0).optional())
                .key("migration", Schema.integer().minimum(0).optional())
                .key("clone", Schema.integer().minimum(0).optional())
                .key("move", Schema.integer().minimum(0).optional())).optional()
                .description("Set I/O bandwidth limit for various operations (in KiB/s)."));
        o.put("tag-style", Schema.string().maxLength(1024).optional().description("Tag style options."));
        o.put("registered-tags", Schema.string().pattern("[a-z0-9_+.\\-;, ]*").maxLength(4096).optional()
                .description("A list of tags that require a `Sys.Modify` on '/' to set and delete."));
        o.put("user-tag-access", Schema.string().maxLength(4096).optional().description("Privilege options for user-settable tags"));
        o.put("description", Schema.string().maxLength(64 * 1024).multiLine().optional().description("Datacenter description."));
        o.put("allow-private-download", Schema.bool().optional().description("Corral: let download-url fetch from loopback, "
                + "link-local and private addresses (refused by default)."));
        o.put(StoreTimings.OPTION, Schema.string().maxLength(256).optional().description("Corral: how long the config store waits "
                + "on slow links, as 'tick=MS,init-limit=TICKS,sync-limit=TICKS,session=SECONDS' (defaults "
                + StoreTimings.DEFAULTS.format() + ", fit for 20 ms between nodes). A node applies a change at its next start."));
        return o;
    }

    @Override
    public List<ApiMethod> methods() {
        Map<String, Schema> options = datacenterOptions();
        ApiMethod setOptions = ApiMethod.put("/cluster/options")
                .name("set_options")
                .description("Set datacenter options.")
                .permission(Check.path("/", Privilege.SYS_MODIFY))
                .parameter("delete", Schema.string().format("pve-configid-list").maxLength(4096).optional()
                        .description("A list of settings you want to delete."))
                .parameter("digest", Schema.string().maxLength(64).optional()
                        .description("Prevent changes if current configuration file has a different digest."))
                .handler(this::setOptions);
        options.forEach(setOptions::parameter);
        return List.of(
                ApiMethod.get("/cluster")
                        .name("index")
                        .description("Cluster index.")
                        .permission(Check.authenticated())
                        .directoryIndex("name"),
                ApiMethod.get("/cluster/status")
                        .name("get_status")
                        .description("Get cluster status information.")
                        .permission(Check.path("/", Privilege.SYS_AUDIT))
                        .returns(Schema.array(Schema.object()
                                .property("type", Schema.string().enumValues("cluster", "node"))
                                .property("id", Schema.string())
                                .property("name", Schema.string())))
                        .handler(r -> clusterConfig.status()),
                ApiMethod.get("/cluster/resources")
                        .name("resources")
                        .description("Resources index (cluster wide). Lists what the caller may audit.")
                        .permission(Check.authenticated())
                        .parameter("type", Schema.string().enumValues("vm", "storage", "node", "sdn").optional()
                                .description("Resource type."))
                        .returns(Schema.array(Schema.object()
                                .property("id", Schema.string())
                                .property("type", Schema.string().enumValues("node", "storage", "pool", "qemu", "lxc", "openvz", "sdn"))
                                .property("node", Schema.string().optional())
                                .property("status", Schema.string().optional())))
                        .handler(this::resources),
                ApiMethod.get("/cluster/nextid")
                        .name("nextid")
                        .description("Get next free VMID. Pass a VMID to check whether it is free.")
                        .permission(Check.authenticated())
                        .parameter("vmid", Schema.integer().format(Formats.PVE_VMID).optional().description("The (unique) ID of the VM."))
                        .returns(Schema.string())
                        .handler(this::nextId),
                ApiMethod.get("/cluster/options")
                        .name("get_options")
                        .description("Get datacenter options.")
                        .permission(Check.path("/", Privilege.SYS_AUDIT))
                        .returns(Schema.object())
                        .handler(r -> readOptions()),
                setOptions,
                ApiMethod.get("/cluster/log")
                        .name("log")
                        .description("Read cluster log")
                        .permission(Check.path("/", Privilege.SYS_SYSLOG))
                        .parameter("max", Schema.integer().minimum(1).optional().description("Maximum number of entries."))
                        .returns(Schema.array(Schema.object()))
                        .handler(r -> clusterLog(r.optionalInt("max").orElse(50))));
    }

    private EncodedAnswer resources(ApiRequest r) {
        return resources.answer(r.optionalString("type"), r.permissionView());
    }

    /** This node's storages with their entries, measured at most once a second and again after storage.cfg changed. */
    private List<ClusterResources.StorageEntry> storageEntries() {
        StorageSample sample = storageSample;
        long cfgVersion = guests.storageVersion();
        if (sample != null && sample.fresh(cfgVersion, 1)) {
            return sample.entries();
        }
        if (!storageMeasuring.tryLock()) {
            if (sample != null && sample.fresh(cfgVersion, 2)) {
                return sample.entries();
            }
            storageMeasuring.lock();
        }
        try {
            sample = storageSample;
            cfgVersion = guests.storageVersion();
            if (sample != null && sample.fresh(cfgVersion, 1)) {
                return sample.entries();
            }
            long takenAt = System.nanoTime();
            List<ClusterResources.StorageEntry> entries = new ArrayList<>();
            for (StorageConfig config : storage.config().list()) {
                if (config.availableOn(node.name())) {
                    entries.add(new ClusterResources.StorageEntry(config.id(),
                            Collections.unmodifiableMap(storageResource(storage.state(config)))));
                }
            }
            // unchanged entries stay the same object, so that encoded answers can be kept
            List<ClusterResources.StorageEntry> kept = sample != null && sample.entries().equals(entries) ? sample.entries() : List.copyOf(entries);
            storageSample = new StorageSample(takenAt, cfgVersion, kept);
            return kept;
        } finally {
            storageMeasuring.unlock();
        }
    }

    private record StorageSample(long takenAt, long cfgVersion, List<ClusterResources.StorageEntry> entries) {
        boolean fresh(long currentCfgVersion, int seconds) {
            return cfgVersion == currentCfgVersion && System.nanoTime() - takenAt < seconds * 1_000_000_000L;
        }
    }

    private Map<String, Object> storageResource(StorageState state) {
        Map<String, Object> out = new LinkedHashMap<>();
        StorageConfig config = state.config();
        out.put("id", "storage/" + node.name() + "/" + config.id());
        out.put("type", "storage");
        out.put("storage", config.id());
        out.put("node", node.name());
        out.put("plugintype", config.type());
        out.put("status", state.enabled() && state.availability().active() ? "available" : "unknown");
        out.put("content", String.join(",", state.plugin().map(p -> config.content(p.capabilities()))
                .orElse(java.util.Set.of()).stream().map(org.corral.storage.ContentType::proxmoxName).sorted().toList()));
        out.put("shared", config.flag("shared", false) ? 1 : 0);
        out.put("disk", state.status().map(s -> s.used()).orElse(0L));
        out.put("maxdisk", state.status().map(s -> s.total()).orElse(0L));
        return out;
    }

    /** See {@link ClusterResources#runningResource}. */
    static Map<String, Object> runningResource(Map<String, Object> stopped, GuestUsage.Usage usage) {
        return ClusterResources.runningResource(stopped, usage);
    }

    static Map<String, Object> guestResource(GuestIndex.Guest g) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", g.type() + "/" + g.vmid());
        out.put("type", g.type());
        out.put("vmid", g.vmid());
        out.put("node", g.node());
        out.put("name", g.option(g.type().equals("lxc") ? "hostname" : "name").orElse((g.type().equals("lxc") ? "CT" : "VM") + g.vmid()));
        out.put("status", "stopped");
        out.put("template", g.option("template").map(v -> v.equals("1") ? 1 : 0).orElse(0));
        out.put("maxmem", g.option("memory").map(ClusterApi::mebibytes).orElse(512L * 1024 * 1024));
        out.put("maxcpu", g.option("cores").map(Integer::parseInt).orElse(1));
        out.put("cpu", 0);
        out.put("mem", 0);
        out.put("disk", 0);
        out.put("maxdisk", 0);
        out.put("uptime", 0);
        g.option("tags").ifPresent(t -> out.put("tags", t));
        g.option("lock").ifPresent(l -> out.put("lock", l));
        return out;
    }

    private static long mebibytes(String value) {
        try {
            return Long.parseLong(value) * 1024 * 1024;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private String nextId(ApiRequest r) {
        Map<String, String> dc = readOptions();
        long lower = 100;
        long upper = 1_000_000;
        if (dc.containsKey("next-id")) {
            Map<String, Object> range = org.corral.core.schema.PropertyString.parse(
                    datacenterOptions().get("next-id").propertyFormat().orElseThrow(), dc.get("next-id"));
            lower = ((Number) range.getOrDefault("lower", 100L)).longValue();
            upper = ((Number) range.getOrDefault("upper", 1_000_000L)).longValue();
        }
        if (r.has("vmid")) {
            int vmid = r.vmId("vmid");
            if (guests.exists(vmid)) {
                throw new ParameterError("vmid", "VM " + vmid + " already exists");
            }
            return Integer.toString(vmid);
        }
        for (long id = lower; id < upper; id++) {
            if (!guests.exists((int) id)) {
                return Long.toString(id);
            }
        }
        throw new ParameterError("vmid", "unable to get any free VMID in range [" + lower + ", " + upper + "]");
    }

    private Map<String, String> readOptions() {
        Optional<ConfigFile> file = store.read(DATACENTER);
        Map<String, String> out = new LinkedHashMap<>(file.map(f -> KeyValueConfig.parse(f.text())).orElse(Map.of()));
        file.ifPresent(f -> out.put("digest", f.digest()));
        return out;
    }

    private Object setOptions(ApiRequest r) {
        Map<String, Schema> known = datacenterOptions();
        List<String> delete = r.optionalString("delete").map(Formats::splitList).orElse(List.of());
        Map<String, String> errors = new LinkedHashMap<>();
        for (String key : delete) {
            if (!known.containsKey(key)) {
                errors.put("delete", "unknown option '" + key + "'");
            } else if (r.has(key)) {
                errors.put(key, "cannot set and delete the same option");
            }
        }
        r.optionalString(StoreTimings.OPTION).ifPresent(value -> {
            try {
                StoreTimings.parse(value);
            } catch (IllegalArgumentException e) {
                errors.put(StoreTimings.OPTION, e.getMessage());
            }
        });
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        Optional<ConfigFile> current = store.read(DATACENTER);
        Digest.check(r.optionalString("digest"), current.map(ConfigFile::digest).orElse(Digest.sha1Hex("")));
        Map<String, String> values = new LinkedHashMap<>(current.map(f -> KeyValueConfig.parse(f.text())).orElse(Map.of()));
        known.keySet().forEach(key -> r.optionalString(key).ifPresent(v -> values.put(key, render(r.params().get(key)))));
        delete.forEach(values::remove);
        try {
            store.write(DATACENTER, KeyValueConfig.write(values), current.map(ConfigFile::version).orElse(ConfigStore.NEW));
        } catch (StaleVersionException e) {
            throw e.asConflict();
        }
        return null;
    }

    private static String render(Object value) {
        return value instanceof Boolean b ? (b ? "1" : "0") : String.valueOf(value);
    }

    private List<Map<String, Object>> clusterLog(int max) {
        List<Map<String, Object>> out = new ArrayList<>();
        List<JsonNode> entries = audit.tail(max);
        int n = 0;
        for (int i = entries.size() - 1; i >= 0; i--) {
            JsonNode e = entries.get(i);
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("n", ++n);
            line.put("uid", e.path("time").asLong() + "-" + n);
            line.put("time", e.path("time").asLong());
            line.put("pri", e.path("status").asInt() >= 400 ? 4 : 6);
            line.put("tag", "corral");
            line.put("pid", ProcessHandle.current().pid());
            line.put("node", e.path("node").asString());
            line.put("user", e.path("user").asString());
            line.put("msg", e.path("method").asString() + " " + e.path("path").asString() + ": " + e.path("status").asInt()
                    + (e.has("message") ? " " + e.path("message").asString() : ""));
            out.add(line);
        }
        return out;
    }

}
