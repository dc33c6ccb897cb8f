package org.corral.lxc.template;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.corral.lxc.config.CtConfigCodec;
import org.corral.lxc.config.CtSection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestSetupTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T00:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path root;

    private static String golden(String name) throws IOException {
        try (InputStream in = GuestSetupTest.class.getResourceAsStream("/golden/setup/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void file(String path, String text) throws IOException {
        Path p = root.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    @Test
    void debianGetsHostnameHostsResolvConfInterfacesPasswordAndKeys() throws IOException {
        file("etc/debian_version", "12.5\n");
        file("etc/hosts", "127.0.0.1 localhost\n127.0.1.1 debian\n10.9.9.9 backup-server\n");
        file("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
        file("etc/shadow", "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
        CtSection conf = CtConfigCodec.parse("""
                hostname: test1
                nameserver: 8.8.8.8 8.8.4.4
                net0: name=eth0,bridge=vmbr0,gw=1.2.3.1,ip=1.2.3.4/24
                net1: name=eth1,bridge=vmbr0,gw6=fd00::1,ip=dhcp,ip6=fd00::5/64
                net2: name=eth2,bridge=vmbr0,ip=manual
                searchdomain: example.com
                """).main();
        RootfsFiles files = new RootfsFiles(root, 0, 0);
        new GuestSetup(files, CLOCK, new SecureRandom()).apply("debian", conf,
                new GuestSetup.Secrets(Optional.of("s3cret"), Optional.of("ssh-ed25519 AAAAC3Nza test@example\n")),
                new GuestSetup.HostDns(List.of("host.example"), List.of("9.9.9.9")));

        assertThat(root.resolve("etc/hostname")).hasContent("test1");
        assertThat(Files.readString(root.resolve("etc/hosts"))).isEqualTo(golden("debian-hosts.exp"));
        assertThat(Files.readString(root.resolve("etc/resolv.conf"))).isEqualTo(golden("debian-resolv.conf.exp"));
        assertThat(Files.readString(root.resolve("etc/network/interfaces"))).isEqualTo(golden("debian-interfaces.exp"));
        String shadow = Files.readString(root.resolve("etc/shadow"));
        assertThat(shadow).matches("(?s)root:\\$5\\$[^:]+:20455:0:99999:7:::\ndaemon:\\*:19000:0:99999:7:::\n");
        String hash = shadow.substring(5, shadow.indexOf(':', 5));
        String salt = hash.split("\\$")[2];
        assertThat(ShaCrypt.hash("s3cret", salt)).isEqualTo(hash);
        assertThat(root.resolve("root/.ssh/authorized_keys")).hasContent("ssh-ed25519 AAAAC3Nza test@example");
        assertThat(Files.getPosixFilePermissions(root.resolve("root/.ssh/authorized_keys"), LinkOption.NOFOLLOW_LINKS))
                .hasSize(2);
    }

    @Test
    void containerWithoutDnsSettingsInheritsTheHosts() throws IOException {
        file("etc/debian_version", "12\n");
        new GuestSetup(new RootfsFiles(root, 0, 0), CLOCK, new SecureRandom()).apply("debian",
                CtConfigCodec.parse("hostname: a\n").main(), GuestSetup.Secrets.NONE,
                new GuestSetup.HostDns(List.of("corp.example"), List.of("10.0.0.53")));
        assertThat(Files.readString(root.resolve("etc/resolv.conf")))
                .isEqualTo("# --- BEGIN PVE ---\nsearch corp.example\nnameserver 10.0.0.53\n# --- END PVE ---\n");
        assertThat(Files.readString(root.resolve("etc/hosts"))).contains("127.0.1.1 a.corp.example a\n");
    }

    @Test
    void timezoneLinksLocaltimeToTheGuestsZoneinfo() throws IOException {
        file("etc/debian_version", "12\n");
        file("usr/share/zoneinfo/Europe/Vienna", "TZif");
        file("etc/localtime", "old");
        new GuestSetup(new RootfsFiles(root, 0, 0), CLOCK, new SecureRandom()).apply("debian",
                CtConfigCodec.parse("timezone: Europe/Vienna\n").main(), GuestSetup.Secrets.NONE,
                new GuestSetup.HostDns(List.of(), List.of()));
        assertThat(Files.readSymbolicLink(root.resolve("etc/localtime"))).isEqualTo(Path.of("/usr/share/zoneinfo/Europe/Vienna"));
        assertThat(root.resolve("etc/timezone")).hasContent("Europe/Vienna");
    }

    @Test
    void ubuntuGetsSystemdNetworkdFiles() throws IOException {
        CtSection conf = CtConfigCodec.parse("net0: name=eth0,bridge=vmbr0,ip=10.1.1.2/16,gw=10.1.0.1,ip6=auto\n").main();
        new GuestSetup(new RootfsFiles(root, 0, 0), CLOCK, new SecureRandom()).apply("ubuntu", conf, GuestSetup.Secrets.NONE,
                new GuestSetup.HostDns(List.of(), List.of()));
        assertThat(Files.readString(root.resolve("etc/systemd/network/eth0.network"))).isEqualTo("""
                [Match]
                Name = eth0

                [Network]
                Description = Interface eth0 autoconfigured by PVE
                Address = 10.1.1.2/16
                Gateway = 10.1.0.1
                DHCP = no
                IPv6AcceptRA = true
                """);
    }

    @Test
    void unmanagedNonBusyboxRootIsLeftAlone() throws IOException {
        new GuestSetup(new RootfsFiles(root, 0, 0), CLOCK, new SecureRandom()).apply("unmanaged",
                CtConfigCodec.parse("hostname: a\n").main(), GuestSetup.Secrets.NONE, new GuestSetup.HostDns(List.of(), List.of()));
        try (var listing = Files.list(root)) {
            assertThat(listing.toList()).isEmpty();
        }
    }

    @Test
    void busyboxRootGetsHostnameAndPasswordButNoNetworkFiles() throws IOException {
        file("bin/busybox", "");
        file("etc/shadow", "root:*:19000:0:99999:7:::\n");
        new GuestSetup(new RootfsFiles(root, 0, 0), CLOCK, new SecureRandom()).apply("unmanaged",
                CtConfigCodec.parse("hostname: bb\nnet0: name=eth0,ip=10.0.0.2/24\n").main(),
                new GuestSetup.Secrets(Optional.of("pw"), Optional.empty()), new GuestSetup.HostDns(List.of(), List.of()));
        assertThat(root.resolve("etc/hostname")).hasContent("bb");
        assertThat(root.resolve("etc/network/interfaces")).doesNotExist();
        assertThat(Files.readString(root.resolve("etc/shadow"))).startsWith("root:$5$");
    }
}
