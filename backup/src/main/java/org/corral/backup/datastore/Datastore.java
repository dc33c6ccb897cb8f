package org.corral.backup.datastore;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.corral.backup.RestoreSink;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.io.FileTrees;

/**
 * A deduplicating datastore in a directory, in the layout of Proxmox Backup Server:
 * <pre>
 *   .chunks/&lt;4 hex&gt;/&lt;sha256 hex&gt;        chunk blobs (see {@link ChunkCodec})
 *   &lt;type&gt;/&lt;id&gt;/&lt;RFC 3339 time&gt;/          a complete snapshot: *.fidx, *.blob, index.json, maybe .protected
 *   &lt;type&gt;/&lt;id&gt;/.tmp-&lt;time&gt;~&lt;token&gt;/     a snapshot being written (or left by a killed writer)
 *   &lt;type&gt;/&lt;id&gt;/.lock-&lt;token&gt;-&lt;start&gt;   that writer's lock
 * </pre>
 * A handle carries the optional encryption key (client-side: the directory itself holds no key) and its options.
 * Open one handle per directory per process where you can; several work, sharing their chunk locks.
 */
public final class Datastore implements AutoCloseable {
    static final String TMP_PREFIX = ".tmp-";
    static final String PROTECTED = ".protected";
    private static final String MARKER = ".corral-datastore";

    private final Path path;
    private final CryptKey key;
    private final DatastoreOptions options;
    private final ChunkStore chunks;

    private Datastore(Path path, CryptKey key, DatastoreOptions options) throws IOException {
        this.path = path;
        this.key = key;
        this.options = options;
        this.chunks = new ChunkStore(path);
    }

