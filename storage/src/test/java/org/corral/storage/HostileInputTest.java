package org.corral.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.corral.core.api.HttpVerb;
import org.corral.core.api.Upload;
import org.corral.core.error.ApiException;
import org.corral.core.error.ParameterError;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Inputs that try to get out of the storage. Every one is refused, and afterwards no file
 * outside the storage was read, written, created or removed, and nothing new is inside either.
 * A secret file outside the storage is the target; links inside the storage point at it.
 */
class HostileInputTest {
    @TempDir
    Path dir;

    private TestStorage storage;
    private Path local;
    private Path outside;
    private Map<String, String> before;

    enum Kind { VOLUME_ID, UPLOAD_NAME, DOWNLOAD_URL, DOWNLOAD_NAME }

    static Stream<Arguments> hostileInputs() {
        return Stream.of(
                Arguments.of(Kind.VOLUME_ID, "local:../../outside/secret.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:iso/../../../outside/secret.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:/etc/passwd"),
                Arguments.of(Kind.VOLUME_ID, "local:iso//etc/passwd.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:iso/secret.iso\0.txt"),
                Arguments.of(Kind.VOLUME_ID, "local:iso/evil\n.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:100/vm-100-disk-0.raw\r"),
                Arguments.of(Kind.VOLUME_ID, "local:iso/%2e%2e%2f%2e%2e%2fsecret.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:iso/..%2fsecret.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:iso\\..\\..\\secret.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:100/../101/vm-101-disk-0.raw"),
                Arguments.of(Kind.VOLUME_ID, "local:snippets/../../../root/.ssh/authorized_keys"),
                Arguments.of(Kind.VOLUME_ID, "local:iso/\uff0e\uff0e/secret.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:iso/.hidden.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:iso/link.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:666/vm-666-disk-0.raw"),
                Arguments.of(Kind.VOLUME_ID, "../local:iso/secret.iso"),
                Arguments.of(Kind.VOLUME_ID, "local:iso/secret.iso/"),
                Arguments.of(Kind.VOLUME_ID, "local:vztmpl/linkdir/secret.tar.zst"),
                Arguments.of(Kind.UPLOAD_NAME, "../../outside/evil.iso"),
                Arguments.of(Kind.UPLOAD_NAME, "/etc/cron.d/evil.iso"),
                Arguments.of(Kind.UPLOAD_NAME, "..\\..\\evil.iso"),
                Arguments.of(Kind.UPLOAD_NAME, "evil.iso\0.png"),
                Arguments.of(Kind.UPLOAD_NAME, "evil\n.iso"),
                Arguments.of(Kind.UPLOAD_NAME, "%2e%2e%2fevil.iso"),
                Arguments.of(Kind.UPLOAD_NAME, ".."),
                Arguments.of(Kind.UPLOAD_NAME, ".bashrc.iso"),
                Arguments.of(Kind.UPLOAD_NAME, "evil.sh"),
                Arguments.of(Kind.UPLOAD_NAME, "link.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "file:///etc/passwd"),
                Arguments.of(Kind.DOWNLOAD_URL, "ftp://example.com/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://127.0.0.1/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://localhost:8006/api2/json/version"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://[::1]/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://[::ffff:127.0.0.1]/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://169.254.169.254/latest/meta-data/"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://[fe80::1]/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://10.0.0.1/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "https://192.168.1.1/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://172.16.0.1/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://100.64.0.1/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://[fd00::1]/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://0.0.0.0/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://224.0.0.1/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://2130706433/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://user:pw@127.0.0.1/a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http:///a.iso"),
                Arguments.of(Kind.DOWNLOAD_URL, "http://example.com/a b.iso"),
                Arguments.of(Kind.DOWNLOAD_NAME, "../../outside/evil.iso"),
                Arguments.of(Kind.DOWNLOAD_NAME, "evil.iso/"),
                Arguments.of(Kind.DOWNLOAD_NAME, "evil.exe"));
    }

    @BeforeEach
    void prepare() throws IOException {
        storage = new TestStorage(dir);
        storage.service().initialize();
        storage.service().state("local");
        local = storage.node().dataDir().resolve("storage/local");
        outside = dir.resolve("outside");
        Files.createDirectories(outside.resolve("images666"));
        Files.writeString(outside.resolve("secret.iso"), "secret");
        Files.writeString(outside.resolve("secret.tar.zst"), "secret template");
        Files.writeString(outside.resolve("images666/vm-666-disk-0.raw"), "someone else's disk");
        Files.createSymbolicLink(local.resolve("template/iso/link.iso"), outside.resolve("secret.iso"));
        Files.createSymbolicLink(local.resolve("images/666"), outside.resolve("images666"));
        Files.createSymbolicLink(local.resolve("template/cache/linkdir"), outside);
        // every file's content and modification time: reads don't change them, so also compare access by listing
        before = snapshot(dir);
    }

    @AfterEach
    void stop() {
        storage.close();
    }

    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(p -> !p.startsWith(root.resolve("pve1/data/local"))).toList()) {
                String key = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    files.put(key, "link -> " + Files.readSymbolicLink(p));
                } else if (Files.isRegularFile(p)) {
                    FileTime modified = Files.getLastModifiedTime(p);
                    files.put(key, Files.readString(p) + " @" + modified.toMillis());
                } else {
                    files.put(key, "dir");
                }
            }
        }
        return files;
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("hostileInputs")
    void isRefusedAndTouchesNothing(Kind kind, String input) throws IOException {
        switch (kind) {
            case VOLUME_ID -> {
                StorageService service = storage.service();
                assertThatThrownBy(() -> service.info(input)).isInstanceOf(ApiException.class);
                assertThatThrownBy(() -> service.path(input)).isInstanceOf(ApiException.class);
                assertThatThrownBy(() -> service.free(input)).isInstanceOf(ApiException.class);
                assertThatThrownBy(() -> service.setNotes(input, "pwned")).isInstanceOf(ApiException.class);
                assertThatThrownBy(() -> service.exportVolume(input, "raw+size", java.util.Optional.empty(), java.util.Optional.empty(),
                        java.io.OutputStream.nullOutputStream())).isInstanceOf(ApiException.class);
                assertThatThrownBy(() -> storage.callVolume(TestStorage.ROOT, HttpVerb.GET, "local", input, Map.of()))
                        .isInstanceOf(ApiException.class);
                assertThatThrownBy(() -> storage.callVolume(TestStorage.ROOT, HttpVerb.DELETE, "local", input, Map.of()))
                        .isInstanceOf(ApiException.class);
            }
            case UPLOAD_NAME -> assertThatThrownBy(() -> storage.upload("local", Map.of("content", "iso"),
                    new Upload(input, "application/octet-stream", new ByteArrayInputStream("payload".getBytes(StandardCharsets.UTF_8)))))
                    .isInstanceOf(ApiException.class);
            case DOWNLOAD_URL -> assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/nodes/pve1/storage/local/download-url",
                    Map.of("url", input, "content", "iso", "filename", "fine.iso")))
                    .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("url"));
            case DOWNLOAD_NAME -> assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/nodes/pve1/storage/local/download-url",
                    Map.of("url", "https://93.184.215.14/a.iso", "content", "iso", "filename", input)))
                    .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("filename"));
        }
        assertThat(snapshot(dir)).isEqualTo(before);
        assertThat(storage.tasks().list(org.corral.core.task.TaskFilter.defaults()
                .withSource(org.corral.core.task.TaskFilter.Source.ALL)).tasks()).isEmpty();
    }

    @ParameterizedTest(name = "listing skips {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"iso", "images", "vztmpl"})
    void listingsNeverFollowLinksOut(String content) {
        List<VolumeInfo> volumes = storage.service().list("local", java.util.Optional.empty(), ContentType.byName(content));

        assertThat(volumes).isEmpty();
    }
}
