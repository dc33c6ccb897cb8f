package org.corral.qemu;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmOptions;
import org.corral.qemu.disk.Volumes;

/**
 * Applies a config's {@code [PENDING]} section, as qemu-server's vmconfig_apply_pending: deleted
 * drives become {@code unusedN} (or are destroyed when forced), replaced drives leave their old
 * volume as {@code unusedN}, everything else takes the pending value.
 */
public final class PendingChanges {
    private PendingChanges() {}

    /** The config with pending changes applied, and the volumes to destroy. */
    public record Applied(VmConfig config, List<String> toFree) {}

    public static Applied apply(int vmid, VmConfig config, Volumes volumes) {
        TreeMap<String, String> options = new TreeMap<>(config.options());
        TreeMap<String, String> pending = new TreeMap<>(config.pending());
        List<String> toFree = new ArrayList<>();
        for (VmConfig.PendingDelete delete : config.pendingDeletes()) {
            String key = delete.key();
            String old = options.remove(key);
            if (old != null && VmOptions.isDrive(key)) {
                Drive drive = Drive.parse(key, old);
                if (!drive.isCdrom() && drive.isVolume() && owned(vmid, drive.file(), volumes)) {
                    if (delete.force() && !inSnapshots(config, drive.file())) {
                        toFree.add(drive.file());
                    } else {
                        addUnused(options, drive.file());
                    }
                }
            } else if (old != null && VmOptions.isUnused(key) && delete.force() && !inSnapshots(config, old)) {
                toFree.add(old);
            }
        }
        pending.remove(VmConfig.DELETE);
        for (Map.Entry<String, String> change : new TreeMap<>(pending).entrySet()) {
            String key = change.getKey();
            String old = options.get(key);
            if (old != null && VmOptions.isDrive(key)) {
                Drive before = Drive.parse(key, old);
                Drive after = Drive.parse(key, change.getValue());
                if (!before.isCdrom() && before.isVolume() && !before.file().equals(after.file()) && owned(vmid, before.file(), volumes)) {
                    addUnused(options, before.file());
                }
            }
            options.put(key, change.getValue());
        }
        return new Applied(new VmConfig(options, new TreeMap<>(), config.snapshots()), toFree);
    }

    /** Records a volume as {@code unusedN} unless it is there already. */
    public static void addUnused(Map<String, String> options, String volid) {
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (VmOptions.isUnused(e.getKey()) && e.getValue().equals(volid)) {
                return;
            }
        }
        options.put(VmConfig.of(options).nextUnusedKey(), volid);
    }

    static boolean owned(int vmid, String volid, Volumes volumes) {
        try {
            return volumes.owner(volid).map(owner -> owner == vmid).orElse(false);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Whether a snapshot section still references the volume. */
    public static boolean inSnapshots(VmConfig config, String volid) {
        return config.snapshots().values().stream().anyMatch(section -> section.entrySet().stream()
                .anyMatch(e -> (VmOptions.isDrive(e.getKey()) && Drive.parse(e.getKey(), e.getValue()).file().equals(volid))
                        || e.getValue().equals(volid)));
    }
}
