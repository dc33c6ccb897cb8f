package org.corral.storage.api;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.api.Upload;
import org.corral.core.error.ApiException;
import org.corral.core.error.Conflict;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.schema.Schema;
import org.corral.core.task.Upid;
import org.corral.storage.Checksums;
import org.corral.storage.ContentType;
import org.corral.storage.SafePaths;
import org.corral.storage.StorageException;
import org.corral.storage.StorageService;
import org.corral.storage.UrlPolicy;
import org.corral.storage.VolumeNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code upload} and {@code download-url}: ISOs, container templates and import images into a
 * file storage.
 *
 * <p>An upload is streamed during the request, since its bytes arrive with it: straight into a
 * hidden temporary file in the target directory, hashed on the way, checked against the given
 * checksum and renamed into place, or deleted on any failure (a checksum mismatch answers 400
 * naming both sums). The answer is the UPID of an {@code imgcopy} task that logs what was stored,
 * as Proxmox answers one. A download runs entirely as a {@code download} task; its URL and
 * address checks run before the task starts, so a refused target answers 400 at once.
 */
public final class TransferApi implements ApiModule {
    private static final Logger log = LoggerFactory.getLogger(TransferApi.class);
    private static final long PROGRESS_STEP = 256L * 1024 * 1024;

    private final StorageService storages;

    public TransferApi(StorageService storages) {
        this.storages = requireNonNull(storages, "storages is null");
    }

    private static Schema content() {
        return Schema.string().enumValues("iso", "vztmpl", "import").description("Content type.");
    }

    private static Schema checksum() {
        return Schema.string().pattern("[0-9a-fA-F]{8,128}").optional().description("The expected checksum of the file.");
    }

