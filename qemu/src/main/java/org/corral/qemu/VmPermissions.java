package org.corral.qemu;

import java.util.Collection;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiRequest;
import org.corral.core.error.PermissionDenied;
import org.corral.qemu.config.Drive;
import org.corral.qemu.config.VmOptions;
import org.corral.qemu.disk.Volumes;

/**
 * Which privileges a config change needs, as qemu-server's check_vm_modify_config_perm and
 * check_storage_access: each option by its class (CPU, memory, hardware, options, network,
 * cloud-init, disks), drives by their storage, and {@code args}, {@code lock} and host devices for
 * root@pam only.
 */
public final class VmPermissions {
    private VmPermissions() {}

    static String vmPath(int vmid) {
        return "/vms/" + vmid;
    }

    /** Refuses a change of {@code keys} (set or deleted) that the caller may not make. */
    public static void checkModify(ApiRequest request, int vmid, Collection<String> keys) {
        if (request.auth().isRoot()) {
            return;
        }
        String path = vmPath(vmid);
        for (String key : keys) {
            VmOptions.Category category = VmOptions.find(key).map(VmOptions.Entry::category).orElse(VmOptions.Category.ROOT);
            switch (category) {
                case CPU -> need(request, path, Privilege.VM_CONFIG_CPU);
                case MEMORY -> need(request, path, Privilege.VM_CONFIG_MEMORY);
                case HWTYPE -> need(request, path, Privilege.VM_CONFIG_HWTYPE);
                case GENERAL, TAGS -> {
                    need(request, path, Privilege.VM_CONFIG_OPTIONS);
                    if (key.equals("startup")) {
                        need(request, "/", Privilege.SYS_MODIFY);
                    }
                }
                case POWER -> need(request, path, Privilege.VM_POWER_MGMT);
                case DISK_OPTION, UNUSED -> need(request, path, Privilege.VM_CONFIG_DISK);
                case NETWORK -> need(request, path, Privilege.VM_CONFIG_NETWORK);
                case CLOUDINIT -> {
                    if (!request.canAny(path, Privilege.VM_CONFIG_CLOUDINIT, Privilege.VM_CONFIG_NETWORK)) {
                        throw denied(path, "VM.Config.Cloudinit|VM.Config.Network");
                    }
                }
                case VMSTATE -> {
                    need(request, path, Privilege.VM_CONFIG_DISK);
                    need(request, path, Privilege.VM_POWER_MGMT);
                }
                case DRIVE, SERIAL -> {
                    // checked with their values
                }
                case ROOT -> throw new PermissionDenied("only root can set '" + key + "' config");
            }
        }
    }

    /** A drive needs VM.Config.CDROM (cdroms) or VM.Config.Disk, and access to its storage or volume. */
    public static void checkDrive(ApiRequest request, int vmid, Drive drive, Volumes volumes) {
        if (request.auth().isRoot()) {
            return;
        }
        String path = vmPath(vmid);
        need(request, path, drive.isCdrom() && !drive.isCloudInit() ? Privilege.VM_CONFIG_CDROM : Privilege.VM_CONFIG_DISK);
        if (drive.isNone() || drive.isHostCdrom() && drive.isCdrom()) {
            return;
        }
        if (drive.isPath() || drive.isHostCdrom()) {
            throw new PermissionDenied("only root can set '" + drive.key() + "' config for real devices or paths");
        }
        if (drive.isNewDisk()) {
            need(request, "/storage/" + drive.storage().orElseThrow(), Privilege.DATASTORE_ALLOCATE_SPACE);
            drive.get("import-from").ifPresent(source -> {
                if (source.startsWith("/")) {
                    throw new PermissionDenied("only root can import from an absolute path ('" + drive.key() + "')");
                }
                checkVolume(request, vmid, source, volumes);
            });
            return;
        }
        checkVolume(request, vmid, drive.file(), volumes);
    }

    /** Proxmox's check_volume_access for a volume a VM will use. */
    public static void checkVolume(ApiRequest request, int vmid, String volid, Volumes volumes) {
        if (request.auth().isRoot()) {
            return;
        }
        String storage = "/storage/" + volid.substring(0, volid.indexOf(':'));
        if (request.can(storage, Privilege.DATASTORE_ALLOCATE)) {
            return;
        }
        // ISOs, snippets and import images belong to no guest
        if (volumes.isIso(volid) || volumes.owner(volid).isEmpty()) {
            if (!request.canAny(storage, Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE)) {
                throw denied(storage, "Datastore.Audit|Datastore.AllocateSpace");
            }
            return;
        }
        int owner = volumes.owner(volid).orElse(-1);
        if (owner == vmid) {
            return;
        }
        if (owner < 0 || !request.canAny("/vms/" + owner, Privilege.VM_CONFIG_DISK, Privilege.VM_AUDIT)
                || !request.can(storage, Privilege.DATASTORE_ALLOCATE_SPACE)) {
            throw new PermissionDenied("Permission check failed (volume '" + volid + "')");
        }
    }

    /** A serial socket needs VM.Config.HWType; a host serial device is root's. */
    public static void checkSerial(ApiRequest request, int vmid, String key, String value) {
        if (request.auth().isRoot()) {
            return;
        }
        if (!value.equals("socket")) {
            throw new PermissionDenied("only root can set '" + key + "' config for real devices");
        }
        need(request, vmPath(vmid), Privilege.VM_CONFIG_HWTYPE);
    }

    static void need(ApiRequest request, String path, Privilege privilege) {
        if (!request.can(path, privilege)) {
            throw denied(path, privilege.proxmoxName());
        }
    }

    static PermissionDenied denied(String path, String privileges) {
        return new PermissionDenied("Permission check failed (" + path + ", " + privileges + ")");
    }
}
