package org.corral.storage.api;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.ApiStream;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Schema;
import org.corral.storage.StorageService;

/**
 * Volume export and import as streams ({@code pvesm export|import}, which replication and
 * migration use). Proxmox has them only on the command line; here they are API calls for
 * root@pam, so that {@code corral storage export|import} and other nodes can reach them.
 */
public final class VolumeTransferApi implements ApiModule {
    private final StorageService service;

    public VolumeTransferApi(StorageService service) {
        this.service = requireNonNull(service, "service is null");
    }

    private static Schema format() {
        return Schema.string().pattern("[a-z0-9+]+").maxLength(32)
                .description("Export stream format (raw+size, qcow2+size, vmdk+size, tar+size, btrfs).");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/nodes/{node}/storage/{storage}/export")
                        .name("export")
                        .description("Stream a volume in an export format (pvesm export). root@pam only.")
                        .permission(Check.rootOnly())
                        .extension()
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .parameter("volume", Schema.string().maxLength(4096).description("Volume identifier"))
                        .parameter("format", format())
                        .parameter("snapshot", Schema.string().pattern("[A-Za-z][A-Za-z0-9_\\-]*").maxLength(40).optional()
                                .description("Snapshot to export."))
                        .parameter("base", Schema.string().pattern("[A-Za-z][A-Za-z0-9_\\-]*").maxLength(40).optional()
                                .description("Snapshot to start an incremental stream from."))
                        .returns(Schema.string().description("The export stream (application/octet-stream)."))
                        .handler(this::export),
                ApiMethod.post("/nodes/{node}/storage/{storage}/import")
                        .name("import")
                        .description("Create a volume from an export stream sent as the multipart part 'file' (pvesm import). "
                                + "root@pam only.")
                        .permission(Check.rootOnly())
                        .extension()
                        .upload("file")
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .parameter("volume", Schema.string().maxLength(4096).description("Volume identifier to create"))
                        .parameter("format", format())
                        .returns(Schema.string().description("The imported volume's id."))
                        .handler(this::importVolume));
    }

    private Object export(ApiRequest r) {
        ApiSupport.requireLocalNode(service.node(), r);
        String volid = ApiSupport.volumeId(r.string("storage"), r.string("volume"));
        String format = r.string("format");
        Optional<String> snapshot = r.optionalString("snapshot");
        Optional<String> base = r.optionalString("base");
        // resolve before streaming so that a bad volume is a clean 400, not a broken stream
        service.info(volid);
        return new ApiStream("application/octet-stream", out -> service.exportVolume(volid, format, snapshot, base, out));
    }

    private Object importVolume(ApiRequest r) {
        ApiSupport.requireLocalNode(service.node(), r);
        String volid = ApiSupport.volumeId(r.string("storage"), r.string("volume"));
        return service.importVolume(volid, r.string("format"),
                r.upload().orElseThrow(() -> new ParameterError("file", "no export stream sent")).stream());
    }
}