    /** Creates a datastore in an empty or missing directory. */
    public static Datastore create(Path path, CryptKey key, DatastoreOptions options) throws IOException {
        requireNonNull(path, "path is null");
        Files.createDirectories(path);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
            if (entries.iterator().hasNext()) {
                throw new IOException("cannot create a datastore in " + path + ": the directory is not empty");
            }
        }
        Files.writeString(path.resolve(MARKER), "{\"created\":\"" + Instant.now() + "\"}\n");
        return new Datastore(path, key, requireNonNull(options, "options is null"));
    }

    /** Opens an existing datastore; {@code key} may be null (then encrypted snapshots can be listed and GC'd, not restored). */
    public static Datastore open(Path path, CryptKey key, DatastoreOptions options) throws IOException {
        requireNonNull(path, "path is null");
        if (!Files.exists(path.resolve(MARKER))) {
            throw new NoSuchFileException(path + " is not a datastore (no " + MARKER + ")");
        }
        return new Datastore(path, key, requireNonNull(options, "options is null"));
    }

    public Path path() {
        return path;
    }

    CryptKey key() {
        return key;
    }

    public Optional<String> keyFingerprint() {
        return key == null ? Optional.empty() : Optional.of(key.fingerprint());
    }

    public DatastoreOptions options() {
        return options;
    }

    ChunkStore chunks() {
        return chunks;
    }

    /** Starts a new snapshot; fails when one with the same time exists. */
    public BackupWriter startBackup(String type, String id, Instant time) throws IOException {
        return new BackupWriter(this, new SnapshotId(type, id, time));
    }

    /** All snapshots, complete ones and those being written or left behind, sorted by group then time. */
    public List<SnapshotInfo> listSnapshots() throws IOException {
        List<SnapshotInfo> out = new ArrayList<>();
        for (String type : SnapshotId.TYPES.stream().sorted().toList()) {
            Path typeDir = path.resolve(type);
            if (!Files.isDirectory(typeDir)) {
                continue;
            }
            for (Path groupDir : sortedChildren(typeDir)) {
                if (groupDir.getFileName().toString().startsWith(".")) {
                    continue;
                }
                out.addAll(listGroup(type, groupDir.getFileName().toString()));
            }
        }
        return out;
    }

    /** The snapshots of one group ({@code vm/100}), oldest first. */
    public List<SnapshotInfo> listGroup(String type, String id) throws IOException {
        Path groupDir = path.resolve(type).resolve(id);
        List<SnapshotInfo> out = new ArrayList<>();
        if (!Files.isDirectory(groupDir)) {
            return out;
        }
        for (Path dir : sortedChildren(groupDir)) {
            String name = dir.getFileName().toString();
            if (name.startsWith(TMP_PREFIX)) {
                int tilde = name.lastIndexOf('~');
                if (tilde < 0) {
                    continue;
                }
                SnapshotId snapshot;
                try {
                    snapshot = new SnapshotId(type, id, Instant.parse(name.substring(TMP_PREFIX.length(), tilde)));
                } catch (RuntimeException e) {
                    continue;
                }
                boolean live = WriterLocks.liveWriterStart(groupDir, name.substring(tilde + 1)).isPresent();
                out.add(new SnapshotInfo(snapshot, false, live, false, Optional.empty()));
            } else if (!name.startsWith(".") && Files.isDirectory(dir)) {
                SnapshotId snapshot;
                try {
                    snapshot = new SnapshotId(type, id, Instant.parse(name));
                } catch (RuntimeException e) {
                    continue;
                }
                if (!Files.exists(dir.resolve(Manifest.FILE))) {
                    out.add(new SnapshotInfo(snapshot, false, false, false, Optional.empty()));
                    continue;
                }
                Optional<String> verify = Manifest.read(dir).verifyState();
                out.add(new SnapshotInfo(snapshot, true, false, Files.exists(dir.resolve(PROTECTED)), verify));
            }
        }
        out.sort((a, b) -> a.id().time().compareTo(b.id().time()));
        return out;
    }

    public Manifest manifest(SnapshotId snapshot) throws IOException {
        Path dir = snapshot.dir(path);
        if (!Files.exists(dir.resolve(Manifest.FILE))) {
            throw new NotFound("snapshot " + snapshot + " does not exist or is not complete");
        }
        return Manifest.read(dir);
    }

    public boolean isProtected(SnapshotId snapshot) {
        return Files.exists(snapshot.dir(path).resolve(PROTECTED));
    }

    /** Protects a snapshot from prune and delete, or lifts that. */
    public void setProtected(SnapshotId snapshot, boolean on) throws IOException {
        manifest(snapshot);
        Path marker = snapshot.dir(path).resolve(PROTECTED);
        if (on) {
            if (!Files.exists(marker)) {
                Files.createFile(marker);
            }
        } else {
            Files.deleteIfExists(marker);
        }
    }

    /** The snapshot's notes, kept in the manifest's unprotected part as Proxmox Backup Server keeps them. */
    public Optional<String> notes(SnapshotId snapshot) throws IOException {
        String notes = manifest(snapshot).unprotected().path("notes").asString("");
        return notes.isEmpty() ? Optional.empty() : Optional.of(notes);
    }

    /** Sets the snapshot's notes; empty removes them. The signed part of the manifest is untouched. */
    public void setNotes(SnapshotId snapshot, String notes) throws IOException {
        Manifest manifest = manifest(snapshot);
        if (notes.isEmpty()) {
            manifest.unprotected().remove("notes");
        } else {
            manifest.unprotected().put("notes", notes);
        }
        manifest.write(snapshot.dir(path));
    }

    /** Deletes a complete snapshot (its chunks go with the next GC); refused for a protected one. */
    public void deleteSnapshot(SnapshotId snapshot) throws IOException {
        manifest(snapshot);
        if (isProtected(snapshot)) {
            throw new Conflict("snapshot " + snapshot + " is protected");
        }
        Path dir = snapshot.dir(path);
        // rename first so that a half-deleted snapshot never shows under its name
        Path doomed = dir.resolveSibling(TMP_PREFIX + "deleted-" + snapshot.timeString() + "~" + WriterLocks.newToken());
        Files.move(dir, doomed, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        FileTrees.deleteTree(doomed);
    }

    /** Reads back a blob archive ({@code qemu-server.conf}) of a snapshot, checked against the manifest. */
    public byte[] readBlob(SnapshotId snapshot, String name) throws IOException {
        return new Restorer(this).readBlob(snapshot, name);
    }

    /** Restores an image archive ({@code drive-scsi0.img}) to a sink, verifying every chunk on the way. */
    public RestoreResult restoreImage(SnapshotId snapshot, String archive, RestoreSink sink) throws IOException {
        return new Restorer(this).restoreImage(snapshot, archive, sink);
    }

    /** Writes a file archive ({@code root.tar.didx}) of a snapshot to {@code out}, verifying every chunk; answers its size. */
    public long restoreFile(SnapshotId snapshot, String archive, java.io.OutputStream out) throws IOException {
        try (java.io.InputStream in = openFile(snapshot, archive)) {
            return in.transferTo(out);
        }
    }

    /**
     * A file archive of a snapshot as a stream, each chunk verified as it is read. The stream needs this datastore
     * open while it is read.
     */
    public java.io.InputStream openFile(SnapshotId snapshot, String archive) throws IOException {
        return new Restorer(this).openFile(snapshot, archive);
    }

    public VerifyResult verify(SnapshotId snapshot) throws IOException {
        return new Verifier(this).verify(List.of(snapshot)).getFirst();
    }

    public List<VerifyResult> verifyAll() throws IOException {
        List<SnapshotId> complete = listSnapshots().stream().filter(SnapshotInfo::complete).map(SnapshotInfo::id).toList();
        return new Verifier(this).verify(complete);
    }

    /** Garbage collection: removes abandoned partial snapshots, then chunks nothing references that are older than {@code grace}. */
    public GcResult garbageCollect(Duration grace) throws IOException {
        return new GarbageCollector(this).run(grace);
    }

    /** Prunes one group by Proxmox's keep rules; with {@code dryRun} only reports. Times are bucketed in {@code zone}. */
    public List<Prune.Decision> prune(String type, String id, Prune.Options keep, boolean dryRun, ZoneId zone) throws IOException {
        List<SnapshotInfo> group = listGroup(type, id);
        List<Prune.Decision> decisions = Prune.compute(group.stream()
                .filter(s -> !s.inProgress())
                .map(s -> new Prune.Candidate(s.id(), s.complete(), s.isProtected()))
                .toList(), keep, zone);
        if (!dryRun) {
            for (Prune.Decision decision : decisions) {
                if (decision.mark() == Prune.Mark.REMOVE) {
                    if (decision.snapshot().complete()) {
                        deleteSnapshot(decision.snapshot().id());
                    } else {
                        FileTrees.deleteTree(decision.snapshot().id().dir(path));
                    }
                }
            }
        }
        return decisions;
    }

    static List<Path> sortedChildren(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            entries.forEach(out::add);
        } catch (NoSuchFileException e) {
            return out;
        }
        out.sort(null);
        return out;
    }

    static void syncDir(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    @Override
    public void close() throws IOException {
        chunks.close();
    }
}
