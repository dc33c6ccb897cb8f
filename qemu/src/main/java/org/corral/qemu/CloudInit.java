package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.corral.core.config.Digest;
import org.corral.core.io.FileTrees;
import org.corral.core.process.ProcessRunner;
import org.corral.core.schema.Formats;
import org.corral.qemu.config.NetDevice;
import org.corral.qemu.config.PropertyStrings;
import org.corral.qemu.config.VmConfig;
import org.corral.qemu.config.VmOptions;

/**
 * The cloud-init drive of a VM as a NoCloud ISO (volume label {@code cidata}): user-data from
 * ciuser, cipassword and sshkeys, network-config (version 1) from the ipconfigN, nameserver and
 * searchdomain options, meta-data with an instance-id that changes with them. {@code cicustom}
 * replaces any of the three with a snippet file.
 */
public final class CloudInit {
    /** The files of the drive. */
    public record CloudInitFiles(String userData, String networkConfig, String metaData, Optional<String> vendorData) {
        public CloudInitFiles {
            requireNonNull(userData, "userData is null");
            requireNonNull(networkConfig, "networkConfig is null");
            requireNonNull(metaData, "metaData is null");
            requireNonNull(vendorData, "vendorData is null");
        }
    }

    private final Path resolvConf;

    public CloudInit(Path resolvConf) {
        this.resolvConf = requireNonNull(resolvConf, "resolvConf is null");
    }

    /** The drive's files; {@code snippets} reads a cicustom volume's content. */
    public CloudInitFiles generate(int vmid, VmConfig config, Function<String, String> snippets) {
        Map<String, String> custom = config.get("cicustom").map(c -> PropertyStrings.parse(VmOptions.CICUSTOM, c)).orElse(Map.of());
        String user = Optional.ofNullable(custom.get("user")).map(snippets).orElseGet(() -> userData(vmid, config));
        String network = Optional.ofNullable(custom.get("network")).map(snippets).orElseGet(() -> networkConfig(config));
        Optional<String> vendor = Optional.ofNullable(custom.get("vendor")).map(snippets);
        String meta = Optional.ofNullable(custom.get("meta")).map(snippets)
                .orElseGet(() -> "instance-id: " + Digest.sha1Hex(user + network + vendor.orElse("")) + "\n");
        return new CloudInitFiles(user, network, meta, vendor);
    }

    String userData(int vmid, VmConfig config) {
        String hostname = config.get("name").orElse("VM" + vmid);
        List<String> search = searchDomains(config);
        String fqdn = hostname.contains(".") || search.isEmpty() ? hostname : hostname + "." + search.get(0);
        StringBuilder out = new StringBuilder("#cloud-config\n");
        out.append("hostname: ").append(hostname.contains(".") ? hostname.substring(0, hostname.indexOf('.')) : hostname).append('\n');
        out.append("manage_etc_hosts: true\n");
        out.append("fqdn: ").append(fqdn).append('\n');
        Optional<String> username = config.get("ciuser");
        username.ifPresent(u -> out.append("user: ").append(u).append('\n'));
        if (username.filter("root"::equals).isPresent()) {
            out.append("disable_root: False\n");
        }
        config.get("cipassword").ifPresent(p -> out.append("password: ").append(p).append('\n'));
        config.get("sshkeys").ifPresent(encoded -> {
            List<String> keys = URLDecoder.decode(encoded.replace("+", "%2B"), StandardCharsets.UTF_8).lines()
                    .map(String::strip).filter(k -> !k.isEmpty()).toList();
            out.append("ssh_authorized_keys:\n");
            keys.forEach(k -> out.append("  - ").append(k).append('\n'));
        });
        out.append("chpasswd:\n  expire: False\n");
        if (username.filter("root"::equals).isEmpty()) {
            out.append("users:\n  - default\n");
        }
        if (config.flag("ciupgrade", true)) {
            out.append("package_upgrade: true\n");
        }
        return out.toString();
    }

