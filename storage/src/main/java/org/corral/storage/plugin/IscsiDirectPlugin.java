package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.fixed;
import static org.corral.storage.OptionSpec.optional;

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

/** {@code iscsidirect}: LUNs that QEMU opens itself through libiscsi ({@code iscsi://PORTAL/TARGET/LUN}). */
public final class IscsiDirectPlugin extends BlockPluginBase {
    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.IMAGES),
            Set.of(ContentType.IMAGES),
            Set.of(VolumeFormat.RAW),
            Optional.of(VolumeFormat.RAW),
            Map.of(),
            Set.of(),
            true,
            false);

    public IscsiDirectPlugin(Host host) {
        this(host, CommandRunner.system());
    }

    public IscsiDirectPlugin(Host host, CommandRunner runner) {
        super(host, runner);
    }

    @Override
    public String type() {
        return "iscsidirect";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return List.of(fixed("portal"), fixed("target"), optional("nodes"), optional("disable"));
    }

    @Override
    public Volume parseVolume(String volname) {
        return new IscsiPlugin(host, runner).parseVolume(volname);
    }

    @Override
    public Availability availability(StorageConfig config) {
        if (!host.hasTool("iscsi-ls")) {
            return Availability.inactive("libiscsi tools are not installed (no 'iscsi-ls'; install libiscsi-bin)");
        }
        return Availability.ok();
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
        var m = IscsiPlugin.LUN.matcher(volume.name());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid LUN '" + volume.name() + "'");
        }
        return VolumeLocation.url("iscsi://" + config.option("portal").orElseThrow() + "/" + config.option("target").orElseThrow()
                + "/" + m.group(1));
    }

    @Override
    public List<VolumeInfo> list(StorageConfig config, Optional<Integer> vmid, Set<ContentType> content) {
        List<VolumeInfo> out = new ArrayList<>();
        if (vmid.isPresent() || !content.contains(ContentType.IMAGES)) {
            return out;
        }
        String url = "iscsi://" + config.option("portal").orElseThrow() + "/" + config.option("target").orElseThrow();
        for (String line : run("iscsi-ls", "-s", url).lines().toList()) {
            var m = Pattern.compile("Lun:(\\d+)\\s+Type:DIRECT_ACCESS.*Size:(\\d+)").matcher(line);
            if (m.find()) {
                out.add(new VolumeInfo("0.0." + m.group(1) + ".lun" + m.group(1), ContentType.IMAGES, "raw", Long.parseLong(m.group(2)),
                        Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), false));
            }
        }
        return out;
    }
}
