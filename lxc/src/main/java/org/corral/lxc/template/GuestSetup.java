package org.corral.lxc.template;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.corral.core.process.ProcessRunner;
import org.corral.core.schema.Formats;
import org.corral.lxc.config.CtOptions;
import org.corral.lxc.config.CtSection;
import org.corral.lxc.config.NetConfig;

/**
 * What Proxmox writes into a new container for its distribution: {@code /etc/hostname}, the
 * {@code # --- BEGIN PVE ---} section of {@code /etc/hosts} and {@code /etc/resolv.conf}, the
 * network configuration (ifupdown for Debian, Devuan and Alpine, systemd-networkd for Ubuntu),
 * the time zone, root's password hash in {@code /etc/shadow} and root's
 * {@code authorized_keys}. An {@code unmanaged} root is left alone unless it is a busybox system,
 * which gets everything but network files (LXC configures its addresses).
 */
public final class GuestSetup {
    static final String BEGIN = "# --- BEGIN PVE ---";
    static final String END = "# --- END PVE ---";

    /** The host's DNS settings, which a container without its own inherits at create. */
    public record HostDns(List<String> searchDomains, List<String> nameservers) {
        public HostDns {
            searchDomains = List.copyOf(searchDomains);
            nameservers = List.copyOf(nameservers);
        }

        public static HostDns read(Path resolvConf) {
            List<String> search = new ArrayList<>();
            List<String> servers = new ArrayList<>();
            try {
                for (String line : Files.readAllLines(resolvConf)) {
                    String[] parts = line.trim().split("\\s+");
                    if (parts.length >= 2 && (parts[0].equals("search") || parts[0].equals("domain"))) {
                        search.addAll(List.of(parts).subList(1, parts.length));
                    } else if (parts.length >= 2 && parts[0].equals("nameserver")) {
                        servers.add(parts[1]);
                    }
                }
            } catch (IOException e) {
                // no resolv.conf: the container gets none either
            }
            return new HostDns(search, servers);
        }
    }

    /** What the create call asked for besides the config. */
    public record Secrets(Optional<String> password, Optional<String> sshPublicKeys) {
        public static final Secrets NONE = new Secrets(Optional.empty(), Optional.empty());

        public Secrets {
            requireNonNull(password, "password is null");
            requireNonNull(sshPublicKeys, "sshPublicKeys is null");
        }
    }

    private final RootfsFiles files;
    private final Clock clock;
    private final SecureRandom random;

