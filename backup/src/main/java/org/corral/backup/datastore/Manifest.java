package org.corral.backup.datastore;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.corral.core.json.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A snapshot's manifest, {@code index.json}, written last: a snapshot directory without one is incomplete.
 * It lists every archive with its size and checksum; when encrypted it names the key fingerprint and carries an
 * HMAC signature over everything but the {@code unprotected} part (verify state, notes), which may change later.
 */
public final class Manifest {
    public static final String FILE = "index.json";

    public enum CryptMode {
        NONE("none"), ENCRYPT("encrypt");

        private final String json;

        CryptMode(String json) {
            this.json = json;
        }

        public String json() {
            return json;
        }

        static CryptMode of(String json) {
            for (CryptMode mode : values()) {
                if (mode.json.equals(json)) {
                    return mode;
                }
            }
            throw new IllegalArgumentException("unknown crypt-mode '" + json + "'");
        }
    }

    /** One archive: {@code drive-scsi0.img.fidx} (size = image size, csum = index csum) or {@code qemu-server.conf.blob}. */
    public record FileEntry(String filename, long size, String csum, CryptMode cryptMode) {
        public FileEntry {
            requireNonNull(filename, "filename is null");
            requireNonNull(csum, "csum is null");
            requireNonNull(cryptMode, "cryptMode is null");
        }
    }

    private final ObjectNode json;

    private Manifest(ObjectNode json) {
        this.json = json;
    }

    static Manifest create(SnapshotId snapshot, List<FileEntry> files, CryptKey key) {
        ObjectNode json = Json.object();
        json.put("backup-type", snapshot.type());
        json.put("backup-id", snapshot.id());
        json.put("backup-time", snapshot.time().getEpochSecond());
        ArrayNode array = json.putArray("files");
        for (FileEntry file : files) {
            ObjectNode entry = array.addObject();
            entry.put("filename", file.filename());
            entry.put("size", file.size());
            entry.put("csum", file.csum());
            entry.put("crypt-mode", file.cryptMode().json());
        }
        if (key != null) {
            json.put("key-fingerprint", key.fingerprint());
            json.put("signature", HexFormat.of().formatHex(sign(json, key)));
        }
        json.putObject("unprotected");
        return new Manifest(json);
    }

    static Manifest read(Path snapshotDir) throws IOException {
        byte[] bytes = Files.readAllBytes(snapshotDir.resolve(FILE));
        try {
            JsonNode node = Json.read(bytes);
            if (!(node instanceof ObjectNode object) || !object.has("files")) {
                throw new IOException(snapshotDir.resolve(FILE) + " is not a manifest");
            }
            return new Manifest(object);
        } catch (RuntimeException e) {
            throw new IOException(snapshotDir.resolve(FILE) + " is not valid JSON", e);
        }
    }

    /** Writes the manifest atomically (temp file, fsync, rename, fsync of the directory). */
    void write(Path snapshotDir) throws IOException {
        Path tmp = snapshotDir.resolve(FILE + ".tmp");
        Files.write(tmp, Json.writeBytes(json));
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(tmp, snapshotDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(snapshotDir, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    public List<FileEntry> files() {
        List<FileEntry> files = new ArrayList<>();
        for (JsonNode entry : json.path("files")) {
            files.add(new FileEntry(entry.path("filename").asString(), entry.path("size").asLong(), entry.path("csum").asString(),
                    CryptMode.of(entry.path("crypt-mode").asString("none"))));
        }
        return files;
    }

    public Optional<FileEntry> file(String filename) {
        return files().stream().filter(f -> f.filename().equals(filename)).findFirst();
    }

    public Optional<String> keyFingerprint() {
        return json.has("key-fingerprint") ? Optional.of(json.get("key-fingerprint").asString()) : Optional.empty();
    }

    public boolean encrypted() {
        return keyFingerprint().isPresent();
    }

    /** Checks the signature with the key; a manifest altered on disk fails. */
    void checkSignature(CryptKey key) throws IOException {
        String stored = json.path("signature").asString("");
        if (!HexFormat.of().formatHex(sign(json, key)).equals(stored)) {
            throw new IOException("manifest signature does not match: the manifest was altered or the key is wrong");
        }
    }

    /** The part that may change after the backup: {@code verify-state}, {@code notes}. */
    public ObjectNode unprotected() {
        JsonNode node = json.get("unprotected");
        if (node instanceof ObjectNode object) {
            return object;
        }
        return json.putObject("unprotected");
    }

    public Optional<String> verifyState() {
        JsonNode state = unprotected().path("verify-state").path("state");
        return state.isMissingNode() ? Optional.empty() : Optional.of(state.asString());
    }

    private static byte[] sign(ObjectNode json, CryptKey key) {
        ObjectNode signed = json.deepCopy();
        signed.remove("unprotected");
        signed.remove("signature");
        var mac = key.newIdMac();
        mac.update("corral manifest signature".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return mac.doFinal(Json.writeBytes(signed));
    }
}
