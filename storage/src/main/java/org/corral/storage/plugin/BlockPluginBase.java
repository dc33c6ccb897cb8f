package org.corral.storage.plugin;

import static java.util.Objects.requireNonNull;

import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.storage.CommandRunner;
import org.corral.storage.ContentType;
import org.corral.storage.DiskName;
import org.corral.storage.Host;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageException;
import org.corral.storage.StoragePlugin;
import org.corral.storage.Volume;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeNames;

/**
 * What LVM, LVM-thin, ZFS and RBD share: volume names without directories ({@code vm-100-disk-0},
 * {@code base-100-disk-0/vm-101-disk-0} for a linked clone) and host tools run through a
 * {@link CommandRunner}.
 */
public abstract class BlockPluginBase implements StoragePlugin {
    protected final Host host;
    protected final CommandRunner runner;

    protected BlockPluginBase(Host host, CommandRunner runner) {
        this.host = requireNonNull(host, "host is null");
        this.runner = requireNonNull(runner, "runner is null");
    }

    @Override
    public Volume parseVolume(String volname) {
        return VolumeNames.parseBlockVolume(volname);
    }

    protected String run(String... command) {
        return runner.run(List.of(command));
    }

    /** The name a new volume gets: {@code name} checked, or the lowest free {@code disk-N} among {@code existing}. */
    protected static String newName(int vmid, VolumeFormat format, Optional<String> name, List<String> existing) {
        if (name.isPresent()) {
            String given = name.get();
            DiskName disk = DiskName.parse(given).orElseThrow(() -> new IllegalArgumentException(
                    "illegal name '" + VolumeNames.printable(given) + "' - should be 'vm-" + vmid + "-*'"));
            if (disk.vmid() != vmid) {
                throw new IllegalArgumentException("illegal name '" + given + "' - should be 'vm-" + vmid + "-*'");
            }
            if (existing.contains(given)) {
                throw new Conflict("volume '" + given + "' already exists");
            }
            return given;
        }
        BitSet used = new BitSet();
        for (String other : existing) {
            DiskName.parse(other).filter(d -> d.vmid() == vmid).ifPresent(d -> d.diskNumber().ifPresent(used::set));
        }
        return DiskName.disk(vmid, used.nextClearBit(0), format == VolumeFormat.SUBVOL).toString();
    }

    /** The plain name of a volume (the part after a linked clone's base). */
    protected static String leaf(Volume volume) {
        return volume.name();
    }

    @Override
    public VolumeInfo info(StorageConfig config, Volume volume) {
        return list(config, volume.vmid(), Set.of(ContentType.IMAGES, ContentType.ROOTDIR)).stream()
                .filter(v -> v.volname().equals(volume.volname()) || v.volname().endsWith("/" + volume.name()) || v.volname().equals(volume.name()))
                .findFirst()
                .orElseThrow(() -> new NotFound("volume '" + volume.volname() + "' does not exist"));
    }

    protected static long parseLong(String text, String what) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new StorageException("unable to parse " + what + " '" + text.trim() + "'");
        }
    }

    protected static String kib(long bytes) {
        return ((bytes + 1023) / 1024) + "k";
    }
}
