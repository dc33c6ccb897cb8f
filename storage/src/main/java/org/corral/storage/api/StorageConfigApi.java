package org.corral.storage.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.config.Digest;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.storage.OptionRules;
import org.corral.storage.StorageCfg;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageOptions;
import org.corral.storage.StoragePlugin;
import org.corral.storage.StorageService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /storage}: the cluster-wide storage configuration (storage.cfg), as Proxmox's pvesm add/set/remove. */
public final class StorageConfigApi implements ApiModule {
    private static final Logger log = LoggerFactory.getLogger(StorageConfigApi.class);

    private final StorageService storages;

    public StorageConfigApi(StorageService storages) {
        this.storages = requireNonNull(storages, "storages is null");
    }

    private Schema typeSchema() {
        return Schema.string().enumValues(storages.plugins().types().toArray(String[]::new)).description("Storage type.");
    }

    private static Schema answer() {
        return Schema.object().property("storage", Schema.string()).property("type", Schema.string());
    }

    @Override
    public List<ApiMethod> methods() {
        ApiMethod create = ApiMethod.post("/storage")
                .name("create")
                .description("Create a new storage.")
                .permission(Check.path("/storage", Privilege.DATASTORE_ALLOCATE))
                .parameter("storage", ApiSupport.storage())
                .parameter("type", typeSchema())
                .returns(answer())
                .handler(this::create);
        ApiMethod update = ApiMethod.put("/storage/{storage}")
                .name("update")
                .description("Update storage configuration.")
                .permission(Check.path("/storage/{storage}", Privilege.DATASTORE_ALLOCATE))
                .parameter("storage", ApiSupport.storage())
                .parameter("delete", Schema.string().pattern("[a-z][a-z0-9_\\-]*([,; ][a-z][a-z0-9_\\-]*)*").maxLength(4096).optional()
                        .description("A list of settings you want to delete."))
                .parameter("digest", Schema.string().pattern("[0-9a-fA-F]{40}").optional()
                        .description("Prevent changes if current configuration file has a different digest. This can be used to prevent concurrent modifications."))
                .returns(answer())
                .handler(this::update);
        StorageOptions.all().forEach((name, schema) -> {
            create.parameter(name, schema);
            update.parameter(name, schema);
        });
        return List.of(
                ApiMethod.get("/storage")
                        .name("index")
                        .description("Storage index.\nOnly list entries where you have 'Datastore.Audit' or 'Datastore.AllocateSpace' permissions on '/storage/<storage>'")
                        .permission(Check.authenticated())
                        .parameter("type", typeSchema().optional().description("Only list storage of specific type"))
                        .returns(Schema.array(Schema.object().property("storage", Schema.string())))
                        .handler(this::index),
                create,
                ApiMethod.get("/storage/{storage}")
                        .name("read")
                        .description("Read storage configuration.")
                        .permission(Check.path("/storage/{storage}", Privilege.DATASTORE_ALLOCATE))
                        .parameter("storage", ApiSupport.storage())
                        .returns(Schema.object())
                        .handler(this::read),
                update,
                ApiMethod.delete("/storage/{storage}")
                        .name("delete")
                        .description("Delete storage configuration. The data on the storage is left alone.")
                        .permission(Check.path("/storage/{storage}", Privilege.DATASTORE_ALLOCATE))
                        .parameter("storage", ApiSupport.storage())
                        .handler(this::delete));
    }

    private Object index(ApiRequest r) {
        StorageCfg cfg = storages.config();
        Optional<String> type = r.optionalString("type");
        List<Map<String, Object>> out = new ArrayList<>();
        for (StorageConfig config : cfg.list()) {
            if (type.isPresent() && !type.get().equals(config.type())) {
                continue;
            }
            if (!r.canAny("/storage/" + config.id(), Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE)) {
                continue;
            }
            out.add(ApiSupport.configAnswer(config, storages.plugins().find(config.type()), cfg.digest()));
        }
        return out;
    }

    private Object read(ApiRequest r) {
        StorageCfg cfg = storages.config();
        String id = r.string("storage");
        StorageConfig config = cfg.get(id).orElseThrow(() -> new NotFound("storage '" + id + "' does not exist"));
        return ApiSupport.configAnswer(config, storages.plugins().find(config.type()), cfg.digest());
    }

    private static Map<String, Object> options(ApiRequest r) {
        Map<String, Object> given = new LinkedHashMap<>();
        r.params().forEach((name, value) -> {
            if (StorageOptions.known(name)) {
                given.put(name, value);
            }
        });
        // the validator answers parameters in declaration order; keep the caller's options in ours
        Map<String, Object> ordered = new LinkedHashMap<>();
        StorageOptions.all().keySet().stream().filter(given::containsKey).forEach(n -> ordered.put(n, given.get(n)));
        return ordered;
    }

