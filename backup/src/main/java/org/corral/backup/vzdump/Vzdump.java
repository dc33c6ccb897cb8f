package org.corral.backup.vzdump;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.corral.backup.datastore.BackupWriter;
import org.corral.backup.datastore.CryptKey;
import org.corral.backup.datastore.Datastore;
import org.corral.backup.datastore.DatastorePlugin;
import org.corral.backup.datastore.FastCdc;
import org.corral.backup.datastore.Prune;
import org.corral.backup.datastore.SnapshotId;
import org.corral.core.guest.DiskImageGuest;
import org.corral.core.guest.FileTreeGuest;
import org.corral.core.guest.GuestDriver;
import org.corral.core.io.FileTrees;
import org.corral.core.node.Node;
import org.corral.core.task.TaskContext;
import org.corral.core.task.TaskManager;
import org.corral.core.task.TaskStoppedException;
import org.corral.storage.ContentType;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code vzdump} jobs on one node: each guest in turn is locked with {@code lock: backup},
 * stopped, frozen or snapshotted per the mode, archived into the storage's {@code dump/}
 * directory with its {@code .log} (and {@code .notes}) beside it, then pruned per the retention.
 * A guest that fails is logged and the job goes on; the job then ends with {@code job errors}.
 */
public final class Vzdump {
    private static final Logger log = LoggerFactory.getLogger(Vzdump.class);
    static final String SNAPSHOT_NAME = "vzdump";
    private static final DateTimeFormatter NAME_TIME = DateTimeFormatter.ofPattern("yyyy_MM_dd-HH_mm_ss");
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private final Node node;
    private final StorageService storage;
    private final TaskManager tasks;
    private final Clock clock;
    private final Map<String, GuestDriver> drivers = new LinkedHashMap<>();
    private final Supplier<Optional<String>> clusterName;
    private volatile FastCdc.Sizes chunkSizes = FastCdc.Sizes.DEFAULT;
    /** A container backup's archives in a datastore, as Proxmox names them for PBS (the stream here is tar, not pxar). */
    static final String ROOT_ARCHIVE = "root.tar";
    static final String CONFIG_BLOB = "pct.conf";
    static final String LOG_BLOB = "client.log";

