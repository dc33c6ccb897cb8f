package org.corral.storage.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.corral.core.error.ParameterError;
import org.corral.storage.CommandRunner;
import org.corral.storage.ContentType;
import org.corral.storage.FakeHost;
import org.corral.storage.OptionRules;
import org.corral.storage.Sizes;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageStatus;
import org.corral.storage.VolumeFormat;
import org.corral.storage.VolumeInfo;
import org.corral.storage.VolumeLocation;
import org.corral.storage.VolumeNames;
import org.junit.jupiter.api.Test;

/**
 * The commands and paths of the storage types this machine can't run (no device-mapper, ZFS,
 * Ceph or NFS here): a recording runner answers as the tools would.
 */
class BlockPluginCommandsTest {
    private static final FakeHost HOST = new FakeHost(Set.of(), Set.of());

    /** Records every command and answers with what {@code answers} gives for it. */
    private static final class Recorder implements CommandRunner {
        final List<String> commands = new ArrayList<>();
        private final Function<String, String> answers;

        Recorder(Function<String, String> answers) {
            this.answers = answers;
        }

        @Override
        public String run(List<String> command) {
            String line = String.join(" ", command);
            commands.add(line);
            return answers.apply(line);
        }
    }

    private static StorageConfig config(String type, String... options) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < options.length; i += 2) {
            map.put(options[i], options[i + 1]);
        }
        return new StorageConfig(type, "s1", map);
    }

    @Test
    void zfsAllocatesTheNextFreeSparseZvol() {
        Recorder zfs = new Recorder(line -> line.startsWith("zfs list") ? "tank\ntank/vm-100-disk-0\ntank/base-100-disk-1\n" : "");
        ZfsPoolPlugin plugin = new ZfsPoolPlugin(HOST, zfs);
        StorageConfig config = config("zfspool", "pool", "tank", "sparse", "1", "blocksize", "16k");

        String volname = plugin.alloc(config, 100, VolumeFormat.RAW, Optional.empty(), Sizes.GIB);

        assertThat(volname).isEqualTo("vm-100-disk-2");
        assertThat(zfs.commands).contains("zfs create -s -b 16k -V 1048576k tank/vm-100-disk-2");
        assertThat(plugin.spaceNeeded(config, VolumeFormat.RAW, Sizes.GIB)).isZero();
        assertThat(plugin.spaceNeeded(config("zfspool", "pool", "tank"), VolumeFormat.RAW, Sizes.GIB)).isEqualTo(Sizes.GIB);
    }

    @Test
    void zfsContainerVolumesAreDatasetsWithRefquota() {
        Recorder zfs = new Recorder(line -> "");
        ZfsPoolPlugin plugin = new ZfsPoolPlugin(HOST, zfs);
        StorageConfig config = config("zfspool", "pool", "rpool/data");

        plugin.alloc(config, 200, VolumeFormat.SUBVOL, Optional.empty(), 8 * Sizes.GIB);

        assertThat(zfs.commands).contains("zfs create -o acltype=posixacl -o xattr=sa -o refquota=8388608k rpool/data/subvol-200-disk-0");
        assertThat(plugin.path(config, plugin.parseVolume("subvol-200-disk-0"), Optional.empty()))
                .isEqualTo(VolumeLocation.directory(java.nio.file.Path.of("/rpool/data/subvol-200-disk-0")));
        assertThat(plugin.path(config, plugin.parseVolume("vm-100-disk-0"), Optional.of("snap1")))
                .isEqualTo(VolumeLocation.device(java.nio.file.Path.of("/dev/zvol/rpool/data/vm-100-disk-0@snap1")));
    }

    @Test
    void zfsTemplatesAndLinkedClones() {
        Recorder zfs = new Recorder(line -> line.startsWith("zfs list") ? "tank\ntank/base-100-disk-0\n" : "");
        ZfsPoolPlugin plugin = new ZfsPoolPlugin(HOST, zfs);
        StorageConfig config = config("zfspool", "pool", "tank");

        String base = plugin.createBase(config, plugin.parseVolume("vm-100-disk-0"));
        String clone = plugin.clone(config, plugin.parseVolume(base), 101, Optional.empty());

        assertThat(base).isEqualTo("base-100-disk-0");
        assertThat(clone).isEqualTo("base-100-disk-0/vm-101-disk-0");
        assertThat(zfs.commands).containsSubsequence("zfs rename tank/vm-100-disk-0 tank/base-100-disk-0",
                "zfs snapshot tank/base-100-disk-0@__base__", "zfs clone tank/base-100-disk-0@__base__ tank/vm-101-disk-0");
        assertThat(plugin.parseVolume(clone).baseName()).contains("base-100-disk-0");
    }

    @Test
    void zfsListingReadsSizesAndOrigins() {
        String listing = String.join("\n",
                "tank\t-\t-\tfilesystem\tnone\t1000",
                "tank/vm-100-disk-0\t34359738368\t-\tvolume\t-\t4096",
                "tank/vm-101-disk-0\t34359738368\ttank/base-100-disk-1@__base__\tvolume\t-\t8192",
                "tank/subvol-200-disk-0\t-\t-\tfilesystem\t8589934592\t65536",
                "tank/other\t-\t-\tfilesystem\tnone\t1") + "\n";
        ZfsPoolPlugin plugin = new ZfsPoolPlugin(HOST, new Recorder(line -> listing));

        List<VolumeInfo> volumes = plugin.list(config("zfspool", "pool", "tank"), Optional.empty(), Set.of(ContentType.IMAGES, ContentType.ROOTDIR));

        assertThat(volumes).extracting(VolumeInfo::volname, VolumeInfo::size, VolumeInfo::content).containsExactly(
                org.assertj.core.groups.Tuple.tuple("vm-100-disk-0", 34359738368L, ContentType.IMAGES),
                org.assertj.core.groups.Tuple.tuple("base-100-disk-1/vm-101-disk-0", 34359738368L, ContentType.IMAGES),
                org.assertj.core.groups.Tuple.tuple("subvol-200-disk-0", 8589934592L, ContentType.ROOTDIR));
    }

    @Test
    void lvmThinCreatesThinVolumesAndSnapshots() {
        Recorder lvm = new Recorder(line -> line.startsWith("lvs --noheadings -o lv_name") ? "  data\n  vm-100-disk-0\n" : "");
        LvmThinPlugin plugin = new LvmThinPlugin(HOST, lvm);
        StorageConfig config = config("lvmthin", "vgname", "pve", "thinpool", "data");

        String volname = plugin.alloc(config, 100, VolumeFormat.RAW, Optional.empty(), 4 * Sizes.GIB);
        plugin.snapshot(config, plugin.parseVolume(volname), "before");
        plugin.rollback(config, plugin.parseVolume(volname), "before");

        assertThat(volname).isEqualTo("vm-100-disk-1");
        assertThat(lvm.commands).containsSubsequence("lvcreate -V 4194304k --name vm-100-disk-1 --thinpool pve/data",
                "lvcreate -n snap_vm-100-disk-1_before -pr -s pve/vm-100-disk-1",
                "lvremove -f pve/vm-100-disk-1", "lvcreate -kn -n vm-100-disk-1 -s pve/snap_vm-100-disk-1_before");
        assertThat(plugin.path(config, plugin.parseVolume(volname), Optional.empty()).value()).isEqualTo("/dev/pve/vm-100-disk-1");
        assertThat(plugin.spaceNeeded(config, VolumeFormat.RAW, Sizes.GIB)).isZero();
        assertThatThrownBy(() -> plugin.snapshot(config, plugin.parseVolume(volname), "bad name")).hasMessageContaining("invalid snapshot name");
    }

    @Test
    void lvmThinStatusIsThePoolsDataUsage() {
        LvmThinPlugin plugin = new LvmThinPlugin(HOST, new Recorder(line -> "  1073741824:25.00\n"));

        StorageStatus status = plugin.status(config("lvmthin", "vgname", "pve", "thinpool", "data"));

        assertThat(status).isEqualTo(new StorageStatus(1073741824L, 268435456L, 805306368L));
    }

    @Test
    void thickLvmNeedsTheWholeSizeFree() {
        Recorder lvm = new Recorder(line -> line.contains("vg_size") ? "  10737418240:1073741824\n" : "");
        LvmPlugin plugin = new LvmPlugin(HOST, lvm);
        StorageConfig config = config("lvm", "vgname", "vg0");

        assertThat(plugin.spaceNeeded(config, VolumeFormat.RAW, 2 * Sizes.GIB)).isEqualTo(2 * Sizes.GIB);
        assertThat(plugin.status(config).avail()).isEqualTo(Sizes.GIB);
        plugin.alloc(config, 100, VolumeFormat.RAW, Optional.of("vm-100-disk-3"), Sizes.GIB);
        assertThat(lvm.commands).contains("lvcreate -aly -Wy --yes --size 1048576k --name vm-100-disk-3 --addtag pve-vm-100 vg0");
    }

    @Test
    void rbdPathIsAQemuUrlOrAKernelDevice() {
        RbdPlugin plugin = new RbdPlugin(HOST, new Recorder(line -> ""));
        StorageConfig external = new StorageConfig("rbd", "ceph", Map.of("pool", "vms", "monhost", "10.0.0.1 10.0.0.2", "username", "pve"));

        assertThat(plugin.path(external, plugin.parseVolume("vm-100-disk-0"), Optional.empty()).value())
                .isEqualTo("rbd:vms/vm-100-disk-0:mon_host=10.0.0.1;10.0.0.2:auth_supported=cephx:id=pve:keyring=/etc/pve/priv/ceph/ceph.keyring");
        assertThat(plugin.path(config("rbd", "pool", "vms", "krbd", "1", "namespace", "ns1"), plugin.parseVolume("vm-100-disk-0"), Optional.empty()))
                .isEqualTo(VolumeLocation.device(java.nio.file.Path.of("/dev/rbd/vms/ns1/vm-100-disk-0")));
    }

    @Test
    void iscsiDirectLunsAreQemuUrls() {
        IscsiDirectPlugin plugin = new IscsiDirectPlugin(HOST, new Recorder(line -> ""));
        StorageConfig config = config("iscsidirect", "portal", "192.0.2.1", "target", "iqn.2026-01.example:t1");

        assertThat(plugin.path(config, plugin.parseVolume("0.0.3.scsi-36001405"), Optional.empty()).value())
                .isEqualTo("iscsi://192.0.2.1/iqn.2026-01.example:t1/3");
        assertThatThrownBy(() -> plugin.alloc(config, 100, VolumeFormat.RAW, Optional.empty(), Sizes.GIB))
                .hasMessageContaining("does not support allocating volumes");
    }

    @Test
    void networkFileStoragesMountAtTheirPath() {
        NfsPlugin nfs = new NfsPlugin(HOST, new Recorder(line -> ""));
        CifsPlugin cifs = new CifsPlugin(HOST, new Recorder(line -> ""));
        CephFsPlugin cephfs = new CephFsPlugin(HOST, new Recorder(line -> ""));

        assertThat(nfs.mountCommand(config("nfs", "server", "2001:db8::5", "export", "/export/vms", "path", "/mnt/pve/nas", "options", "vers=4.2")))
                .containsExactly("mount", "-t", "nfs", "[2001:db8::5]:/export/vms", "/mnt/pve/nas", "-o", "vers=4.2");
        assertThat(cifs.mountCommand(config("cifs", "server", "files", "share", "vms", "subdir", "pve", "path", "/mnt/pve/smb",
                "username", "admin", "domain", "EXAMPLE", "smbversion", "3.0")))
                .containsExactly("mount", "-t", "cifs", "//files/vms/pve", "/mnt/pve/smb", "-o", "username=admin,domain=EXAMPLE,vers=3.0");
        assertThat(cephfs.mountCommand(config("cephfs", "path", "/mnt/pve/cephfs", "monhost", "10.0.0.1,10.0.0.2", "fs-name", "cephfs")))
                .containsExactly("mount", "-t", "ceph", "10.0.0.1,10.0.0.2:/", "/mnt/pve/cephfs", "-o", "name=admin,fs=cephfs");
        assertThat(nfs.createDefaults("nas")).containsEntry("path", "/mnt/pve/nas");
    }

    @Test
    void optionRulesOfEachTypeAreEnforced() {
        assertThatThrownBy(() -> OptionRules.create(new ZfsPoolPlugin(HOST, new Recorder(l -> "")), "z1", Map.of("sparse", true)))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsEntry("pool", "property is missing and it is not optional"));
        assertThatThrownBy(() -> OptionRules.create(new RbdPlugin(HOST, new Recorder(l -> "")), "r1", Map.of("content", "images,backup")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors().get("content")).contains("backup"));
        assertThatThrownBy(() -> OptionRules.create(new IscsiPlugin(HOST, new Recorder(l -> "")), "i1", Map.of("portal", "192.0.2.1",
                "target", "iqn.x", "path", "/x"))).isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsKey("path"));
        OptionRules.Result pbs = OptionRules.create(new PbsPlugin(HOST), "backup", Map.of("server", "pbs.example.com", "datastore", "main",
                "username", "backup@pbs", "password", "secret", "fingerprint", "ab:".repeat(31) + "ab"));
        assertThat(pbs.options()).containsOnlyKeys("server", "datastore", "username", "fingerprint");
        assertThat(pbs.password()).contains("secret");
        assertThat(OptionRules.create(new LvmThinPlugin(HOST, new Recorder(l -> "")), "t1", Map.of("thinpool", "data", "vgname", "pve",
                "content", "rootdir,images")).options().keySet()).containsExactly("vgname", "thinpool", "content");
    }

    @Test
    void blockVolumeNamesRefuseDirectories() {
        assertThatThrownBy(() -> VolumeNames.parseBlockVolume("100/vm-100-disk-0.raw")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> VolumeNames.parseBlockVolume("vm-100-disk-0/vm-101-disk-0")).hasMessageContaining("not a base volume");
        assertThatThrownBy(() -> VolumeNames.parseBlockVolume("a/b/c")).isInstanceOf(IllegalArgumentException.class);
    }
}
