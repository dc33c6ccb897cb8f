package org.corral.qemu.disk;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.corral.core.error.ApiException;
import org.corral.storage.ContentType;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;
import org.corral.storage.StorageState;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The qemu module's view of the node's {@link StorageService}. */
public final class StorageVolumes implements Volumes {
    private static final Logger log = LoggerFactory.getLogger(StorageVolumes.class);

    private final StorageService storage;

    public StorageVolumes(StorageService storage) {
        this.storage = requireNonNull(storage, "storage is null");
    }

    @Override
    public void checkStorage(String id) {
        StorageConfig config = storage.usable(id);
        if (!config.content(storage.capabilities(id)).contains(ContentType.IMAGES)) {
            throw new ApiException(400, "storage '" + id + "' does not support content type 'images'");
        }
    }

    @Override
    public String alloc(String id, int vmid, Optional<String> format, Optional<String> name, long sizeBytes) {
        Optional<VolumeFormat> fmt = format.map(f -> VolumeFormat.byName(f)
                .orElseThrow(() -> new ApiException(400, "unknown volume format '" + f + "'")));
        return storage.alloc(id, vmid, fmt, name, sizeBytes);
    }

    @Override
    public void free(String volid) {
        storage.free(volid);
    }

    @Override
    public Path path(String volid) {
        VolumeLocation location = storage.path(volid);
        return location.path().orElseThrow(() -> new ApiException(500, "volume '" + volid + "' has no local path ("
                + location.kind() + " volumes are not supported for VMs yet)"));
    }

    @Override
    public String format(String volid) {
        StorageService.ResolvedVolume v = storage.resolve(volid);
        if (v.volume().content() == ContentType.ISO) {
            return "raw";
        }
        return v.volume().format().map(VolumeFormat::proxmoxName).orElseGet(() -> storage.info(volid).format());
    }

    @Override
    public long size(String volid) {
        return storage.info(volid).size();
    }

    @Override
    public Optional<Integer> owner(String volid) {
        return storage.owner(volid);
    }

    @Override
    public boolean isIso(String volid) {
        return storage.resolve(volid).volume().content() == ContentType.ISO;
    }

    @Override
    public String content(String volid) {
        return storage.resolve(volid).volume().content().proxmoxName();
    }

    @Override
    public List<String> listImages(int vmid) {
        List<String> out = new ArrayList<>();
        for (StorageConfig config : storage.config().list()) {
            try {
                StorageState state = storage.state(config);
                if (!state.active() || !state.content().contains(ContentType.IMAGES)) {
                    continue;
                }
                for (VolumeInfo info : storage.list(config.id(), Optional.of(vmid), Optional.of(ContentType.IMAGES))) {
                    out.add(config.id() + ":" + info.volname());
                }
            } catch (RuntimeException e) {
                log.warn("Cannot list the volumes of VM {} on storage {}: {}", vmid, config.id(), e.getMessage());
            }
        }
        return out;
    }

    @Override
    public void resize(String volid, long sizeBytes) {
        storage.resize(volid, sizeBytes);
    }

    @Override
    public boolean hasFeature(String volid, Feature feature) {
        return storage.hasFeature(volid, switch (feature) {
            case SNAPSHOT -> org.corral.storage.Feature.SNAPSHOT;
            case CLONE -> org.corral.storage.Feature.CLONE;
            case TEMPLATE -> org.corral.storage.Feature.TEMPLATE;
            case RESIZE -> org.corral.storage.Feature.RESIZE;
        });
    }

    @Override
    public void snapshot(String volid, String snapshot) {
        storage.snapshot(volid, snapshot);
    }

    @Override
    public void rollback(String volid, String snapshot) {
        storage.rollback(volid, snapshot);
    }

    @Override
    public void deleteSnapshot(String volid, String snapshot) {
        storage.deleteSnapshot(volid, snapshot);
    }

    @Override
    public String createBase(String volid) {
        return storage.createBase(volid);
    }

    @Override
    public String linkedClone(String volid, int vmid) {
        return storage.clone(volid, vmid, Optional.empty());
    }
}