    public Vzdump(Node node, StorageService storage, TaskManager tasks, Clock clock, List<GuestDriver> drivers,
            Supplier<Optional<String>> clusterName) {
        this.node = requireNonNull(node, "node is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
        this.clock = requireNonNull(clock, "clock is null");
        for (GuestDriver driver : drivers) {
            this.drivers.put(driver.type(), driver);
        }
        this.clusterName = requireNonNull(clusterName, "clusterName is null");
    }

    /** The chunk sizes of container archives written into a datastore (FastCDC: 1, 4 and 16 MiB unless changed). */
    public void chunkSizes(FastCdc.Sizes sizes) {
        this.chunkSizes = requireNonNull(sizes, "sizes is null");
    }

    public Node node() {
        return node;
    }

    public StorageService storage() {
        return storage;
    }

    /** The driver of the guest {@code vmid} on this node. */
    public Optional<GuestDriver> driverOf(int vmid) {
        return drivers.values().stream().filter(d -> d.exists(vmid)).findFirst();
    }

    /** Every guest of this node, ascending. */
    public List<Integer> allGuests() {
        return drivers.values().stream().flatMap(d -> d.list().stream()).sorted().toList();
    }

    /** Starts the job as a {@code vzdump} task; answers its UPID. */
    public String start(VzdumpJob job, String user) {
        String id = job.vmids().size() == 1 ? Integer.toString(job.vmids().getFirst()) : "";
        return tasks.start("vzdump", id, user, ctx -> run(job, ctx)).format();
    }

    private void run(VzdumpJob job, TaskContext ctx) {
        // as Proxmox logs the call: the guests first, then every option given
        StringBuilder args = new StringBuilder("vzdump");
        Optional.ofNullable(job.settings().get("vmid")).ifPresent(v -> args.append(' ').append(v));
        job.settings().entrySet().stream().filter(e -> !e.getKey().equals("vmid")).sorted(Map.Entry.comparingByKey())
                .forEach(e -> args.append(" --").append(e.getKey()).append(' ').append(e.getValue()));
        info(ctx, null, "starting new backup job: " + args);
        List<Integer> failed = new ArrayList<>();
        for (int vmid : job.vmids()) {
            ctx.checkStopped();
            try {
                backup(job, vmid, ctx);
            } catch (TaskStoppedException e) {
                throw e;
            } catch (Exception e) {
                failed.add(vmid);
                ctx.log("ERROR: Backup of VM " + vmid + " failed - " + message(e));
                log.info("Backup of {} failed", vmid, e);
            }
        }
        if (!failed.isEmpty()) {
            throw new IllegalStateException("job errors");
        }
        info(ctx, null, "Backup job finished successfully");
    }

    private static String message(Exception e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.strip();
    }

    /** Logs {@code INFO: line} to the task and, with the time in front, to the guest's own log. */
    private void info(TaskContext ctx, List<String> guestLog, String line) {
        ctx.log("INFO: " + line);
        if (guestLog != null) {
            guestLog.add(LocalDateTime.now(clock).format(LOG_TIME) + " INFO: " + line);
        }
    }

    private void backup(VzdumpJob job, int vmid, TaskContext ctx) throws IOException {
        GuestDriver driver = driverOf(vmid).orElseThrow(() -> new IllegalStateException("unable to find VM '" + vmid + "'"));
        Instant started = clock.instant();
        LocalDateTime local = LocalDateTime.ofInstant(started, clock.getZone());
        String base = "vzdump-" + driver.type() + "-" + vmid + "-" + local.format(NAME_TIME);
        List<String> guestLog = new ArrayList<>();
        info(ctx, guestLog, "Starting Backup of VM " + vmid + " (" + driver.type() + ")");
        info(ctx, guestLog, "Backup started at " + local.format(LOG_TIME));
        if (isDatastore(job.storage())) {
            if (!(driver instanceof FileTreeGuest guest)) {
                throw new IllegalStateException("backup of '" + driver.type() + "' guests into a datastore is not supported by Corral yet");
            }
            try (DatastoreTarget target = new DatastoreTarget(job, vmid, started)) {
                backupTree(job, guest, vmid, target, guestLog, ctx);
            }
            long secs = Duration.between(started, clock.instant()).toSeconds();
            info(ctx, null, String.format("Finished Backup of VM %d (%02d:%02d:%02d)", vmid, secs / 3600, secs / 60 % 60, secs % 60));
            info(ctx, null, "Backup finished at " + LocalDateTime.now(clock).format(LOG_TIME));
            return;
        }
        Path dumpDir = storage.contentDirectory(job.storage(), ContentType.BACKUP);
        Files.createDirectories(dumpDir);
        if (driver instanceof DiskImageGuest vm) {
            backupVm(job, vm, vmid, base, dumpDir, guestLog, ctx);
        } else if (driver instanceof FileTreeGuest guest) {
            backupTree(job, guest, vmid, new FileTarget(job, dumpDir, base), guestLog, ctx);
        } else {
            throw new IllegalStateException("backup of '" + driver.type() + "' guests is not supported by Corral yet");
        }
        long secs = Duration.between(started, clock.instant()).toSeconds();
        info(ctx, guestLog, String.format("Finished Backup of VM %d (%02d:%02d:%02d)", vmid, secs / 3600, secs / 60 % 60, secs % 60));
        info(ctx, guestLog, "Backup finished at " + LocalDateTime.now(clock).format(LOG_TIME));
        Files.write(dumpDir.resolve(base + ".log"), guestLog);
    }

    /** A VM in stop mode: shut down, its disks copied whole, started again if it ran. */
    private void backupVm(VzdumpJob job, DiskImageGuest vm, int vmid, String base, Path dumpDir, List<String> guestLog, TaskContext ctx)
            throws IOException {
        String archiveName = base + ".tar" + job.compression().suffix();
        Path archive = dumpDir.resolve(archiveName);
        Path partial = dumpDir.resolve(archiveName + ".dat");
        vm.lock(vmid, "backup");
        boolean restart = false;
        // the raw copies of the disks need room like the archive's, so they go beside it
        Path work = dumpDir.resolve(base + ".tmp");
        try {
            Files.createDirectory(work);
            boolean running = vm.isRunning(vmid);
            info(ctx, guestLog, "status = " + (running ? "running" : "stopped"));
            if (running && job.mode() != VzdumpJob.Mode.STOP) {
                throw new IllegalStateException("mode '" + job.mode().apiName() + "' for a running VM is not supported by Corral yet - use mode 'stop'");
            }
            vm.name(vmid).ifPresent(n -> info(ctx, guestLog, "VM Name: " + n));
            List<DiskImageGuest.DiskImage> disks = vm.backupDisks(vmid);
            for (DiskImageGuest.DiskImage d : disks) {
                info(ctx, guestLog, "include disk '" + d.key() + "' '" + d.volid() + "'");
            }
            info(ctx, guestLog, "backup mode: stop");
            String configText = vm.configText(vmid);
            if (running) {
                info(ctx, guestLog, "stopping virtual guest");
                vm.stop(vmid, Duration.ofMinutes(job.stopwaitMinutes()), ctx);
                restart = true;
            }
            info(ctx, guestLog, "creating vzdump archive '" + archive + "'");
            long t0 = System.nanoTime();
            TarArchive.Written written = TarArchive.createVm(configText, disks, job.compression(), job.zstdThreads(),
                    job.bwlimitKiB() * 1024, partial, work, ctx);
            double seconds = Math.max(0.001, (System.nanoTime() - t0) / 1e9);
            info(ctx, guestLog, written.totals().strip() + String.format(" (%s, %s/s)", human(written.tarBytes()),
                    human((long) (written.tarBytes() / seconds))));
            if (restart) {
                info(ctx, guestLog, "restarting vm");
                restart = false;
                vm.start(vmid, ctx);
            }
            Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE);
            info(ctx, guestLog, "archive file size: " + human(Files.size(archive)));
            finish(job, vm, vmid, job.storage() + ":backup/" + archiveName, guestLog, ctx);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        } finally {
            if (restart) {
                try {
                    info(ctx, guestLog, "restarting vm");
                    vm.start(vmid, ctx);
                } catch (RuntimeException e) {
                    ctx.warn("could not start VM %d again: %s", vmid, e.getMessage());
                }
            }
            vm.unlock(vmid, "backup");
            deleteTree(work);
        }
    }

