package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.fixed;
import static org.corral.storage.OptionSpec.optional;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.corral.storage.Availability;
import org.corral.storage.Capabilities;
import org.corral.storage.ContentType;
import org.corral.storage.Host;
import org.corral.storage.OptionSpec;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageException;
import org.corral.storage.StoragePlugin;
import org.corral.storage.StorageStatus;
import org.corral.storage.Volume;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;
import org.corral.storage.VolumeNames;

/**
 * {@code pbs}: a Proxmox Backup Server datastore, for backups only. Accepted in storage.cfg with
 * its options checked; talking to the server needs proxmox-backup-client, and is left to the
 * backup module.
 */
public final class PbsPlugin implements StoragePlugin {
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.BACKUP),
            Set.of(ContentType.BACKUP),
            Set.of(),
            Optional.empty(),
            Map.of(),
            Set.of(),
            true,
            false);

    private final Host host;

    public PbsPlugin(Host host) {
        this.host = Objects.requireNonNull(host, "host is null");
    }

    @Override
    public String type() {
        return "pbs";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(fixed("server"), fixed("datastore"), optional("username"), optional("password"), optional("fingerprint"),
                optional("namespace"), optional("port"), optional("nodes"), optional("disable"), optional("content"),
                optional("prune-backups"), optional("max-protected-backups"));
    }

    @Override
    public Availability availability(StorageConfig config) {
        if (!host.hasTool("proxmox-backup-client")) {
            return Availability.inactive("proxmox-backup-client is not installed");
        }
        return Availability.inactive("Proxmox Backup Server datastores are not supported by this node yet");
    }

    @Override
    public StorageStatus status(StorageConfig config) {
        throw unsupported("status");
    }

    @Override
    public Volume parseVolume(String volname) {
        VolumeNames.checkSafe(volname);
        if (!volname.startsWith("backup/")) {
            throw new IllegalArgumentException("unable to parse PBS volume name '" + volname + "'");
        }
        return Volume.file(volname, ContentType.BACKUP, volname.substring("backup/".length()), Optional.empty());
    }

    @Override
    public long spaceNeeded(StorageConfig config, VolumeFormat format, long sizeBytes) {
        return 0;
    }

    @Override
    public String alloc(StorageConfig config, int vmid, VolumeFormat format, Optional<String> name, long sizeBytes) {
        throw unsupported("guest volumes");
    }

    @Override
    public void free(StorageConfig config, Volume volume) {
        throw unsupported("removing backups");
    }

    @Override
    public List<VolumeInfo> list(StorageConfig config, Optional<Integer> vmid, Set<ContentType> content) {
        throw unsupported("listing backups");
    }

    @Override
    public VolumeInfo info(StorageConfig config, Volume volume) {
        throw unsupported("volume information");
    }

    @Override
    public VolumeLocation path(StorageConfig config, Volume volume, Optional<String> snapshot) {
        throw new StorageException("PBS backups have no local path");
    }
}