    public GuestSetup(RootfsFiles files, Clock clock, SecureRandom random) {
        this.files = requireNonNull(files, "files is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.random = requireNonNull(random, "random is null");
    }

    /** Whether setup writes anything for {@code ostype} in this root. */
    public boolean manages(String ostype) throws IOException {
        return !ostype.equals("unmanaged") || isBusybox();
    }

    private boolean isBusybox() throws IOException {
        return files.exists("/bin/busybox");
    }

    public void apply(String ostype, CtSection conf, Secrets secrets, HostDns hostDns) throws IOException {
        if (!manages(ostype)) {
            return;
        }
        String hostname = conf.get("hostname").orElse("localhost");
        String shortName = hostname.contains(".") ? hostname.substring(0, hostname.indexOf('.')) : hostname;
        List<String> searchDomains = conf.has("searchdomain") || conf.has("nameserver")
                ? conf.get("searchdomain").map(Formats::splitList).orElse(List.of()) : hostDns.searchDomains();
        List<String> nameservers = conf.has("searchdomain") || conf.has("nameserver")
                ? conf.get("nameserver").map(Formats::splitList).orElse(List.of()) : hostDns.nameservers();
        List<NetConfig> nets = conf.options().keySet().stream().filter(CtOptions::isNet)
                .sorted(Comparator.comparingInt(CtOptions::index))
                .map(k -> NetConfig.parse(k, conf.get(k).orElseThrow())).toList();

        files.write("/etc/hostname", shortName + "\n", "rw-r--r--");
        files.write("/etc/hosts", hosts(files.read("/etc/hosts").orElse(""), hostname, shortName, searchDomains, nets), "rw-r--r--");
        files.write("/etc/resolv.conf", section(searchDomains.isEmpty() ? "" : "search " + String.join(" ", searchDomains) + "\n",
                nameservers), "rw-r--r--");
        switch (ostype) {
            case "debian", "devuan", "alpine" -> files.write("/etc/network/interfaces", ifupdown(nets), "rw-r--r--");
            case "ubuntu" -> {
                for (NetConfig net : nets) {
                    files.write("/etc/systemd/network/" + net.name() + ".network", networkd(net), "rw-r--r--");
                }
            }
            default -> { }
        }
        Optional<String> timezone = conf.get("timezone").filter(tz -> !tz.equals("host"));
        if (timezone.isPresent() && files.exists("/usr/share/zoneinfo/" + timezone.get())) {
            files.write("/etc/timezone", timezone.get() + "\n", "rw-r--r--");
            files.symlink("/etc/localtime", "/usr/share/zoneinfo/" + timezone.get());
        }
        if (secrets.password().isPresent()) {
            setRootPassword(secrets.password().get());
        }
        generateSshHostKeys();
        if (secrets.sshPublicKeys().isPresent()) {
            String home = rootHome();
            files.mkdir(home + "/.ssh", "rwx------");
            String keys = secrets.sshPublicKeys().get().strip() + "\n";
            files.write(home + "/.ssh/authorized_keys", latin1(keys), "rw-------");
        }
    }

    /** The text as the bytes of its UTF-8 form, for files read and written byte for byte. */
    private static String latin1(String text) {
        return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    private static String section(String search, List<String> nameservers) {
        StringBuilder out = new StringBuilder(BEGIN).append('\n').append(search);
        nameservers.forEach(ns -> out.append("nameserver ").append(ns).append('\n'));
        return out.append(END).append('\n').toString();
    }

    static String hosts(String existing, String hostname, String shortName, List<String> domains, List<NetConfig> nets) {
        String address = nets.stream().map(n -> n.ip().orElse("")).filter(ip -> ip.contains("/"))
                .map(ip -> ip.substring(0, ip.indexOf('/'))).findFirst().orElse("127.0.1.1");
        StringBuilder names = new StringBuilder();
        if (hostname.contains(".")) {
            names.append(hostname).append(' ').append(shortName);
        } else {
            domains.forEach(d -> names.append(hostname).append('.').append(d).append(' '));
            names.append(hostname);
        }
        StringBuilder out = new StringBuilder(BEGIN).append('\n')
                .append("127.0.0.1 localhost.localnet localhost\n")
                .append("::1 localhost.localnet localhost\n")
                .append(address).append(' ').append(names).append('\n')
                .append(END).append('\n');
        boolean inSection = false;
        for (String line : existing.split("\n", -1)) {
            if (line.equals(BEGIN)) {
                inSection = true;
            } else if (line.equals(END)) {
                inSection = false;
            } else if (!inSection && !line.isBlank() && !isManagedHostsLine(line)) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    /** Lines the section replaces: the loopback names a template ships. */
    private static boolean isManagedHostsLine(String line) {
        String[] parts = line.trim().split("\\s+");
        return parts.length >= 2 && (parts[0].equals("127.0.0.1") || parts[0].equals("::1") || parts[0].equals("127.0.1.1"))
                && (line.contains("localhost") || parts[0].equals("127.0.1.1"));
    }

    static String ifupdown(List<NetConfig> nets) {
        StringBuilder out = new StringBuilder("auto lo\niface lo inet loopback\niface lo inet6 loopback\n\n");
        for (NetConfig net : nets) {
            if (net.ip().isEmpty() && net.ip6().isEmpty()) {
                continue;
            }
            out.append("auto ").append(net.name()).append('\n');
            net.ip().ifPresent(ip -> {
                if (ip.contains("/")) {
                    String[] parts = ip.split("/");
                    out.append("iface ").append(net.name()).append(" inet static\n")
                            .append("\taddress ").append(parts[0]).append('\n')
                            .append("\tnetmask ").append(netmask(Integer.parseInt(parts[1]))).append('\n');
                    net.gw().ifPresent(gw -> out.append("\tgateway ").append(gw).append('\n'));
                } else {
                    out.append("iface ").append(net.name()).append(" inet ").append(ip).append('\n');
                }
            });
            net.ip6().ifPresent(ip -> {
                if (ip.contains("/")) {
                    String[] parts = ip.split("/");
                    out.append("iface ").append(net.name()).append(" inet6 static\n")
                            .append("\taddress ").append(parts[0]).append('\n')
                            .append("\tnetmask ").append(parts[1]).append('\n');
                    net.gw6().ifPresent(gw -> out.append("\tgateway ").append(gw).append('\n'));
                } else {
                    out.append("iface ").append(net.name()).append(" inet6 ").append(ip).append('\n');
                }
            });
            out.append('\n');
        }
        return out.toString();
    }

    static String networkd(NetConfig net) {
        StringBuilder out = new StringBuilder("[Match]\nName = ").append(net.name()).append("\n\n[Network]\n")
                .append("Description = Interface ").append(net.name()).append(" autoconfigured by PVE\n");
        String ip = net.ip().orElse("");
        String ip6 = net.ip6().orElse("");
        if (ip.contains("/")) {
            out.append("Address = ").append(ip).append('\n');
            net.gw().ifPresent(gw -> out.append("Gateway = ").append(gw).append('\n'));
        }
        if (ip6.contains("/")) {
            out.append("Address = ").append(ip6).append('\n');
            net.gw6().ifPresent(gw -> out.append("Gateway = ").append(gw).append('\n'));
        }
        boolean dhcp4 = ip.equals("dhcp");
        boolean dhcp6 = ip6.equals("dhcp");
        out.append("DHCP = ").append(dhcp4 && dhcp6 ? "yes" : dhcp4 ? "ipv4" : dhcp6 ? "ipv6" : "no").append('\n');
        out.append("IPv6AcceptRA = ").append(ip6.equals("auto") ? "true" : "false").append('\n');
        return out.toString();
    }

    static String netmask(int prefix) {
        long mask = prefix == 0 ? 0 : (0xFFFF_FFFFL << (32 - prefix)) & 0xFFFF_FFFFL;
        return (mask >> 24 & 0xff) + "." + (mask >> 16 & 0xff) + "." + (mask >> 8 & 0xff) + "." + (mask & 0xff);
    }

    private void setRootPassword(String password) throws IOException {
        String hash = ShaCrypt.hash(password, random);
        long days = clock.instant().getEpochSecond() / 86_400;
        String existing = files.read("/etc/shadow").orElse("");
        StringBuilder out = new StringBuilder();
        boolean found = false;
        for (String line : existing.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String[] fields = line.split(":", -1);
            if (fields[0].equals("root") && fields.length >= 3) {
                fields[1] = hash;
                fields[2] = Long.toString(days);
                line = String.join(":", fields);
                found = true;
            }
            out.append(line).append('\n');
        }
        if (!found) {
            out.insert(0, "root:" + hash + ":" + days + ":0:99999:7:::\n");
        }
        files.write("/etc/shadow", out.toString(), "rw-r-----");
    }

    /** Each container gets its own host keys, as Proxmox makes them at create; templates ship none. */
    private void generateSshHostKeys() throws IOException {
        if (!files.exists("/etc/ssh/sshd_config") || !ProcessRunner.available("ssh-keygen")) {
            return;
        }
        Path scratch = Files.createTempDirectory("corral-sshkeys-");
        try {
            for (String type : List.of("rsa", "ecdsa", "ed25519")) {
                String name = "ssh_host_" + type + "_key";
                if (files.exists("/etc/ssh/" + name)) {
                    continue;
                }
                ProcessRunner.of("ssh-keygen", "-q", "-t", type, "-N", "", "-C", "root@" + files.root().getFileName(),
                        "-f", scratch.resolve(name).toString()).timeout(Duration.ofMinutes(1)).run().check();
                files.write("/etc/ssh/" + name, Files.readString(scratch.resolve(name), StandardCharsets.ISO_8859_1), "rw-------");
                files.write("/etc/ssh/" + name + ".pub", Files.readString(scratch.resolve(name + ".pub"), StandardCharsets.ISO_8859_1),
                        "rw-r--r--");
            }
        } finally {
            try (var listing = Files.list(scratch)) {
                for (Path p : listing.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(scratch);
        }
    }

    private String rootHome() throws IOException {
        return files.read("/etc/passwd").flatMap(p -> p.lines()
                .map(l -> l.split(":", -1))
                .filter(f -> f.length >= 6 && f[0].equals("root") && f[5].startsWith("/"))
                .map(f -> f[5]).findFirst()).orElse("/root");
    }
}
