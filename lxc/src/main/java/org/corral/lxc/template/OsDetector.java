package org.corral.lxc.template;

import java.io.IOException;
import java.util.Locale;
import java.util.Optional;

/**
 * The {@code ostype} of a root file system, from the release files each distribution ships
 * (Proxmox's {@code LXC::Setup} probes). A root with none of them, such as a busybox one, is
 * {@code unmanaged}: Corral then writes nothing into it and LXC configures its addresses.
 */
public final class OsDetector {
    private OsDetector() {}

    public static String detect(RootfsFiles files) throws IOException {
        if (files.exists("/etc/alpine-release")) {
            return "alpine";
        }
        Optional<String> osId = osReleaseId(files);
        if (osId.isPresent()) {
            switch (osId.get()) {
                case "ubuntu" -> { return "ubuntu"; }
                case "devuan" -> { return "devuan"; }
                case "debian" -> { return "debian"; }
                case "alpine" -> { return "alpine"; }
                case "fedora" -> { return "fedora"; }
                case "centos", "rhel", "rocky", "almalinux" -> { return "centos"; }
                case "arch", "archarm" -> { return "archlinux"; }
                case "gentoo" -> { return "gentoo"; }
                case "nixos" -> { return "nixos"; }
                default -> {
                    if (osId.get().startsWith("opensuse") || osId.get().equals("sles")) {
                        return "opensuse";
                    }
                }
            }
        }
        if (files.read("/etc/lsb-release").map(t -> t.contains("DISTRIB_ID=Ubuntu")).orElse(false)) {
            return "ubuntu";
        }
        if (files.exists("/etc/devuan_version")) {
            return "devuan";
        }
        if (files.exists("/etc/debian_version")) {
            return "debian";
        }
        if (files.exists("/etc/fedora-release")) {
            return "fedora";
        }
        if (files.exists("/etc/redhat-release") || files.exists("/etc/centos-release")) {
            return "centos";
        }
        if (files.exists("/etc/arch-release")) {
            return "archlinux";
        }
        if (files.exists("/etc/gentoo-release")) {
            return "gentoo";
        }
        return "unmanaged";
    }

    private static Optional<String> osReleaseId(RootfsFiles files) throws IOException {
        Optional<String> text = files.read("/etc/os-release");
        if (text.isEmpty()) {
            text = files.read("/usr/lib/os-release");
        }
        return text.flatMap(t -> t.lines()
                .filter(l -> l.startsWith("ID="))
                .map(l -> l.substring(3).trim().replace("\"", "").replace("'", "").toLowerCase(Locale.ROOT))
                .findFirst());
    }
}