    /** What follows a written archive: its size, notes, protection and the pruning of older ones. */
    private void finish(VzdumpJob job, GuestDriver guest, int vmid, String volid, List<String> guestLog, TaskContext ctx) {
        if (job.notesTemplate().isPresent()) {
            info(ctx, guestLog, "adding notes to backup");
            storage.setNotes(volid, notes(job.notesTemplate().get(), vmid, guest.name(vmid)));
        }
        if (job.protect()) {
            info(ctx, guestLog, "marking backup as protected");
            storage.setProtected(volid, true);
        }
        if (job.remove() && !job.retention().isEmpty()) {
            prune(job, vmid, guest.type(), ctx, guestLog);
        }
    }

    private void backupTree(VzdumpJob job, FileTreeGuest guest, int vmid, TreeTarget target, List<String> guestLog,
            TaskContext ctx) throws IOException {
        guest.lock(vmid, "backup");
        Path work;
        try {
            work = Files.createTempDirectory(node.runDir(), "vzdump-" + vmid + "-");
        } catch (IOException | RuntimeException e) {
            guest.unlock(vmid, "backup");
            throw e;
        }
        boolean restart = false;
        boolean frozen = false;
        boolean snapshotTaken = false;
        try {
            boolean running = guest.isRunning(vmid);
            info(ctx, guestLog, "status = " + (running ? "running" : "stopped"));
            guest.name(vmid).ifPresent(n -> info(ctx, guestLog, "CT Name: " + n));
            List<FileTreeGuest.TreeVolume> volumes = guest.backupVolumes(vmid, Optional.empty());
            for (FileTreeGuest.TreeVolume v : volumes) {
                info(ctx, guestLog, "including mount point " + v.key() + " ('" + v.guestPath() + "') in backup");
            }
            VzdumpJob.Mode mode = running ? job.mode() : VzdumpJob.Mode.STOP;
            if (mode == VzdumpJob.Mode.SNAPSHOT && !guest.canSnapshot(vmid)) {
                info(ctx, guestLog, "mode failure - some volumes do not support snapshots");
                info(ctx, guestLog, "trying 'suspend' mode instead");
                mode = VzdumpJob.Mode.SUSPEND;
            }
            info(ctx, guestLog, "backup mode: " + mode.apiName());
            info(ctx, guestLog, "ionice priority: " + job.ionice());
            String configText = guest.configText(vmid);
            Path source = volumes.getFirst().hostPath();
            switch (mode) {
                case STOP -> {
                    if (running) {
                        info(ctx, guestLog, "stopping virtual guest");
                        guest.stop(vmid, Duration.ofMinutes(job.stopwaitMinutes()), ctx);
                        restart = true;
                    }
                }
                case SUSPEND -> {
                    info(ctx, guestLog, "suspending guest (cgroup freezer)");
                    guest.freeze(vmid);
                    frozen = true;
                }
                case SNAPSHOT -> {
                    // a snapshot left by a killed backup is in the way
                    try {
                        guest.deleteSnapshot(vmid, SNAPSHOT_NAME);
                    } catch (RuntimeException e) {
                        log.debug("No stale vzdump snapshot of {}: {}", vmid, e.getMessage());
                    }
                    info(ctx, guestLog, "create storage snapshot '" + SNAPSHOT_NAME + "'");
                    guest.freeze(vmid);
                    try {
                        guest.snapshot(vmid, SNAPSHOT_NAME);
                        snapshotTaken = true;
                    } finally {
                        guest.thaw(vmid);
                    }
                    source = guest.backupVolumes(vmid, Optional.of(SNAPSHOT_NAME)).getFirst().hostPath();
                }
            }
            info(ctx, guestLog, target.creating());
            long t0 = System.nanoTime();
            TarArchive.Written written = target.write(source, configText, guest.rootId(vmid), work, guestLog, ctx);
            double seconds = Math.max(0.001, (System.nanoTime() - t0) / 1e9);
            info(ctx, guestLog, written.totals().strip() + String.format(" (%s, %s/s)", human(written.tarBytes()),
                    human((long) (written.tarBytes() / seconds))));
            if (frozen) {
                info(ctx, guestLog, "resuming guest");
                guest.thaw(vmid);
                frozen = false;
            }
            if (restart) {
                info(ctx, guestLog, "restarting vm");
                guest.start(vmid, ctx);
                restart = false;
            }
            String volid = target.commit(guestLog, ctx);
            finish(job, guest, vmid, volid, guestLog, ctx);
        } catch (IOException | RuntimeException e) {
            target.abort();
            throw e;
        } finally {
            if (frozen) {
                thawQuietly(guest, vmid, ctx);
            }
            if (snapshotTaken) {
                info(ctx, guestLog, "cleanup temporary '" + SNAPSHOT_NAME + "' snapshot");
                try {
                    guest.deleteSnapshot(vmid, SNAPSHOT_NAME);
                } catch (RuntimeException e) {
                    ctx.warn("could not remove the '%s' snapshot of VM %d: %s", SNAPSHOT_NAME, vmid, e.getMessage());
                }
            }
            if (restart) {
                try {
                    info(ctx, guestLog, "restarting vm");
                    guest.start(vmid, ctx);
                } catch (RuntimeException e) {
                    ctx.warn("could not start VM %d again: %s", vmid, e.getMessage());
                }
            }
            guest.unlock(vmid, "backup");
            deleteTree(work);
        }
    }

