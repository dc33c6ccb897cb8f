package org.corral.storage.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.storage.ContentType;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;
import org.corral.storage.StorageState;
import org.corral.storage.StorageStatus;
import org.corral.storage.VolumeFormat;

/** {@code /nodes/{node}/storage}: every storage as this node sees it, and one storage's status. */
public final class NodeStorageApi implements ApiModule {
    private final StorageService storages;

    public NodeStorageApi(StorageService storages) {
        this.storages = requireNonNull(storages, "storages is null");
    }

    private static Schema stateSchema() {
        return Schema.object()
                .property("storage", Schema.string().description("The storage identifier."))
                .property("type", Schema.string().description("Storage type."))
                .property("content", Schema.string().description("Allowed storage content types."))
                .property("active", Schema.bool().description("Set when storage is accessible."))
                .property("enabled", Schema.bool().description("Set when storage is enabled (not disabled)."))
                .property("shared", Schema.bool().description("Shared flag from storage configuration."))
                .property("total", Schema.integer().description("Total storage space in bytes."))
                .property("used", Schema.integer().description("Used storage space in bytes."))
                .property("avail", Schema.integer().description("Available storage space in bytes."))
                .property("used_fraction", Schema.number().description("Used fraction (used/total)."))
                .property("reason", Schema.string().description("Why the storage is not active (Corral addition)."));
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/nodes/{node}/storage")
                        .name("index")
                        .description("Get status for all datastores.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", ApiSupport.node())
                        .parameter("content", Schema.string().pattern("[a-z]+([,; ][a-z]+)*").maxLength(256).optional()
                                .description("Only list stores which support this content type."))
                        .parameter("storage", ApiSupport.storage().optional().description("Only list status for  specified storage"))
                        .parameter("target", Schema.string().format(Formats.PVE_NODE).optional()
                                .description("If target is different to 'node', we only lists shared storages which content is accessible on this 'node' and the specified 'target' node."))
                        .parameter("enabled", Schema.bool().defaultValue(false)
                                .description("Only list stores which are enabled (not disabled in config)."))
                        .parameter("format", Schema.bool().defaultValue(false).description("Include information about formats"))
                        .returns(Schema.array(stateSchema()))
                        .handler(this::index),
                ApiMethod.get("/nodes/{node}/storage/{storage}")
                        .name("diridx")
                        .description("Directory index of one storage.")
                        .permission(Check.pathAny("/storage/{storage}", Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE))
                        .proxyToNode()
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .directoryIndex("subdir", r -> {
                            ApiSupport.requireLocalNode(storages.node(), r);
                            storages.storage(r.string("storage"));
                        }),
                ApiMethod.get("/nodes/{node}/storage/{storage}/status")
                        .name("read_status")
                        .description("Read storage status.")
                        .permission(Check.pathAny("/storage/{storage}", Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE))
                        .proxyToNode()
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .returns(stateSchema())
                        .handler(r -> {
                            ApiSupport.requireLocalNode(storages.node(), r);
                            Map<String, Object> out = row(storages.state(r.string("storage")), false);
                            out.remove("storage");
                            return out;
                        }));
    }

    private Object index(ApiRequest r) {
        ApiSupport.requireLocalNode(storages.node(), r);
        Optional<Set<ContentType>> content;
        try {
            content = r.optionalString("content").map(ContentType::parseList);
        } catch (IllegalArgumentException e) {
            throw new ParameterError("content", e.getMessage());
        }
        Optional<String> only = r.optionalString("storage");
        Optional<String> target = r.optionalString("target").filter(t -> !t.equals(storages.node().name()) && !t.equals("localhost"));
        List<Map<String, Object>> out = new ArrayList<>();
        for (StorageConfig config : storages.config().list()) {
            if (only.isPresent() && !only.get().equals(config.id())) {
                continue;
            }
            if (!r.canAny("/storage/" + config.id(), Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE)) {
                continue;
            }
            // a storage restricted to other nodes is not part of this node's list
            if (!config.availableOn(storages.node().name())) {
                continue;
            }
            StorageState state = storages.state(config);
            if (r.bool("enabled") && !state.enabled()) {
                continue;
            }
            if (content.isPresent() && content.get().stream().noneMatch(state.content()::contains)) {
                continue;
            }
            if (target.isPresent() && !(state.shared() && config.availableOn(target.get()))) {
                continue;
            }
            out.add(row(state, r.bool("format")));
        }
        return out;
    }

    /** One storage's row, with Proxmox's field names and 0/1 flags; {@code reason} says why it is inactive. */
    static Map<String, Object> row(StorageState state, boolean formats) {
        Map<String, Object> out = new LinkedHashMap<>();
        StorageConfig config = state.config();
        out.put("storage", config.id());
        out.put("type", config.type());
        out.put("content", String.join(",", state.content().stream().sorted().map(ContentType::proxmoxName).toList()));
        out.put("active", state.active() ? 1 : 0);
        out.put("enabled", state.enabled() ? 1 : 0);
        out.put("shared", state.shared() ? 1 : 0);
        StorageStatus status = state.status().orElse(new StorageStatus(0, 0, 0));
        out.put("total", status.total());
        out.put("used", status.used());
        out.put("avail", status.avail());
        if (status.total() > 0) {
            out.put("used_fraction", (double) status.used() / status.total());
        }
        state.availability().reason().ifPresent(reason -> out.put("reason", reason));
        if (formats && state.plugin().isPresent()) {
            Map<String, Object> supported = new TreeMap<>();
            state.plugin().get().capabilities().formats().forEach(f -> supported.put(f.proxmoxName(), 1));
            List<Object> format = new ArrayList<>();
            format.add(supported);
            format.add(config.option("format").or(() -> state.plugin().get().capabilities().defaultFormat().map(VolumeFormat::proxmoxName))
                    .orElse(""));
            out.put("format", format);
        }
        return out;
    }
}
