package org.corral.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.corral.core.cgroup.CgroupHost;
import org.corral.lxc.config.CtConfigCodec;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.config.MountPoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LxcConfigWriterTest {
    @TempDir
    Path lxcConf;

    private static String golden(String name) throws IOException {
        try (InputStream in = LxcConfigWriterTest.class.getResourceAsStream("/golden/lxc/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private HostFacts host(CgroupHost.Layout layout, boolean apparmor, boolean swap) throws IOException {
        Files.writeString(lxcConf.resolve("debian.common.conf"), "");
        Files.writeString(lxcConf.resolve("debian.userns.conf"), "");
        return new HostFacts(layout, Path.of("/sys/fs/cgroup"), apparmor, swap, lxcConf,
                Optional.of("2\ndenylist\n[all]\nkexec_load errno 1\n"), 4);
    }

    @Test
    void unprivilegedDebianContainerGetsIdMapLimitsMountsAndVeths() throws IOException {
        CtSection conf = CtConfigCodec.parse(golden("debian-unprivileged.conf")).main();
        LxcConfigWriter writer = new LxcConfigWriter(host(CgroupHost.Layout.V1, false, true));
        LxcConfigWriter.Generated generated = writer.generate(101, conf, Path.of("/run/corral/lxc/101"),
                Path.of("/srv/storage/images/101/subvol-101-disk-0.subvol"),
                List.of(new LxcConfigWriter.ResolvedMount(MountPoint.parse("mp0", conf.get("mp0").orElseThrow()),
                                Path.of("/srv/storage/images/101/subvol-101-disk-1.subvol")),
                        new LxcConfigWriter.ResolvedMount(MountPoint.parse("mp1", conf.get("mp1").orElseThrow()),
                                Path.of("/srv/shared dir"))));
        assertThat(generated.config()).isEqualTo(golden("debian-unprivileged.lxc").replace("@LXCCONF@", lxcConf.toString()));
        // keyctl=1 lifts Proxmox's keyctl block
        assertThat(generated.seccomp()).isEqualTo("2\ndenylist\n[all]\nkexec_load errno 1\n");
    }

    @Test
    void privilegedUnmanagedContainerOnCgroupV2LetsLxcConfigureAddresses() throws IOException {
        CtSection conf = CtConfigCodec.parse(golden("unmanaged-privileged.conf")).main();
        LxcConfigWriter writer = new LxcConfigWriter(host(CgroupHost.Layout.V2, true, false));
        LxcConfigWriter.Generated generated = writer.generate(102, conf, Path.of("/run/corral/lxc/102"),
                Path.of("/mnt/btrfs/images/102/subvol-102-disk-0"), List.of());
        assertThat(generated.config()).isEqualTo(golden("unmanaged-privileged.lxc").replace("@LXCCONF@", lxcConf.toString()));
    }

    @Test
    void unprivilegedWithoutKeyctlFeatureHidesKeyctl() throws IOException {
        CtSection conf = CtSection.of(java.util.Map.of("unprivileged", "1", "memory", "64"));
        LxcConfigWriter.Generated generated = new LxcConfigWriter(host(CgroupHost.Layout.V1, false, false))
                .generate(103, conf, Path.of("/run/x/103"), Path.of("/r"), List.of());
        assertThat(generated.seccomp()).endsWith("keyctl errno 38\n");
        assertThat(generated.config()).contains("lxc.mount.auto = sys:mixed\n").doesNotContain("memsw");
    }

    @Test
    void customIdMapInRawKeysReplacesTheDefaultOne() throws IOException {
        CtSection conf = CtConfigCodec.parse("unprivileged: 1\nlxc.idmap: u 0 200000 65536\nlxc.idmap: g 0 200000 65536\n").main();
        String config = new LxcConfigWriter(host(CgroupHost.Layout.V1, false, false))
                .generate(104, conf, Path.of("/run/x/104"), Path.of("/r"), List.of()).config();
        assertThat(config).doesNotContain("100000").contains("lxc.idmap = u 0 200000 65536\n");
    }

    @Test
    void broadcastAddressComesFromThePrefix() {
        assertThat(LxcConfigWriter.broadcast("10.0.0.5/24")).isEqualTo("10.0.0.255");
        assertThat(LxcConfigWriter.broadcast("192.168.7.20/23")).isEqualTo("192.168.7.255");
        assertThat(LxcConfigWriter.broadcast("10.1.2.3/32")).isEqualTo("10.1.2.3");
    }
}
