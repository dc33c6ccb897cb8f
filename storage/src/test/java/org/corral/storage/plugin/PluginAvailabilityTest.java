package org.corral.storage.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.corral.storage.Availability;
import org.corral.storage.CommandRunner;
import org.corral.storage.FakeHost;
import org.corral.storage.Host;
import org.corral.storage.PluginRegistry;
import org.corral.storage.StorageConfig;
import org.corral.storage.StoragePlugin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Whether each storage type can run on a host, and the reason users see when it can't. */
class PluginAvailabilityTest {
    private static final Set<String> ALL_TOOLS = Set.of("btrfs", "mount.nfs", "mount.cifs", "mount.ceph", "ceph-fuse", "vgs", "lvcreate",
            "zfs", "zpool", "rbd", "iscsiadm", "iscsi-ls", "proxmox-backup-client");
    private static final Set<String> ALL_PATHS = Set.of("/dev/mapper/control", "/dev/zfs", "/sys/bus/rbd");
    private static final FakeHost BARE = new FakeHost(Set.of(), Set.of());
    private static final FakeHost FULL = new FakeHost(ALL_TOOLS, ALL_PATHS);
    private static final CommandRunner SUCCEEDS = command -> "";

    @TempDir
    Path dir;

    private static StorageConfig config(String type, String... options) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < options.length; i += 2) {
            map.put(options[i], options[i + 1]);
        }
        return new StorageConfig(type, "s1", map);
    }

    private static StoragePlugin plugin(String type, Host host) {
        return switch (type) {
            case "lvm" -> new LvmPlugin(host, SUCCEEDS);
            case "lvmthin" -> new LvmThinPlugin(host, SUCCEEDS);
            case "zfspool" -> new ZfsPoolPlugin(host, SUCCEEDS);
            case "rbd" -> new RbdPlugin(host, SUCCEEDS);
            case "iscsi" -> new IscsiPlugin(host, SUCCEEDS);
            case "iscsidirect" -> new IscsiDirectPlugin(host, SUCCEEDS);
            case "nfs" -> new NfsPlugin(host, SUCCEEDS);
            case "cifs" -> new CifsPlugin(host, SUCCEEDS);
            case "cephfs" -> new CephFsPlugin(host, SUCCEEDS);
            default -> PluginRegistry.standard(host).find(type).orElseThrow();
        };
    }

    static Stream<Arguments> unavailable() {
        return Stream.of(
                Arguments.of(config("lvm", "vgname", "pve"), BARE, "device-mapper is not available on this host (no /dev/mapper/control)"),
                Arguments.of(config("lvm", "vgname", "pve"), new FakeHost(Set.of(), ALL_PATHS), "LVM tools are not installed"),
                Arguments.of(config("lvmthin", "vgname", "pve", "thinpool", "data"), BARE, "device-mapper is not available"),
                Arguments.of(config("zfspool", "pool", "rpool/data"), BARE, "ZFS tools are not installed"),
                Arguments.of(config("zfspool", "pool", "rpool/data"), new FakeHost(Set.of("zfs", "zpool"), Set.of()),
                        "the ZFS kernel module is not loaded (no /dev/zfs)"),
                Arguments.of(config("nfs", "server", "nas", "export", "/e", "path", "/mnt/pve/s1"), BARE, "no 'mount.nfs'"),
                Arguments.of(config("cifs", "server", "nas", "share", "vms", "path", "/mnt/pve/s1"), BARE, "no 'mount.cifs'"),
                Arguments.of(config("cephfs", "path", "/mnt/pve/s1"), BARE, "no 'mount.ceph'"),
                Arguments.of(config("cephfs", "path", "/mnt/pve/s1", "fuse", "1"), BARE, "ceph-fuse is not installed"),
                Arguments.of(config("rbd", "pool", "vm"), BARE, "no 'rbd'"),
                Arguments.of(config("rbd", "pool", "vm", "krbd", "1"), new FakeHost(Set.of("rbd"), Set.of()), "rbd kernel module is not loaded"),
                Arguments.of(config("iscsi", "portal", "192.0.2.1", "target", "iqn.2026-01.example:t1"), BARE, "no 'iscsiadm'"),
                Arguments.of(config("iscsidirect", "portal", "192.0.2.1", "target", "iqn.2026-01.example:t1"), BARE, "no 'iscsi-ls'"),
                Arguments.of(config("pbs", "server", "pbs.example.com", "datastore", "main"), BARE, "proxmox-backup-client is not installed"),
                Arguments.of(config("pbs", "server", "pbs.example.com", "datastore", "main"), FULL, "not supported by this node yet"),
                Arguments.of(config("btrfs", "path", "/srv/btrfs"), BARE, "no 'btrfs' tool"),
                Arguments.of(config("dir", "path", "/nonexistent/corral", "create-base-path", "0"), BARE,
                        "directory '/nonexistent/corral' does not exist"),
                Arguments.of(config("dir", "path", "/tmp", "is_mountpoint", "yes"), BARE,
                        "directory is expected to be a mount point but is not mounted: '/tmp'"));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("unavailable")
    void typesThatCantRunAreInactiveWithTheReason(StorageConfig config, FakeHost host, String reason) {
        Availability availability = plugin(config.type(), host).availability(config);

        assertThat(availability.active()).isFalse();
        assertThat(availability.reason().orElseThrow()).contains(reason);
    }

    static Stream<Arguments> available() {
        return Stream.of(
                Arguments.of(config("lvm", "vgname", "pve")),
                Arguments.of(config("lvmthin", "vgname", "pve", "thinpool", "data")),
                Arguments.of(config("zfspool", "pool", "rpool/data")),
                Arguments.of(config("nfs", "server", "nas", "export", "/e", "path", "/mnt/pve/s1")),
                Arguments.of(config("cifs", "server", "nas", "share", "vms", "path", "/mnt/pve/s1")),
                Arguments.of(config("cephfs", "path", "/mnt/pve/s1")),
                Arguments.of(config("rbd", "pool", "vm", "krbd", "1")),
                Arguments.of(config("iscsi", "portal", "192.0.2.1", "target", "iqn.2026-01.example:t1")),
                Arguments.of(config("iscsidirect", "portal", "192.0.2.1", "target", "iqn.2026-01.example:t1")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("available")
    void typesAreActiveWhereTheHostHasWhatTheyNeed(StorageConfig config) {
        assertThat(plugin(config.type(), FULL).availability(config)).isEqualTo(Availability.ok());
    }

    @Test
    void volumeGroupThatDoesNotExistIsNamed() {
        StorageConfig config = config("lvm", "vgname", "missing");
        LvmPlugin plugin = new LvmPlugin(FULL, command -> {
            throw new org.corral.storage.StorageException("Volume group \"missing\" not found");
        });

        assertThat(plugin.availability(config).reason()).contains("volume group 'missing' not found");
    }

    @Test
    void dirOnAMissingPathIsCreatedOnActivation() {
        Path path = dir.resolve("new/storage");
        StorageConfig config = config("dir", "path", path.toString(), "content", "iso,images");
        StoragePlugin plugin = plugin("dir", BARE);

        assertThat(plugin.availability(config).active()).isTrue();
        plugin.activate(config);
        assertThat(path.resolve("template/iso")).isDirectory();
        assertThat(path.resolve("images")).isDirectory();
        assertThat(path.resolve("dump")).doesNotExist();
    }

    @Test
    void btrfsOnAnotherFileSystemIsInactive() {
        StorageConfig config = config("btrfs", "path", dir.toString());

        Availability availability = plugin("btrfs", new FakeHost(Set.of("btrfs"), Set.of())).availability(config);

        assertThat(availability.active()).isFalse();
        assertThat(availability.reason().orElseThrow()).contains("is not on a btrfs file system");
    }

    @Test
    void lvmThinIsInactiveOnThisHostWithoutDeviceMapper() {
        assumeFalse(Files.exists(Path.of("/dev/mapper/control")), "this host has device-mapper");

        Availability availability = PluginRegistry.standard(Host.system()).find("lvmthin").orElseThrow()
                .availability(config("lvmthin", "vgname", "pve", "thinpool", "data"));

        assertThat(availability.reason()).contains("device-mapper is not available on this host (no /dev/mapper/control)");
    }

    @Test
    void everyTypeIsRegisteredOnce() {
        assertThat(PluginRegistry.standard(BARE).types()).containsExactly("dir", "btrfs", "nfs", "cifs", "cephfs", "lvm", "lvmthin",
                "zfspool", "rbd", "iscsi", "iscsidirect", "pbs");
        assertThat(List.copyOf(PluginRegistry.standard(BARE).types())).doesNotHaveDuplicates();
    }
}