    String networkConfig(VmConfig config) {
        StringBuilder out = new StringBuilder("version: 1\nconfig:\n");
        String i = "    ";
        for (NetDevice net : config.nets()) {
            Optional<String> ipconfig = config.get("ipconfig" + net.index());
            if (ipconfig.isEmpty()) {
                continue;
            }
            Map<String, String> ip = PropertyStrings.parse(VmOptions.IPCONFIG, ipconfig.get());
            String mac = net.mac().orElseThrow(() -> new IllegalArgumentException("network interface '" + net.key() + "' has no mac address"));
            out.append(i).append("- type: physical\n");
            out.append(i).append("  name: eth").append(net.index()).append('\n');
            out.append(i).append("  mac_address: '").append(mac.toLowerCase(java.util.Locale.ROOT)).append("'\n");
            out.append(i).append("  subnets:\n");
            String j = i + "  ";
            Optional.ofNullable(ip.get("ip")).ifPresent(v4 -> {
                if (v4.equals("dhcp")) {
                    out.append(j).append("- type: dhcp4\n");
                } else {
                    String[] cidr = v4.split("/");
                    out.append(j).append("- type: static\n");
                    out.append(j).append("  address: '").append(cidr[0]).append("'\n");
                    out.append(j).append("  netmask: '").append(netmask(Integer.parseInt(cidr[1]))).append("'\n");
                    Optional.ofNullable(ip.get("gw")).ifPresent(gw -> out.append(j).append("  gateway: '").append(gw).append("'\n"));
                }
            });
            Optional.ofNullable(ip.get("ip6")).ifPresent(v6 -> {
                switch (v6) {
                    case "dhcp" -> out.append(j).append("- type: dhcp6\n");
                    case "auto" -> out.append(j).append("- type: ipv6_slaac\n");
                    default -> {
                        out.append(j).append("- type: static6\n");
                        out.append(j).append("  address: '").append(v6).append("'\n");
                        Optional.ofNullable(ip.get("gw6")).ifPresent(gw -> out.append(j).append("  gateway: '").append(gw).append("'\n"));
                    }
                }
            });
        }
        List<String> search = searchDomains(config);
        List<String> servers = nameservers(config);
        if (!search.isEmpty() || !servers.isEmpty()) {
            out.append(i).append("- type: nameserver\n");
            if (!servers.isEmpty()) {
                out.append(i).append("  address:\n");
                servers.forEach(s -> out.append(i).append("  - '").append(s).append("'\n"));
            }
            if (!search.isEmpty()) {
                out.append(i).append("  search:\n");
                search.forEach(s -> out.append(i).append("  - '").append(s).append("'\n"));
            }
        }
        return out.toString();
    }

    private static String netmask(int bits) {
        long mask = bits == 0 ? 0 : 0xffffffffL << (32 - bits) & 0xffffffffL;
        return (mask >> 24 & 255) + "." + (mask >> 16 & 255) + "." + (mask >> 8 & 255) + "." + (mask & 255);
    }

    /** The VM's search domains, or the host's when neither option is set (as Proxmox does). */
    private List<String> searchDomains(VmConfig config) {
        if (config.has("searchdomain")) {
            return Formats.splitList(config.get("searchdomain").get());
        }
        return config.has("nameserver") ? List.of() : hostResolv("search");
    }

    private List<String> nameservers(VmConfig config) {
        if (config.has("nameserver")) {
            return Formats.splitList(config.get("nameserver").get());
        }
        return config.has("searchdomain") ? List.of() : hostResolv("nameserver");
    }

    private List<String> hostResolv(String keyword) {
        List<String> out = new ArrayList<>();
        try {
            if (!Files.isReadable(resolvConf)) {
                return out;
            }
            for (String line : Files.readAllLines(resolvConf)) {
                String[] words = line.strip().split("\\s+");
                if (words.length > 1 && words[0].equals(keyword)) {
                    out.addAll(List.of(words).subList(1, words.length));
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** Writes the ISO to {@code iso} with xorriso. */
    public void buildIso(CloudInitFiles files, Path iso) {
        Path dir = iso.resolveSibling(iso.getFileName() + ".d");
        try {
            FileTrees.deleteTreeUnchecked(dir);
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("user-data"), files.userData());
            Files.writeString(dir.resolve("network-config"), files.networkConfig());
            Files.writeString(dir.resolve("meta-data"), files.metaData());
            if (files.vendorData().isPresent()) {
                Files.writeString(dir.resolve("vendor-data"), files.vendorData().get());
            }
            Files.deleteIfExists(iso);
            ProcessRunner.of("xorriso", "-as", "mkisofs", "-quiet", "-iso-level", "3", "-J", "-R", "-V", "cidata", "-o", iso.toString(),
                    dir.toString()).output();
        } catch (IOException e) {
            throw new UncheckedIOException("unable to build the cloud-init ISO " + iso, e);
        } finally {
            FileTrees.deleteTreeUnchecked(dir);
        }
    }

    /** Writes an ISO into the drive's volume in the volume's format. */
    public void writeToVolume(Path iso, Path volume, String format) {
        ProcessRunner.of("qemu-img", "convert", "-f", "raw", "-O", format, iso.toString(), volume.toString()).output();
    }
}
