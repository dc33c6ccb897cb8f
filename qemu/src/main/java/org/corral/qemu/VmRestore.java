package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiRequest;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.corral.core.task.TaskContext;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.Sizes;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmConfigCodec;

/**
 * {@code POST /nodes/{node}/qemu} with {@code archive=}: restores a VM backup in Corral's own
 * format (a tar with {@code ./etc/vzdump/qemu-server.conf} and one sparse raw image per disk,
 * {@code ./disks/KEY.raw}, see backup/README.md) under a new VMID, each disk on {@code storage}
 * or, without it, on the storage it came from. Everything that can be checked is checked before
 * anything is written; a failed restore frees what it allocated.
 */
final class VmRestore {
    private static final Pattern ARCHIVE = Pattern.compile("vzdump-qemu-[1-9][0-9]{2,8}-\\d{4}_\\d{2}_\\d{2}-\\d{2}_\\d{2}_\\d{2}\\.tar(\\.(gz|lzo|zst))?");
    private static final Duration TIMEOUT = Duration.ofHours(24);

    private final QemuService service;

    VmRestore(QemuService service) {
        this.service = requireNonNull(service, "service is null");
    }

    String restore(ApiRequest request, int vmid) {
        String archive = request.string("archive");
        Path file;
        try {
            if (!service.volumes().content(archive).equals("backup")) {
                throw new IllegalArgumentException("'" + archive + "' is not a backup archive");
            }
            file = service.volumes().path(archive);
        } catch (RuntimeException e) {
            throw new ParameterError("archive", e.getMessage());
        }
        String name = file.getFileName().toString();
        if (!ARCHIVE.matcher(name).matches()) {
            throw new ParameterError("archive", "'" + name + "' is not a VM backup Corral can restore (vzdump-qemu-....tar[.gz|.lzo|.zst])");
        }
        String archiveStorage = archive.substring(0, archive.indexOf(':'));
        if (!request.canAny("/storage/" + archiveStorage, Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE)) {
            throw new PermissionDenied("Permission check failed (/storage/" + archiveStorage + ", Datastore.Audit|Datastore.AllocateSpace)");
        }
        if (request.bool("force")) {
            throw new ParameterError("force", "restoring over an existing VM is not supported by Corral yet");
        }
        service.configs().checkUnused(vmid);
        VmConfig backedUp;
        try {
            backedUp = VmConfigCodec.parse(member(file, "./etc/vzdump/qemu-server.conf"));
        } catch (IOException | RuntimeException e) {
            throw new ParameterError("archive", "unable to read the configuration: " + e.getMessage());
        }
        Optional<String> target = request.optionalString("storage");
        Map<String, String> options = new TreeMap<>(backedUp.options());
        options.keySet().removeIf(k -> k.equals("lock") || k.equals("parent") || k.startsWith("unused") || k.equals("vmstate"));
        Map<String, String> disks = new TreeMap<>();
        for (Drive drive : backedUp.drives().values()) {
            if (drive.isCdrom() || !drive.isVolume()) {
                continue;
            }
            options.remove(drive.key());
            if (drive.isCloudInit() || !drive.flag("backup", true)) {
                continue;
            }
            String storage = target.orElse(drive.storage().orElseThrow());
            try {
                service.volumes().checkStorage(storage);
            } catch (RuntimeException e) {
                throw new ParameterError("storage", e.getMessage());
            }
            if (!request.can("/storage/" + storage, Privilege.DATASTORE_ALLOCATE_SPACE)) {
                throw new PermissionDenied("Permission check failed (/storage/" + storage + ", Datastore.AllocateSpace)");
            }
            disks.put(drive.key(), storage);
        }
        service.configs().create(vmid, VmConfig.empty().with("lock", "create"));
        boolean start = request.bool("start");
        try {
            return service.tasks().start("qmrestore", Integer.toString(vmid), request.auth().authid(), ctx -> {
                work(vmid, file, backedUp, options, disks, ctx);
                if (start) {
                    service.driver().start(vmid, QemuDriver.StartOptions.defaults(), ctx);
                }
            }).format();
        } catch (RuntimeException e) {
            service.configs().delete(vmid);
            throw e;
        }
    }

    private void work(int vmid, Path archive, VmConfig backedUp, Map<String, String> options, Map<String, String> disks, TaskContext ctx)
            throws IOException {
        List<String> allocated = new ArrayList<>();
        Path work = Files.createTempDirectory(archive.getParent(), ".qmrestore-" + vmid + "-");
        try {
            ctx.log("restore vzdump archive '%s' to VM %d", archive, vmid);
            List<String> tar = new ArrayList<>(List.of("tar", "xf", archive.toString(), "-C", work.toString(), "--sparse",
                    "--no-same-owner"));
            disks.keySet().forEach(k -> tar.add("./disks/" + k + ".raw"));
            if (!disks.isEmpty()) {
                ProcessRunner.of(tar).task(ctx).timeout(TIMEOUT).run().check();
            }
            for (Map.Entry<String, String> e : disks.entrySet()) {
                Path raw = work.resolve("disks/" + e.getKey() + ".raw");
                long size = Files.size(raw);
                String volid = service.volumes().alloc(e.getValue(), vmid, Optional.empty(), Optional.empty(), size);
                allocated.add(volid);
                ProcessRunner.of("qemu-img", "convert", "-n", "-f", "raw", "-O", service.volumes().format(volid), raw.toString(),
                        service.volumes().path(volid).toString()).task(ctx).timeout(TIMEOUT).run().check();
                Files.delete(raw);
                Drive drive = Drive.parse(e.getKey(), backedUp.options().get(e.getKey()));
                options.put(e.getKey(), drive.with("file", volid).with("size", Sizes.format(size)).print());
                ctx.log("restored %s to %s (%s)", e.getKey(), volid, Sizes.format(size));
            }
            VmConfig restored = VmConfig.of(options);
            service.configs().update(vmid, current -> {
                if (!"create".equals(current.lock().orElse(""))) {
                    throw new IllegalStateException("VM " + vmid + " changed while it was restored");
                }
                return restored;
            });
            ctx.log("restored VM %d", vmid);
        } catch (IOException | RuntimeException e) {
            for (String volid : allocated) {
                try {
                    service.volumes().free(volid);
                } catch (RuntimeException cleanup) {
                    ctx.warn("could not free %s: %s", volid, cleanup.getMessage());
                }
            }
            service.configs().delete(vmid);
            throw e;
        } finally {
            try (Stream<Path> walk = Files.walk(work)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** One member of the archive, read to memory (tar finds the compression itself). */
    private static String member(Path archive, String member) throws IOException {
        ProcessResult result = ProcessRunner.of("tar", "xf", archive.toString(), "--to-stdout", "--occurrence=1", member)
                .timeout(Duration.ofMinutes(10)).run();
        if (!result.ok() || result.stdout().isEmpty()) {
            throw new IOException(result.ok() ? "archive has no " + member : result.describeFailure());
        }
        return result.stdout();
    }

}
