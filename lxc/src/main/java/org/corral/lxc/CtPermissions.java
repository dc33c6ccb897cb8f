package org.corral.lxc;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiRequest;
import org.corral.core.error.PermissionDenied;
import org.corral.lxc.config.CtOptions;
import org.corral.lxc.config.MountPoint;

/**
 * Which privileges a change of container options needs, as pve-container's
 * {@code check_ct_modify_config_perm}: root@pam may do anything; others need VM.Config.CPU,
 * .Memory, .Disk, .Network or .Options on /vms/VMID per option, Datastore.AllocateSpace for new
 * volumes, and never get bind or device mount points, raw {@code lxc.*} keys, hookscripts or
 * feature flags other than nesting.
 */
public final class CtPermissions {
    private CtPermissions() {}

    /**
     * Refuses (403) unless the caller may set {@code changed} and delete {@code deleted} on the
     * container whose current options are {@code old} (empty for a new one).
     */
    public static void checkModify(ApiRequest request, int vmid, Optional<String> pool, Map<String, String> old,
            Map<String, String> changed, Collection<String> deleted, boolean unprivileged) {
        if (request.auth().isRoot()) {
            return;
        }
        for (Map.Entry<String, String> e : changed.entrySet()) {
            check(request, vmid, pool, e.getKey(), Optional.ofNullable(old.get(e.getKey())), Optional.of(e.getValue()), unprivileged);
        }
        for (String key : deleted) {
            check(request, vmid, pool, key, Optional.ofNullable(old.get(key)), Optional.empty(), unprivileged);
        }
    }

    private static void check(ApiRequest request, int vmid, Optional<String> pool, String key, Optional<String> oldValue,
            Optional<String> newValue, boolean unprivileged) {
        if (key.equals("cores") || key.equals("cpuunits") || key.equals("cpulimit")) {
            vm(request, vmid, pool, Privilege.VM_CONFIG_CPU);
        } else if (CtOptions.isMountPoint(key)) {
            vm(request, vmid, pool, Privilege.VM_CONFIG_DISK);
            if (newValue.isEmpty()) {
                return;
            }
            MountPoint mp = MountPoint.parse(key, newValue.get());
            if (mp.type() != MountPoint.Type.VOLUME) {
                throw new PermissionDenied("mount point type " + mp.type().name().toLowerCase(Locale.ROOT)
                        + " is only allowed for root@pam");
            }
            String storage = mp.volume().contains(":") ? mp.volume().substring(0, mp.volume().indexOf(':')) : "";
            if (isNewDisk(mp.volume())) {
                need(request, "/storage/" + storage, Privilege.DATASTORE_ALLOCATE_SPACE);
            } else if (!request.can("/storage/" + storage, Privilege.DATASTORE_ALLOCATE)
                    && !(request.canAny("/storage/" + storage, Privilege.DATASTORE_AUDIT, Privilege.DATASTORE_ALLOCATE_SPACE))) {
                throw new PermissionDenied("Permission check failed (/storage/" + storage + ", Datastore.AllocateSpace)");
            }
        } else if (key.equals("memory") || key.equals("swap")) {
            vm(request, vmid, pool, Privilege.VM_CONFIG_MEMORY);
        } else if (CtOptions.isNet(key) || key.equals("nameserver") || key.equals("searchdomain") || key.equals("hostname")) {
            vm(request, vmid, pool, Privilege.VM_CONFIG_NETWORK);
        } else if (key.equals("features")) {
            features(request, vmid, pool, oldValue, newValue, unprivileged);
        } else if (key.equals("hookscript")) {
            throw new PermissionDenied("changing the hookscript is only allowed for root@pam");
        } else if (key.equals("lxc")) {
            throw new PermissionDenied("raw lxc.* keys may only be changed by root@pam");
        } else {
            vm(request, vmid, pool, Privilege.VM_CONFIG_OPTIONS);
        }
    }

    private static void features(ApiRequest request, int vmid, Optional<String> pool, Optional<String> oldValue,
            Optional<String> newValue, boolean unprivileged) {
        if (!unprivileged) {
            throw new PermissionDenied("changing feature flags for privileged container is only allowed for root@pam");
        }
        Map<String, String> before = oldValue.map(CtPermissions::featureMap).orElse(Map.of());
        Map<String, String> after = newValue.map(CtPermissions::featureMap).orElse(Map.of());
        List<String> changedKeys = new ArrayList<>();
        Set<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(after.keySet());
        for (String k : keys) {
            if (!Objects.equals(before.get(k), after.get(k))) {
                changedKeys.add(k);
            }
        }
        if (changedKeys.stream().anyMatch(k -> !k.equals("nesting"))) {
            throw new PermissionDenied("changing feature flags (except nesting) is only allowed for root@pam");
        }
        if (!changedKeys.isEmpty()) {
            vm(request, vmid, pool, Privilege.VM_ALLOCATE);
        }
    }

    private static Map<String, String> featureMap(String text) {
        Map<String, String> map = new TreeMap<>();
        for (String part : text.split(",")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                map.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        return map;
    }

    /** {@code STORAGE:SIZE_GB} (or a bare size): a volume to allocate, not an existing one. */
    public static boolean isNewDisk(String volume) {
        return volume.matches("(?:[a-z][a-z0-9\\-_.]*[a-z0-9]:)?\\d+(?:\\.\\d+)?");
    }

    private static void vm(ApiRequest request, int vmid, Optional<String> pool, Privilege privilege) {
        if (request.can("/vms/" + vmid, privilege)) {
            return;
        }
        if (pool.isPresent() && request.can("/pool/" + pool.get(), privilege)) {
            return;
        }
        throw new PermissionDenied("Permission check failed (/vms/" + vmid + ", " + privilege.proxmoxName() + ")");
    }

    public static void need(ApiRequest request, String path, Privilege privilege) {
        if (!request.can(path, privilege)) {
            throw new PermissionDenied("Permission check failed (" + path + ", " + privilege.proxmoxName() + ")");
        }
    }
}
