package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.fixed;
import static org.corral.storage.OptionSpec.optional;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.corral.storage.Availability;
import org.corral.storage.Capabilities;
import org.corral.storage.CommandRunner;
import org.corral.storage.ContentType;
import org.corral.storage.Host;
import org.corral.storage.OptionSpec;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageStatus;
import org.corral.storage.Volume;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;
import org.corral.storage.VolumeNames;

/**
 * {@code iscsi}: the LUNs of an iSCSI target, logged in through open-iscsi and used as block
 * devices. Volumes are LUNs named {@code 0.0.LUN.ID} (as Proxmox names them); they can't be
 * created or removed here.
 */
public final class IscsiPlugin extends BlockPluginBase {
    static final Pattern LUN = Pattern.compile("0\\.0\\.([0-9]{1,5})\\.([A-Za-z0-9_.:\\-]+)");
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.IMAGES),
            Set.of(ContentType.IMAGES),
            Set.of(VolumeFormat.RAW),
            Optional.of(VolumeFormat.RAW),
            Map.of(),
            Set.of(),
            true,
            false);

    public IscsiPlugin(Host host) {
        this(host, CommandRunner.system());
    }

    public IscsiPlugin(Host host, CommandRunner runner) {
        super(host, runner);
    }

    @Override
    public String type() {
        return "iscsi";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(fixed("portal"), fixed("target"), optional("nodes"), optional("disable"), optional("content"));
    }

    @Override
    public Volume parseVolume(String volname) {
        VolumeNames.checkSafe(volname);
        if (!LUN.matcher(volname).matches()) {
            throw new IllegalArgumentException("unable to parse iscsi volume name '" + volname + "'");
        }
        return new Volume(volname, ContentType.IMAGES, volname, Optional.empty(), Optional.empty(), Optional.empty(), false,
                Optional.of(VolumeFormat.RAW));
    }

    @Override
    public Availability availability(StorageConfig config) {
        if (!host.hasTool("iscsiadm")) {
            return Availability.inactive("open-iscsi is not installed (no 'iscsiadm')");
        }
        return Availability.ok();
    }

    @Override
    public void activate(StorageConfig config) {
        String portal = config.option("portal").orElseThrow();
        String target = config.option("target").orElseThrow();
        run("iscsiadm", "--mode", "discovery", "--type", "sendtargets", "--portal", portal);
        try {
            run("iscsiadm", "--mode", "node", "--targetname", target, "--portal", portal, "--login");
        } catch (RuntimeException e) {
            // already logged in is fine; anything else shows up when the LUNs are missing
        }
    }

    @Override
    public StorageStatus status(StorageConfig config) {
        return new StorageStatus(0, 0, 0);
    }

    @Override
    public long spaceNeeded(StorageConfig config, VolumeFormat format, long sizeBytes) {
        return sizeBytes;
    }

    @Override
    public String alloc(StorageConfig config, int vmid, VolumeFormat format, Optional<String> name, long sizeBytes) {
        throw unsupported("allocating volumes (LUNs are made on the target)");
    }

    @Override
    public void free(StorageConfig config, Volume volume) {
        throw unsupported("removing volumes (LUNs are removed on the target)");
    }

    @Override
    public VolumeLocation path(StorageConfig config, Volume volume, Optional<String> snapshot) {
        if (snapshot.isPresent()) {
            throw unsupported("snapshots");
        }
        var m = LUN.matcher(volume.name());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid LUN '" + volume.name() + "'");
        }
        return VolumeLocation.device(Path.of("/dev/disk/by-id", m.group(2)));
    }

    @Override
    public List<VolumeInfo> list(StorageConfig config, Optional<Integer> vmid, Set<ContentType> content) {
        List<VolumeInfo> out = new ArrayList<>();
        if (vmid.isPresent() || !content.contains(ContentType.IMAGES)) {
            return out;
        }
        String target = config.option("target").orElseThrow();
        for (String line : run("iscsiadm", "--mode", "session", "-P", "3").lines().toList()) {
            // LUN discovery needs a live session; without one the list stays empty
            if (line.contains("Attached scsi disk") && line.contains(target)) {
                out.add(new VolumeInfo(line.trim(), ContentType.IMAGES, "raw", 0, Optional.empty(), Optional.empty(), Optional.empty(),
                        Optional.empty(), Optional.empty(), false));
            }
        }
        return out;
    }
}
