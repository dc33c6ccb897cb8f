package org.corral.storage.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.HttpVerb;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.task.TaskStatus;
import org.corral.storage.StorageService;
import org.corral.storage.TestStorage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code download-url} against an HTTP server on loopback, which only {@code allow-private-download} lets through. */
class DownloadUrlTest {
    private static final String DOWNLOAD = "/nodes/pve1/storage/local/download-url";
    private static final byte[] ISO = "downloaded iso".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private TestStorage storage;
    private HttpServer server;
    private String base;
    private Path isoDir;

    @BeforeEach
    void start() throws Exception {
        storage = new TestStorage(dir);
        storage.service().initialize();
        storage.service().state("local");
        isoDir = storage.node().dataDir().resolve("storage/local/template/iso");
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/file.iso", exchange -> {
            exchange.sendResponseHeaders(200, ISO.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(ISO);
            }
        });
        server.createContext("/redirect", exchange -> {
            exchange.getResponseHeaders().add("Location", "/file.iso");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        storage.close();
    }

    private void allowPrivate() {
        storage.store().overwrite(StorageService.DATACENTER, "keyboard: en-us\n" + StorageService.ALLOW_PRIVATE_DOWNLOAD + ": 1\n");
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    @Test
    void loopbackIsRefusedUnlessDatacenterCfgAllowsIt() {
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, DOWNLOAD, Map.of("url", base + "/file.iso", "content", "iso",
                "filename", "x.iso")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors().get("url"))
                        .contains("loopback").contains("allow-private-download: 1"));
        assertThat(storage.tasks().list(org.corral.core.task.TaskFilter.defaults().withSource(org.corral.core.task.TaskFilter.Source.ALL)).tasks()).isEmpty();
    }

    @Test
    void downloadRunsAsATaskAndVerifiesTheChecksum() throws Exception {
        allowPrivate();

        Object upid = storage.call(HttpVerb.POST, DOWNLOAD, Map.of("url", base + "/redirect", "content", "iso", "filename", "net.iso",
                "checksum", sha256(ISO), "checksum-algorithm", "sha256"));

        TaskStatus status = storage.await((String) upid);
        assertThat(upid).asString().contains(":download:net.iso:root@pam:");
        assertThat(status.exitstatus()).contains("OK");
        assertThat(isoDir.resolve("net.iso")).hasBinaryContent(ISO);
        assertThat(storage.log((String) upid)).contains("checksum verified");
    }

    @Test
    void checksumMismatchFailsTheTaskAndLeavesNoFile() throws Exception {
        allowPrivate();

        Object upid = storage.call(HttpVerb.POST, DOWNLOAD, Map.of("url", base + "/file.iso", "content", "iso", "filename", "bad.iso",
                "checksum", "0".repeat(32), "checksum-algorithm", "md5"));

        TaskStatus status = storage.await((String) upid);
        assertThat(status.exitstatus().orElseThrow()).contains("checksum mismatch");
        assertThat(isoDir).isEmptyDirectory();
    }

    @Test
    void httpErrorFailsTheTask() {
        allowPrivate();

        Object upid = call(Map.of("url", base + "/missing.iso", "content", "iso", "filename", "missing.iso"));

        assertThat(storage.await((String) upid).exitstatus().orElseThrow()).contains("HTTP 404");
        assertThat(isoDir).isEmptyDirectory();
    }

    private Object call(Map<String, String> params) {
        try {
            return storage.call(HttpVerb.POST, DOWNLOAD, params);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void downloadNeedsNetworkAccessOnTheNode() {
        AuthContext user = AuthContext.user("templates@pve", "127.0.0.1");
        storage.grant("templates@pve", "/storage/local", Privilege.DATASTORE_ALLOCATE_TEMPLATE);

        assertThatThrownBy(() -> storage.call(user, HttpVerb.POST, DOWNLOAD, Map.of("url", "https://example.com/a.iso", "content", "iso",
                "filename", "a.iso"))).isInstanceOf(PermissionDenied.class).hasMessageContaining("/nodes/pve1, Sys.AccessNetwork");
    }
}
