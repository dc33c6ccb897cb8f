package org.corral.storage.api;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.corral.core.api.ApiRequest;
import org.corral.core.error.ParameterError;
import org.corral.core.node.Node;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.storage.ContentType;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageOptions;
import org.corral.storage.StoragePlugin;
import org.corral.storage.VolumeId;

/** Parameter schemas and answers shared by the storage API modules. */
final class ApiSupport {
    private ApiSupport() {}

    static Schema node() {
        return Schema.string().format(Formats.PVE_NODE).description("The cluster node name.");
    }

    static Schema storage() {
        return Schema.string().format(Formats.PVE_STORAGE_ID).description("The storage identifier.");
    }

    static Schema vmid() {
        return Schema.integer().format(Formats.PVE_VMID).description("The (unique) ID of the VM.");
    }

    /** The node parameter must name this node ({@code localhost} too); other nodes' calls are proxied, not served. */
    static void requireLocalNode(Node node, ApiRequest request) {
        node.requireLocal(request.string("node"));
    }


    /**
     * The volume id a content call names: {@code volume} may be a whole id, whose storage must be
     * the one in the path, or a volume name on that storage.
     */
    static String volumeId(String storage, String volume) {
        if (VolumeId.looksLikeVolumeId(volume)) {
            String owner = volume.substring(0, volume.indexOf(':'));
            if (!owner.equals(storage)) {
                throw new ParameterError("volume", "storage ID mismatch (" + owner + " != " + storage + ")");
            }
            return volume;
        }
        if (volume.contains(":")) {
            throw new ParameterError("volume", "unable to parse volume ID '" + volume + "'");
        }
        return storage + ":" + volume;
    }

    /**
     * A storage's section as the API answers it: {@code storage}, {@code type}, the options with
     * booleans and numbers as numbers, the effective {@code content}, {@code shared} for shared
     * types, and the file's {@code digest}. Passwords never appear.
     */
    static Map<String, Object> configAnswer(StorageConfig config, Optional<StoragePlugin> plugin, String digest) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("storage", config.id());
        out.put("type", config.type());
        config.options().forEach((name, value) -> {
            if (StorageOptions.SECRETS.contains(name)) {
                return;
            }
            if (StorageOptions.BOOLEANS.contains(name)) {
                out.put(name, config.flag(name, false) ? 1 : 0);
            } else if (StorageOptions.known(name) && StorageOptions.schema(name).type() == Schema.Type.INTEGER && value.matches("-?\\d{1,18}")) {
                out.put(name, Long.parseLong(value));
            } else {
                out.put(name, value);
            }
        });
        plugin.ifPresent(p -> {
            out.putIfAbsent("content", ContentType.formatList(config.content(p.capabilities())));
            if (p.capabilities().sharedByType()) {
                out.put("shared", 1);
            }
        });
        out.put("digest", digest);
        return out;
    }

}
