package org.corral.lxc.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Validator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CtOptionsTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // given | Proxmox writes
        "bridge=vmbr0,name=eth0,ip=dhcp,type=veth,hwaddr=BC:24:11:2E:5B:93,firewall=1 | name=eth0,bridge=vmbr0,firewall=1,hwaddr=BC:24:11:2E:5B:93,ip=dhcp,type=veth",
        "name=eth1,ip6=auto,bridge=vmbr1,tag=5,rate=12.50,mtu=1400 | name=eth1,bridge=vmbr1,ip6=auto,mtu=1400,rate=12.5,tag=5",
        "name=eth0,firewall=yes | name=eth0,firewall=1",
    })
    void netIsNormalizedToProxmoxKeyOrder(String given, String expected) {
        assertThat(NetConfig.parse("net0", given).format()).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "rootfs | local:100/subvol-100-disk-0.subvol,size=8192M | local:100/subvol-100-disk-0.subvol,size=8G",
        "rootfs | volume=local-btrfs:subvol-100-disk-0,ro=1,size=0,acl=0 | local-btrfs:subvol-100-disk-0,acl=0,ro=1,size=0T",
        "mp0 | local:4,size=4G,backup=1,mp=/mnt/data | local:4,mp=/mnt/data,backup=1,size=4G",
        "mp1 | /srv/shared,mp=/shared,ro=1 | /srv/shared,mp=/shared,ro=1",
    })
    void mountPointsAreNormalizedToProxmoxKeyOrderAndSizes(String key, String given, String expected) {
        assertThat(MountPoint.parse(key, given).format()).isEqualTo(expected);
    }

    @Test
    void mountPointTypeFollowsTheVolumeSpelling() {
        assertThat(MountPoint.parse("mp0", "local:4,mp=/a").type()).isEqualTo(MountPoint.Type.VOLUME);
        assertThat(MountPoint.parse("mp0", "/srv,mp=/a").type()).isEqualTo(MountPoint.Type.BIND);
        assertThat(MountPoint.parse("mp0", "/dev/sdb1,mp=/a").type()).isEqualTo(MountPoint.Type.DEVICE);
        assertThat(MountPoint.parse("rootfs", "local:8").path()).isEqualTo("/");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "net0 | name=eth0,ip=300.1.1.1/24",
        "net0 | name=eth0,ip=10.0.0.1",
        "net0 | bridge=vmbr0",
        "net0 | name=eth0,tag=5000",
        "net0 | name=eth0,hwaddr=01:00:00:00:00:01",
        "net0 | name=eth0,bogus=1",
        "rootfs | local:8,size=lots",
        "mp0 | local:8",
        "features | nesting=2",
        "memory | 8",
        "tty | 7",
        "hostname | -bad-",
        "tags | a,b/c",
        "startup | order=1,later=5",
    })
    void schemaRefusesBadValues(String key, String value) {
        assertThatThrownBy(() -> Validator.validate(Map.of(key, CtOptions.all().get(key)), Map.of(key, value)))
                .isInstanceOf(ParameterError.class)
                .satisfies(e -> assertThat(((ParameterError) e).errors()).containsKey(key));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "net0 | name=eth0,ip6=fe80::zz/64",
        "net0 | name=eth0,gw6=1.2.3.4",
        "mp0 | local:8,mp=relative/path",
        "mp0 | /srv/../etc,mp=/x",
        "mp0 | local:8,mp=/a/./b",
        "nameserver | 10.0.0.1 not-an-ip",
    })
    void semanticCheckRefusesWhatPatternsMiss(String key, String value) {
        assertThat(CtOptions.check(key, value)).isPresent();
    }

    @Test
    void goodValuesPassBothChecks() {
        Map<String, String> good = Map.of(
                "net0", "name=eth0,bridge=vmbr0,ip=192.168.1.5/24,gw=192.168.1.1,ip6=fd00::5/64,gw6=fd00::1,tag=10",
                "rootfs", "local:8",
                "mp3", "local:2,mp=/var/lib/data,backup=1",
                "features", "nesting=1,keyctl=1,mount=nfs;cifs",
                "startup", "order=1,up=30,down=60",
                "tags", "a;b-c;d.e",
                "searchdomain", "example.com corp.example.com",
                "nameserver", "10.0.0.1 fd00::53");
        good.forEach((key, value) -> {
            Validator.validate(Map.of(key, CtOptions.all().get(key)), Map.of(key, value));
            assertThat(CtOptions.check(key, value)).as(key).isEmpty();
        });
    }

    @Test
    void featuresParseTheMountList() {
        Features f = Features.parse("mount=nfs;cifs,nesting=1");
        assertThat(f.nesting()).isTrue();
        assertThat(f.keyctl()).isFalse();
        assertThat(f.mount()).containsExactly("nfs", "cifs");
    }

    @Test
    void diskSizesFollowProxmoxFormatSize() {
        assertThat(DiskSize.format(8L << 30)).isEqualTo("8G");
        assertThat(DiskSize.format(1536L << 20)).isEqualTo("1536M");
        assertThat(DiskSize.format(0)).isEqualTo("0T");
        assertThat(DiskSize.parse("0.5G")).hasValue(512L << 20);
        assertThat(DiskSize.parse("x")).isEmpty();
    }
}
