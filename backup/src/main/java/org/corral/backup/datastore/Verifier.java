package org.corral.backup.datastore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.node.ObjectNode;

/**
 * Re-reads every chunk a snapshot references and recomputes its digest (or, without the key, checks an encrypted
 * chunk's CRC), checks every index and blob against the manifest, and records the result in the manifest's
 * {@code unprotected.verify-state}. Chunks already checked in the same run are not read twice.
 */
final class Verifier {
    private static final HexFormat HEX = HexFormat.of();

    private final Datastore store;
    private final Map<String, Boolean> checked = new ConcurrentHashMap<>();

    Verifier(Datastore store) {
        this.store = store;
    }

    List<VerifyResult> verify(List<SnapshotId> snapshots) throws IOException {
        List<VerifyResult> results = new ArrayList<>();
        for (SnapshotId snapshot : snapshots) {
            results.add(verifyOne(snapshot));
        }
        return results;
    }

    private VerifyResult verifyOne(SnapshotId snapshot) throws IOException {
        Manifest manifest = store.manifest(snapshot);
        Path dir = snapshot.dir(store.path());
        List<String> errors = new ArrayList<>();
        Set<String> bad = new TreeSet<>();
        CryptKey key = store.key();
        boolean keyless = manifest.encrypted() && (key == null || !key.fingerprint().equals(manifest.keyFingerprint().orElseThrow()));
        if (manifest.encrypted() && !keyless) {
            try {
                manifest.checkSignature(key);
            } catch (IOException e) {
                errors.add(e.getMessage());
            }
        }
        Map<String, byte[]> digests = new LinkedHashMap<>();
        for (Manifest.FileEntry entry : manifest.files()) {
            Path file = dir.resolve(entry.filename());
            if (entry.filename().endsWith(".blob")) {
                try {
                    if (!HEX.formatHex(FixedIndex.sha256().digest(Files.readAllBytes(file))).equals(entry.csum())) {
                        errors.add(entry.filename() + ": checksum does not match the manifest");
                    }
                } catch (NoSuchFileException e) {
                    errors.add(entry.filename() + ": missing");
                }
                continue;
            }
            ChunkIndex index;
            try {
                index = ChunkIndex.read(file);
            } catch (IOException e) {
                errors.add(entry.filename() + ": " + e.getMessage());
                continue;
            }
            if (!HEX.formatHex(index.csum()).equals(entry.csum())) {
                errors.add(entry.filename() + ": index checksum does not match the manifest");
            }
            for (int i = 0; i < index.chunkCount(); i++) {
                digests.putIfAbsent(HEX.formatHex(index.digest(i)), index.digest(i));
            }
        }
        List<byte[]> list = new ArrayList<>(digests.values());
        AtomicInteger count = new AtomicInteger();
        CryptKey codecKey = keyless ? null : (manifest.encrypted() ? key : null);
        Parallel.forEach("verify", list.size(), store.options().threads(), () -> new ChunkCodec(codecKey, false), (codec, i) -> {
            byte[] digest = list.get(i);
            String hex = HEX.formatHex(digest);
            Boolean known = checked.get(hex);
            boolean good = known != null ? known : checkChunk(codec, digest, keyless);
            checked.put(hex, good);
            count.incrementAndGet();
            if (!good) {
                synchronized (bad) {
                    bad.add(hex);
                }
            }
        });
        for (String hex : bad) {
            errors.add("chunk " + hex + " is missing or corrupt");
        }
        boolean ok = errors.isEmpty();
        ObjectNode state = manifest.unprotected().putObject("verify-state");
        state.put("state", ok ? "ok" : "failed");
        state.put("last-verified", Instant.now().getEpochSecond());
        manifest.write(dir);
        return new VerifyResult(snapshot, ok, count.get(), List.copyOf(bad), errors, keyless);
    }

    private boolean checkChunk(ChunkCodec codec, byte[] digest, boolean keyless) throws IOException {
        ChunkStore chunks = store.chunks();
        byte[] blob;
        try {
            blob = chunks.read(digest);
        } catch (NoSuchFileException e) {
            return false;
        }
        boolean good;
        if (keyless && ChunkCodec.isEncrypted(blob)) {
            good = codec.crcOk(blob);
        } else {
            try {
                byte[] data = codec.decode(blob, digest);
                good = Arrays.equals(codec.digest(data, 0, data.length), digest);
            } catch (CorruptBlobException e) {
                good = false;
            }
        }
        if (!good) {
            chunks.quarantine(digest);
        }
        return good;
    }
}