    private static Schema algorithm() {
        return Schema.string().enumValues(Checksums.NAMES).optional().description("The algorithm to calculate the checksum of the file.");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.post("/nodes/{node}/storage/{storage}/upload")
                        .name("upload")
                        .description("Upload templates, ISO images and OVAs. The file is the multipart part 'filename'; its name is "
                                + "normalized (characters other than letters, digits, '-', '_' and '.' become '_').")
                        .permission(Check.path("/storage/{storage}", Privilege.DATASTORE_ALLOCATE_TEMPLATE))
                        .proxyToNode()
                        .upload("filename")
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .parameter("content", content())
                        .parameter("filename", Schema.string().maxLength(255).optional()
                                .description("The name of the file to create. Caution: This will be normalized! Taken from the uploaded part when it names one."))
                        .parameter("checksum", checksum())
                        .parameter("checksum-algorithm", algorithm())
                        .parameter("tmpfilename", Schema.string().pattern("/var/tmp/pveupload-[0-9a-f]+").optional()
                                .description("The source file name. Set by Proxmox's proxy only; Corral streams uploads directly and refuses it alone."))
                        .returns(Schema.string().description("The UPID of the task that logs the import."))
                        .handler(this::upload),
                ApiMethod.post("/nodes/{node}/storage/{storage}/download-url")
                        .name("download_url")
                        .description("Download templates, ISO images and OVAs by using an URL. Requires Datastore.AllocateTemplate on the "
                                + "storage and Sys.AccessNetwork on the node (or Sys.Modify on '/'). Loopback, link-local and private "
                                + "addresses are refused unless datacenter.cfg sets 'allow-private-download: 1'.")
                        .permission(Check.path("/storage/{storage}", Privilege.DATASTORE_ALLOCATE_TEMPLATE))
                        .proxyToNode()
                        .parameter("node", ApiSupport.node())
                        .parameter("storage", ApiSupport.storage())
                        .parameter("url", Schema.string().pattern("https?://.+").maxLength(4096)
                                .description("The URL to download the file from."))
                        .parameter("content", content())
                        .parameter("filename", Schema.string().maxLength(255)
                                .description("The name of the file to create. Caution: This will be normalized!"))
                        .parameter("checksum", checksum())
                        .parameter("checksum-algorithm", algorithm())
                        .parameter("verify-certificates", Schema.bool().defaultValue(true)
                                .description("If false, no SSL/TLS certificates will be verified."))
                        .returns(Schema.string().description("The UPID of the download task."))
                        .handler(this::download));
    }

    private record Target(String storage, ContentType content, String name, Path directory, Path file) {}

    private Target target(ApiRequest r, String rawName) {
        String storage = r.string("storage");
        ContentType content = ContentType.byName(r.string("content")).orElseThrow();
        String name;
        try {
            name = VolumeNames.uploadName(rawName, content);
        } catch (IllegalArgumentException e) {
            throw new ParameterError("filename", e.getMessage());
        }
        Path directory = storages.contentDirectory(storage, content);
        Path file;
        try {
            file = SafePaths.resolve(directory, name);
        } catch (IllegalArgumentException e) {
            throw new ParameterError("filename", e.getMessage());
        }
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new Conflict("file '" + name + "' already exists on storage '" + storage + "'");
        }
        return new Target(storage, content, name, directory, file);
    }

    private static Optional<MessageDigest> digest(ApiRequest r) {
        Optional<String> checksum = r.optionalString("checksum");
        Optional<String> algorithm = r.optionalString("checksum-algorithm");
        if (checksum.isPresent() != algorithm.isPresent()) {
            throw new ParameterError(checksum.isPresent() ? "checksum-algorithm" : "checksum",
                    "'checksum' and 'checksum-algorithm' must be given together");
        }
        return algorithm.map(Checksums::digest);
    }

    private static void verify(Optional<String> expected, FileReceiver.Received received) {
        if (expected.isPresent() && !expected.get().toLowerCase(Locale.ROOT).equals(received.checksum().orElseThrow())) {
            throw new ParameterError("checksum", "checksum mismatch: got '" + received.checksum().orElseThrow() + "' != expect '"
                    + expected.get().toLowerCase(Locale.ROOT) + "'");
        }
    }

    private static Path temporary(Path directory, String kind) {
        // hidden and unparsable as a volume name, so no listing shows a half-written file
        return directory.resolve("." + kind + "-" + UUID.randomUUID() + ".part");
    }

    private static void moveIntoPlace(Path temporary, Target target) throws IOException {
        try {
            Files.move(temporary, target.file());
        } catch (FileAlreadyExistsException e) {
            throw new Conflict("file '" + target.name() + "' already exists on storage '" + target.storage() + "'");
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.warn("Could not delete partial file {}: {}", file, e.getMessage());
        }
    }

    private Object upload(ApiRequest r) {
        ApiSupport.requireLocalNode(storages.node(), r);
        Upload upload = r.upload().orElseThrow(() -> new ParameterError("filename",
                r.has("tmpfilename") ? "tmpfilename is only set by Proxmox's proxy; send the file as the multipart part 'filename'"
                        : "no file uploaded (send it as the multipart part 'filename')"));
        Optional<MessageDigest> digest = digest(r);
        String rawName = upload.filename().isBlank() ? r.optionalString("filename").orElse("") : upload.filename();
        Target target = target(r, rawName);
        Path temporary = temporary(target.directory(), "upload");
        long started = storages.clock().millis();
        FileReceiver.Received received;
        try {
            received = FileReceiver.receive(upload.stream(), temporary, digest, size -> { });
            verify(r.optionalString("checksum"), received);
            moveIntoPlace(temporary, target);
        } catch (IOException e) {
            deleteQuietly(temporary);
            throw new StorageException("upload of '" + target.name() + "' failed - " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(temporary);
            throw e;
        }
        long millis = storages.clock().millis() - started;
        log.info("Stored upload {} ({} bytes) on storage {}", target.name(), received.size(), target.storage());
        Upid upid = storages.tasks().start("imgcopy", "", r.auth().authid(), ctx -> {
            ctx.log("starting file import from: " + VolumeNames.printable(upload.filename()));
            ctx.log("target node: " + storages.node().name());
            ctx.log("target file: " + target.file());
            ctx.log("file size is: " + received.size());
            if (received.checksum().isPresent()) {
                ctx.log("calculated checksum: " + received.checksum().get());
                ctx.log("checksum verified");
            }
            ctx.log("received in " + millis + " ms");
        });
        return upid.format();
    }

    private Object download(ApiRequest r) {
        ApiSupport.requireLocalNode(storages.node(), r);
        String nodePath = "/nodes/" + storages.node().name();
        if (!r.can(nodePath, Privilege.SYS_ACCESS_NETWORK) && !r.can("/", Privilege.SYS_MODIFY)) {
            throw new PermissionDenied("Permission check failed (" + nodePath + ", Sys.AccessNetwork)");
        }
        Optional<MessageDigest> digest = digest(r);
        URI url = null;
        boolean allowPrivate = storages.allowPrivateDownloads();
        Map<String, String> errors = new LinkedHashMap<>();
        try {
            url = UrlPolicy.parse(r.string("url"));
            UrlPolicy.checkHost(url, allowPrivate);
        } catch (IllegalArgumentException e) {
            errors.put("url", e.getMessage());
        }
        Target target = null;
        try {
            target = target(r, r.string("filename"));
        } catch (ParameterError e) {
            errors.putAll(e.errors());
        }
        // both checks answer together, so a bad file name is named whatever the URL
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
        return startDownload(r, url, allowPrivate, target, digest);
    }

    private Object startDownload(ApiRequest r, URI url, boolean allowPrivate, Target target, Optional<MessageDigest> digest) {
        boolean verifyCertificates = r.bool("verify-certificates");
        Optional<String> expected = r.optionalString("checksum");
        Upid upid = storages.tasks().start("download", target.name(), r.auth().authid(), ctx -> {
            Path temporary = temporary(target.directory(), "download");
            ctx.log("downloading " + url + " to " + target.file());
            long[] next = {PROGRESS_STEP};
            try {
                FileReceiver.Received received = Downloader.download(url, allowPrivate, verifyCertificates, temporary, digest, size -> {
                    ctx.checkStopped();
                    if (size >= next[0]) {
                        ctx.log("downloaded " + size + " bytes");
                        next[0] += PROGRESS_STEP;
                    }
                });
                ctx.log("download finished: " + received.size() + " bytes");
                if (received.checksum().isPresent()) {
                    ctx.log("calculated checksum: " + received.checksum().get());
                }
                verify(expected, received);
                if (expected.isPresent()) {
                    ctx.log("checksum verified");
                }
                moveIntoPlace(temporary, target);
                ctx.log("stored as " + target.file());
            } catch (ApiException e) {
                deleteQuietly(temporary);
                throw new StorageException(e.getMessage(), e);
            } catch (Exception e) {
                deleteQuietly(temporary);
                throw e;
            }
        });
        return upid.format();
    }
}