    /** Where a container's tar stream goes: a vzdump file in {@code dump/}, or a snapshot in a datastore. */
    private interface TreeTarget {
        String creating();

        TarArchive.Written write(Path source, String configText, long rootId, Path work, List<String> guestLog, TaskContext ctx)
                throws IOException;

        /** Makes the written backup visible; answers its volume id. */
        String commit(List<String> guestLog, TaskContext ctx) throws IOException;

        void abort() throws IOException;
    }

    private final class FileTarget implements TreeTarget {
        private final VzdumpJob job;
        private final String archiveName;
        private final Path archive;
        private final Path partial;

        FileTarget(VzdumpJob job, Path dumpDir, String base) {
            this.job = job;
            this.archiveName = base + ".tar" + job.compression().suffix();
            this.archive = dumpDir.resolve(archiveName);
            this.partial = dumpDir.resolve(archiveName + ".dat");
        }

        @Override
        public String creating() {
            return "creating vzdump archive '" + archive + "'";
        }

        @Override
        public TarArchive.Written write(Path source, String configText, long rootId, Path work, List<String> guestLog, TaskContext ctx)
                throws IOException {
            return TarArchive.create(source, configText, rootId, job.stdexcludes(), job.compression(), job.zstdThreads(),
                    job.bwlimitKiB() * 1024, partial, work, ctx);
        }