    private Object create(ApiRequest r) {
        String id = r.string("storage");
        String type = r.string("type");
        StoragePlugin plugin = storages.plugins().find(type).orElseThrow(() -> new ParameterError("type", "unknown storage type '" + type + "'"));
        Map<String, Object> given = options(r);
        OptionRules.Result result = OptionRules.create(plugin, id, given);
        Map<String, String> values = new LinkedHashMap<>(result.options());
        Map<String, String> privateFiles = keepPrivate(plugin, values, given.keySet());
        StorageConfig config = new StorageConfig(type, id, values);
        // refused before storage.cfg changes, so a bad password leaves no half-made storage
        result.password().ifPresent(StorageService::passwordFile);
        storages.updateConfig(cfg -> {
            if (cfg.get(id).isPresent()) {
                throw new Conflict("storage ID '" + id + "' already defined");
            }
            return cfg.with(config);
        });
        if (result.password().isPresent()) {
            storages.setPassword(id, result.password());
        }
        privateFiles.forEach((suffix, text) -> storages.setPrivateFile(id, suffix, Optional.of(text)));
        log.info("Created storage '{}' of type {}", id, type);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("storage", id);
        out.put("type", type);
        return out;
    }

    private Object update(ApiRequest r) {
        String id = r.string("storage");
        Map<String, Object> given = options(r);
        String delete = r.optionalString("delete").orElse("");
        Optional<String> digest = r.optionalString("digest");
        OptionRules.Result[] result = new OptionRules.Result[1];
        Map<String, String> privateFiles = new LinkedHashMap<>();
        StorageCfg written = storages.updateConfig(cfg -> {
            Digest.check(digest, cfg.digest());
            StorageConfig current = cfg.get(id).orElseThrow(() -> new NotFound("storage '" + id + "' does not exist"));
            StoragePlugin plugin = storages.plugin(current);
            result[0] = OptionRules.update(plugin, current, given, delete);
            result[0].password().ifPresent(StorageService::passwordFile);
            Map<String, String> values = new LinkedHashMap<>(result[0].options());
            privateFiles.clear();
            privateFiles.putAll(keepPrivate(plugin, values, given.keySet()));
            return cfg.with(new StorageConfig(current.type(), id, values));
        });
        privateFiles.forEach((suffix, text) -> storages.setPrivateFile(id, suffix, Optional.of(text)));
        StorageConfig config = written.get(id).orElseThrow();
        storages.plugin(config).privateOptions().forEach((option, suffix) -> {
            if (Formats.splitList(delete).contains(option)) {
                storages.setPrivateFile(id, suffix, Optional.empty());
            }
        });
        if (given.containsKey("password")) {
            storages.setPassword(id, result[0].password());
        } else if (Formats.splitList(delete).contains("password")) {
            storages.setPassword(id, Optional.empty());
        }
        log.info("Updated storage '{}'", id);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("storage", id);
        out.put("type", config.type());
        return out;
    }

    /**
     * Replaces each given private option in {@code values} by what storage.cfg shows and answers the private files'
     * texts by suffix; a bad value is a ParameterError naming the option.
     */
    private static Map<String, String> keepPrivate(StoragePlugin plugin, Map<String, String> values, Set<String> given) {
        Map<String, String> files = new LinkedHashMap<>();
        Map<String, String> errors = new LinkedHashMap<>();
        plugin.privateOptions().forEach((option, suffix) -> {
            if (given.contains(option) && values.containsKey(option)) {
                try {
                    StoragePlugin.PrivateOption kept = plugin.keepPrivate(option, values.get(option));
                    values.put(option, kept.shown());
                    files.put(suffix, kept.privateText());
                } catch (IllegalArgumentException e) {
                    errors.put(option, e.getMessage());
                }
            }
        });
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        return files;
    }

    private Object delete(ApiRequest r) {
        String id = r.string("storage");
        StorageConfig[] removed = new StorageConfig[1];
        storages.updateConfig(cfg -> {
            removed[0] = cfg.get(id).orElseThrow(() -> new NotFound("storage '" + id + "' does not exist"));
            return cfg.without(id);
        });
        storages.plugins().find(removed[0].type()).ifPresent(plugin -> {
            try {
                plugin.deactivate(removed[0]);
            } catch (RuntimeException e) {
                log.warn("Could not deactivate removed storage '{}': {}", id, e.getMessage());
            }
        });
        storages.setPassword(id, Optional.empty());
        storages.plugins().find(removed[0].type())
                .ifPresent(plugin -> plugin.privateOptions().values().forEach(suffix -> storages.setPrivateFile(id, suffix, Optional.empty())));
        log.info("Removed storage '{}'", id);
        return null;
    }
}
