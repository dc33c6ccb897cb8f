package org.corral.core.guest;

import java.nio.file.Path;
import java.util.List;

/** A guest whose disks are block images (VMs): a stop-mode backup copies each image whole. */
public interface DiskImageGuest extends GuestDriver {
    /** One disk a backup includes: its config key ({@code scsi0}), its volume id and the host path QEMU opens. */
    record DiskImage(String key, String volid, Path path) {}

    /** The disks a backup includes (not cdroms, cloud-init drives or disks with {@code backup=0}), in config order. */
    List<DiskImage> backupDisks(int vmid);
}
