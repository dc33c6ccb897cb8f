package org.corral.storage.plugin;

import static org.corral.storage.OptionSpec.fixed;
import static org.corral.storage.OptionSpec.optional;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.corral.storage.Capabilities;
import org.corral.storage.ContentType;
import org.corral.storage.Feature;
import org.corral.storage.Host;
import org.corral.storage.OptionSpec;
import org.corral.storage.VolumeFormat;

/**
 * {@code dir}: a local directory in Proxmox's layout. Images are raw, qcow2 or vmdk files made by
 * qemu-img with the storage's {@code preallocation}; qcow2 has internal snapshots and linked clones
 * (a qcow2 image whose backing file is a base image); containers get plain directories (subvol).
 */
public final class DirPlugin extends FilePluginBase {
    static final List<OptionSpec> COMMON_FILE_OPTIONS = List.of(optional("nodes"), optional("disable"), optional("content"),
            optional("format"), optional("preallocation"), optional("prune-backups"), optional("max-protected-backups"),
            optional("mkdir"), optional("create-base-path"), optional("create-subdirs"));

    private static final Capabilities CAPABILITIES = new Capabilities(
            Set.of(ContentType.values()),
            Set.of(ContentType.IMAGES, ContentType.ROOTDIR),
            Set.of(VolumeFormat.RAW, VolumeFormat.QCOW2, VolumeFormat.VMDK, VolumeFormat.SUBVOL),
            Optional.of(VolumeFormat.RAW),
            Map.of(VolumeFormat.QCOW2, Set.of(Feature.SNAPSHOT, Feature.CLONE, Feature.TEMPLATE, Feature.RESIZE),
                    VolumeFormat.RAW, Set.of(Feature.CLONE, Feature.TEMPLATE, Feature.RESIZE),
                    VolumeFormat.VMDK, Set.of(Feature.CLONE, Feature.TEMPLATE, Feature.RESIZE),
                    VolumeFormat.SUBVOL, Set.of(Feature.TEMPLATE)),
            Set.of("raw+size", "qcow2+size", "vmdk+size"),
            false,
            true);

    public DirPlugin(Host host) {
        super(host);
    }

    @Override
    public String type() {
        return "dir";
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public List<OptionSpec> options() {
        return concat(List.of(fixed("path"), optional("shared"), optional("is_mountpoint")), COMMON_FILE_OPTIONS);
    }

    static List<OptionSpec> concat(List<OptionSpec> first, List<OptionSpec> second) {
        return Stream.concat(first.stream(), second.stream()).toList();
    }
}