        @Override
        public String commit(List<String> guestLog, TaskContext ctx) throws IOException {
            Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE);
            info(ctx, guestLog, "archive file size: " + human(Files.size(archive)));
            return job.storage() + ":backup/" + archiveName;
        }

        @Override
        public void abort() throws IOException {
            Files.deleteIfExists(partial);
        }
    }

    /**
     * A container into a datastore, as Proxmox backs one up to PBS: the tar stream as the file archive {@code root.tar}
     * cut by FastCDC (so an unchanged container stores no new chunks), {@code pct.conf} and the guest's log as blobs.
     */
    private final class DatastoreTarget implements TreeTarget, AutoCloseable {
        private final VzdumpJob job;
        private final Datastore store;
        private final BackupWriter writer;

        DatastoreTarget(VzdumpJob job, int vmid, Instant started) throws IOException {
            this.job = job;
            StorageConfig config = storage.usable(job.storage());
            CryptKey key = storage.privateFile(job.storage(), DatastorePlugin.KEY_SUFFIX).map(CryptKey::parse).orElse(null);
            this.store = DatastorePlugin.open(config, key);
            try {
                this.writer = store.startBackup("ct", Integer.toString(vmid), started.truncatedTo(ChronoUnit.SECONDS));
            } catch (IOException | RuntimeException e) {
                store.close();
                throw e;
            }
        }

        @Override
        public String creating() {
            return "creating Proxmox Backup Server archive 'ct/" + writer.snapshot().id() + "/" + writer.snapshot().timeString() + "'";
        }

        @Override
        public TarArchive.Written write(Path source, String configText, long rootId, Path work, List<String> guestLog, TaskContext ctx)
                throws IOException {
            writer.addBlob(CONFIG_BLOB, configText.getBytes(StandardCharsets.UTF_8));
            info(ctx, guestLog, "adding '" + CONFIG_BLOB + "' as '" + CONFIG_BLOB + ".blob'");
            BackupWriter.FileArchive archive = writer.openFileArchive(ROOT_ARCHIVE, chunkSizes);
            TarArchive.Written written;
            try {
                written = TarArchive.createStream(source, configText, rootId, job.stdexcludes(), job.bwlimitKiB() * 1024, archive, work, ctx);
                archive.close();
            } catch (IOException | RuntimeException e) {
                archive.abort();
                throw e;
            }
            BackupWriter.FileArchiveResult r = archive.result();
            info(ctx, guestLog, String.format("%s: had to store %d of %d chunks (%s archive, %s new on disk)", ROOT_ARCHIVE + ".didx",
                    r.newChunks(), r.chunks(), human(r.size()), human(r.bytesStored())));
            return written;
        }

        @Override
        public String commit(List<String> guestLog, TaskContext ctx) throws IOException {
            List<String> logText = new ArrayList<>(guestLog);
            writer.addBlob(LOG_BLOB, (String.join("\n", logText) + "\n").getBytes(StandardCharsets.UTF_8));
            SnapshotId id = writer.finish();
            String volid = job.storage() + ":" + DatastorePlugin.volname(id);
            info(ctx, guestLog, "stored backup '" + volid + "'");
            return volid;
        }

        @Override
        public void abort() throws IOException {
            writer.close();
        }

        @Override
        public void close() throws IOException {
            try {
                writer.close();
            } finally {
                store.close();
            }
        }
    }

    private boolean isDatastore(String storageId) {
        return storage.storage(storageId).type().equals(DatastorePlugin.TYPE);
    }

    private static void thawQuietly(GuestDriver guest, int vmid, TaskContext ctx) {
        try {
            guest.thaw(vmid);
        } catch (RuntimeException e) {
            ctx.warn("could not resume VM %d: %s", vmid, e.getMessage());
        }
    }

    /** The notes from vzdump's template: {@code {{cluster}}}, {@code {{guestname}}}, {@code {{node}}}, {@code {{vmid}}}; {@code \n} and {@code \\} escapes. */
    String notes(String template, int vmid, Optional<String> guestName) {
        Map<String, String> vars = new TreeMap<>();
        vars.put("cluster", clusterName.get().orElse(""));
        vars.put("guestname", guestName.orElse("VM " + vmid));
        vars.put("node", node.name());
        vars.put("vmid", Integer.toString(vmid));
        return expand(template, vars);
    }

    /** Replaces {@code {{name}}} by its value (unknown names stay) and undoes the {@code \n} and {@code \\} escapes. */
    static String expand(String template, Map<String, String> vars) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c == '\\' && i + 1 < template.length()) {
                char next = template.charAt(++i);
                out.append(next == 'n' ? "\n" : next == '\\' ? "\\" : "\\" + next);
            } else if (c == '{' && template.startsWith("{{", i)) {
                int end = template.indexOf("}}", i);
                String name = end < 0 ? null : template.substring(i + 2, end);
                if (name != null && vars.containsKey(name)) {
                    out.append(vars.get(name));
                    i = end + 1;
                } else {
                    out.append(c);
                }
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private void prune(VzdumpJob job, int vmid, String type, TaskContext ctx, List<String> guestLog) {
        String keep = job.retention().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + "=" + e.getValue()).reduce((a, b) -> a + "," + b).orElse("");
        info(ctx, guestLog, "prune older backups with retention: " + keep);
        ZoneId zone = clock.getZone();
        Map<SnapshotId, VolumeInfo> byId = new LinkedHashMap<>();
        boolean datastore = isDatastore(job.storage());
        String groupType = type.equals("qemu") ? "vm" : "ct";
        for (VolumeInfo info : storage.list(job.storage(), Optional.of(vmid), Optional.of(ContentType.BACKUP))) {
            if (datastore) {
                SnapshotId id = DatastorePlugin.snapshot(info.volname());
                if (id.type().equals(groupType)) {
                    byId.put(id, info);
                }
                continue;
            }
            String name = info.volname().substring(info.volname().lastIndexOf('/') + 1);
            Optional<VolumeNames.BackupName> parsed = VolumeNames.backupName(name);
            if (parsed.isEmpty() || !parsed.get().subtype().equals(type)) {
                continue;
            }
            byId.put(new SnapshotId(type.equals("qemu") ? "vm" : "ct", Integer.toString(vmid),
                    parsed.get().time().atZone(zone).toInstant()), info);
        }
        List<Prune.Candidate> candidates = byId.entrySet().stream()
                .map(e -> new Prune.Candidate(e.getKey(), true, e.getValue().isProtected())).toList();
        Map<String, Integer> r = job.retention();
        Prune.Options options = new Prune.Options(r.get("keep-last"), r.get("keep-hourly"), r.get("keep-daily"), r.get("keep-weekly"),
                r.get("keep-monthly"), r.get("keep-yearly"));
        int removed = 0;
        for (Prune.Decision d : Prune.compute(candidates, options, zone)) {
            if (d.mark() != Prune.Mark.REMOVE) {
                continue;
            }
            String volid = job.storage() + ":" + byId.get(d.snapshot().id()).volname();
            info(ctx, guestLog, "removing backup '" + volid + "'");
            storage.free(volid);
            removed++;
        }
        info(ctx, guestLog, "pruned " + removed + " backup(s) not covered by keep-retention policy");
    }

    /**
     * The container archive's tar stream of a backup kept in a datastore ({@code ID:backup/ct/VMID/TIME}), each chunk
     * verified as it is read; empty for a backup that is a file. Closing the stream closes the datastore.
     */
    public Optional<java.io.InputStream> openContainerArchive(String volid) throws IOException {
        var resolved = storage.resolve(volid);
        String storageId = resolved.id().storage();
        if (!isDatastore(storageId)) {
            return Optional.empty();
        }
        SnapshotId id = DatastorePlugin.snapshot(resolved.volume().volname());
        if (!id.type().equals("ct")) {
            throw new IllegalArgumentException("'" + volid + "' is not a container backup");
        }
        StorageConfig config = storage.usable(storageId);
        CryptKey key = storage.privateFile(storageId, DatastorePlugin.KEY_SUFFIX).map(CryptKey::parse).orElse(null);
        Datastore store = DatastorePlugin.open(config, key);
        java.io.InputStream in;
        try {
            in = store.openFile(id, ROOT_ARCHIVE);
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        return Optional.of(new java.io.FilterInputStream(in) {
            @Override
            public void close() throws IOException {
                try {
                    super.close();
                } finally {
                    store.close();
                }
            }
        });
    }

    /** The config stored in the backup archive {@code volid} of a container ({@code lxc}) or VM ({@code qemu}). */
    public String extractConfig(String volid, String subtype) throws IOException {
        var resolved = storage.resolve(volid);
        if (isDatastore(resolved.id().storage())) {
            SnapshotId id = DatastorePlugin.snapshot(resolved.volume().volname());
            String storageId = resolved.id().storage();
            CryptKey key = storage.privateFile(storageId, DatastorePlugin.KEY_SUFFIX).map(CryptKey::parse).orElse(null);
            try (Datastore store = DatastorePlugin.open(storage.usable(storageId), key)) {
                String blob = id.type().equals("ct") ? CONFIG_BLOB : "qemu-server.conf";
                return new String(store.readBlob(id, blob), StandardCharsets.UTF_8);
            }
        }
        Path file = storage.path(volid).path().orElseThrow(() -> new IllegalArgumentException("volume '" + volid + "' has no local path"));
        return TarArchive.readConfig(file, subtype.equals("qemu") ? TarArchive.VM_CONFIG_MEMBER : TarArchive.CONFIG_MEMBER);
    }

    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format("%.1f %s", value, units[unit]);
    }

    private static void deleteTree(Path dir) {
        try {
            FileTrees.deleteTree(dir);
        } catch (IOException e) {
            log.warn("Could not remove {}: {}", dir, e.getMessage());
        }
    }
}
