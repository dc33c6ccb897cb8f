package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.corral.core.error.ApiException;
import org.corral.storage.ContentType;
import org.corral.storage.Feature;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Containers' view of the storage layer: directory volumes ({@code subvol}) and template files through {@link StorageService}. */
public final class StorageServiceAdapter implements ContainerStorage {
    private static final Logger log = LoggerFactory.getLogger(StorageServiceAdapter.class);

    private final StorageService storage;

    public StorageServiceAdapter(StorageService storage) {
        this.storage = requireNonNull(storage, "storage is null");
    }

    @Override
    public String allocate(String storageId, int vmid, long sizeBytes) {
        return storage.alloc(storageId, vmid, Optional.of(VolumeFormat.SUBVOL), Optional.empty(), sizeBytes);
    }

    @Override
    public Path path(String volid, Optional<String> snapshot) {
        return storage.path(volid, snapshot).path()
                .orElseThrow(() -> new ApiException(400, "volume '" + volid + "' has no local path"));
    }

    @Override
    public void free(String volid) {
        storage.free(volid);
    }

    @Override
    public void checkRootdir(String storageId) {
        StorageConfig config = storage.usable(storageId);
        Set<ContentType> content = config.content(storage.plugin(config).capabilities());
        if (!content.contains(ContentType.ROOTDIR)) {
            throw new ApiException(400, "storage '" + storageId + "' does not support container directories");
        }
    }

    @Override
    public boolean canSnapshot(String volid) {
        return storage.hasFeature(volid, Feature.SNAPSHOT);
    }

    @Override
    public void snapshot(String volid, String name) {
        storage.snapshot(volid, name);
    }

    @Override
    public void rollback(String volid, String name) {
        storage.rollback(volid, name);
    }

    @Override
    public void deleteSnapshot(String volid, String name) {
        storage.deleteSnapshot(volid, name);
    }

    @Override
    public boolean canLinkedClone(String volid) {
        return storage.hasFeature(volid, Feature.CLONE);
    }

    @Override
    public boolean canTemplate(String volid) {
        return storage.hasFeature(volid, Feature.TEMPLATE);
    }

    @Override
    public String createBase(String volid) {
        return storage.createBase(volid);
    }

    @Override
    public String linkedClone(String baseVolid, int vmid, Optional<String> snapshot) {
        return storage.clone(baseVolid, vmid, snapshot);
    }

    @Override
    public void resize(String volid, long sizeBytes) {
        storage.resize(volid, sizeBytes);
    }

    @Override
    public OptionalLong used(String volid) {
        return storage.info(volid).used().map(OptionalLong::of).orElse(OptionalLong.empty());
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
    public Path archive(String volid) {
        ContentType content = storage.resolve(volid).volume().content();
        if (content != ContentType.VZTMPL && content != ContentType.BACKUP) {
            throw new ApiException(400, "'" + volid + "' is not a template or backup volume");
        }
        return path(volid, Optional.empty());
    }

    @Override
    public Path templateDirectory(String storageId) {
        return storage.contentDirectory(storageId, ContentType.VZTMPL);
    }

    @Override
    public List<String> volumesOf(int vmid) {
        List<String> out = new ArrayList<>();
        for (StorageConfig config : storage.config().list()) {
            try {
                for (VolumeInfo info : storage.list(config.id(), Optional.of(vmid), Optional.empty())) {
                    if (info.content() == ContentType.ROOTDIR || info.content() == ContentType.IMAGES) {
                        out.add(config.id() + ":" + info.volname());
                    }
                }
            } catch (RuntimeException e) {
                // a storage that is offline here holds nothing we can destroy
                log.debug("Skipping storage {} while looking for volumes of {}: {}", config.id(), vmid, e.getMessage());
            }
        }
        return out;
    }
}
