package org.corral.qemu.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.corral.core.fixture.FixtureCache;
import org.corral.core.io.FileTrees;

/**
 * The test guest: a bootable ISO with Debian's cloud kernel and a busybox-static initramfs, built
 * once per machine into the fixture cache ({@link FixtureCache}) and reused. Its init loads the disk drivers,
 * prints the first disk's previous marker, writes a new one, and then prints
 * {@code CORRAL-GUEST-READY disk=... tick=N carrier=0|1|none} on the serial console every half
 * second (carrier: the link state of eth0). It powers off on the ACPI power button.
 */
public final class GuestImage {
    public static final String READY = "CORRAL-GUEST-READY";
    public static final String DISK_MARKER = "CORRAL-DISK-MARKER";
    private static final String VERSION = "v4";
    private static final List<String> MODULES = List.of("virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "ata_piix",
            "virtio_net", "button", "evdev");
    private static final Pattern DEPENDS = Pattern.compile("depends=([a-z0-9_,\\-]*)");

    private GuestImage() {}

    public static Path cacheDir() {
        return FixtureCache.dir("qemu-guest");
    }

    /** The ISO, built first if the cache has none: once per machine, however many threads and JVMs ask. */
    public static Path iso() {
        return FixtureCache.file("qemu-guest", "corral-guest-" + VERSION + ".iso", dir -> {
            Path iso = dir.resolve("corral-guest-" + VERSION + ".iso");
            build(dir, iso);
            return iso;
        });
    }

    private static void build(Path cache, Path iso) throws IOException {
        Path work = Files.createTempDirectory(cache, "build");
        try {
            Path kernelRoot = unpackKernel(cache, work);
            Path modulesDir;
            try (Stream<Path> dirs = Files.list(kernelRoot.resolve("lib/modules"))) {
                modulesDir = dirs.findFirst().orElseThrow().resolve("kernel");
            }
            Path vmlinuz;
            try (Stream<Path> boot = Files.list(kernelRoot.resolve("boot"))) {
                vmlinuz = boot.filter(p -> p.getFileName().toString().startsWith("vmlinuz")).findFirst().orElseThrow();
            }
            Map<String, Path> all = new LinkedHashMap<>();
            try (Stream<Path> files = Files.walk(modulesDir)) {
                files.filter(p -> p.toString().endsWith(".ko")).forEach(p -> all.put(p.getFileName().toString().replace(".ko", ""), p));
            }
            Set<String> ordered = new LinkedHashSet<>();
            for (String module : MODULES) {
                addWithDependencies(module, all, ordered);
            }
            Path isoRoot = work.resolve("iso");
            Path isolinux = isoRoot.resolve("isolinux");
            Files.createDirectories(isolinux);
            Files.copy(vmlinuz, isolinux.resolve("vmlinuz"));
            Files.write(isolinux.resolve("initrd.gz"), initramfs(ordered, all));
            Files.copy(Path.of("/usr/lib/ISOLINUX/isolinux.bin"), isolinux.resolve("isolinux.bin"));
            Files.copy(Path.of("/usr/lib/syslinux/modules/bios/ldlinux.c32"), isolinux.resolve("ldlinux.c32"));
            Files.writeString(isolinux.resolve("isolinux.cfg"), """
                    DEFAULT corral
                    PROMPT 0
                    TIMEOUT 0
                    LABEL corral
                      KERNEL vmlinuz
                      APPEND initrd=initrd.gz console=ttyS0 quiet panic=-1
                    """);
            Path tmp = work.resolve("guest.iso");
            run(work, "xorriso", "-as", "mkisofs", "-quiet", "-o", tmp.toString(), "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat",
                    "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "-V", "CORRAL", isoRoot.toString());
            Files.move(tmp, iso, StandardCopyOption.ATOMIC_MOVE);
            // images of earlier fixture versions are of no use any more
            try (Stream<Path> old = Files.list(cache)) {
                for (Path p : old.filter(p -> p.getFileName().toString().matches("corral-guest-v\\d+\\.iso") && !p.equals(iso)).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        } finally {
            FileTrees.deleteTree(work);
        }
    }

    /** Downloads Debian's current cloud kernel package (cached) and unpacks it. */
    private static Path unpackKernel(Path cache, Path work) throws IOException {
        Path deb;
        try (Stream<Path> files = Files.list(cache)) {
            deb = files.filter(p -> p.getFileName().toString().matches("linux-image-.*-cloud-amd64_.*\\.deb")).findFirst().orElse(null);
        }
        if (deb == null) {
            String depends = run(work, "apt-cache", "depends", "linux-image-cloud-amd64");
            Matcher m = Pattern.compile("Depends: (linux-image-[0-9.\\-]+-cloud-amd64)").matcher(depends);
            if (!m.find()) {
                throw new IOException("no cloud kernel package found by apt-cache: " + depends);
            }
            Path download = Files.createTempDirectory(cache, "download");
            try {
                run(download, "apt-get", "download", m.group(1));
                try (Stream<Path> files = Files.list(download)) {
                    Path fetched = files.filter(p -> p.toString().endsWith(".deb")).findFirst().orElseThrow();
                    deb = cache.resolve(fetched.getFileName());
                    Files.move(fetched, deb, StandardCopyOption.ATOMIC_MOVE);
                }
            } finally {
                FileTrees.deleteTree(download);
            }
        }
        Path root = work.resolve("kernel");
        run(work, "dpkg-deb", "-x", deb.toString(), root.toString());
        return root;
    }

    private static void addWithDependencies(String module, Map<String, Path> all, Set<String> ordered) throws IOException {
        if (ordered.contains(module)) {
            return;
        }
        Path file = all.get(module);
        if (file == null) {
            throw new IOException("kernel module " + module + " not found in the cloud kernel");
        }
        String info = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        Matcher m = DEPENDS.matcher(info);
        if (m.find()) {
            for (String dependency : m.group(1).split(",")) {
                if (!dependency.isEmpty()) {
                    addWithDependencies(dependency, all, ordered);
                }
            }
        }
        ordered.add(module);
    }

    static String init(Set<String> modules) {
        return """
                #!/bin/busybox sh
                /bin/busybox --install -s /bin
                export PATH=/bin
                mount -t proc proc /proc
                mount -t sysfs sysfs /sys
                mount -t devtmpfs devtmpfs /dev 2>/dev/null
                for m in %s; do insmod /lib/modules/$m.ko 2>/dev/null; done
                disk=
                for i in $(seq 1 100); do
                  for d in /dev/vda /dev/sda; do [ -b $d ] && { disk=$d; break 2; }; done
                  sleep 0.1
                done
                if [ -n "$disk" ]; then
                  echo "CORRAL-PREVIOUS $(dd if=$disk bs=512 count=1 2>/dev/null | tr -d '\\000' | head -n 1)"
                  echo "%s boot=$(cat /proc/sys/kernel/random/boot_id)" | dd of=$disk bs=512 count=1 conv=sync,notrunc 2>/dev/null
                  sync
                fi
                mkdir -p /etc/acpi/PWRF
                printf '#!/bin/sh\\npoweroff -f\\n' > /etc/acpi/PWRF/00000080
                chmod +x /etc/acpi/PWRF/00000080
                acpid -f -c /etc/acpi -l /tmp/acpid.log &
                # ready only once acpid holds the power button's input device: a powerdown sent earlier is lost
                acpi=$!
                for i in $(seq 1 100); do
                  ls -l /proc/$acpi/fd 2>/dev/null | grep -q /dev/input && break
                  sleep 0.1
                done
                for nic in /sys/class/net/eth*; do [ -e "$nic" ] && ip link set "${nic##*/}" up; done
                n=0
                while true; do
                  n=$((n+1))
                  echo "%s disk=${disk:-none} tick=$n carrier=$(cat /sys/class/net/eth0/carrier 2>/dev/null || echo none)"
                  sleep 0.5
                done
                """.formatted(String.join(" ", modules), DISK_MARKER, READY);
    }

    private static byte[] initramfs(Set<String> modules, Map<String, Path> all) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
            Cpio cpio = new Cpio(gzip);
            for (String dir : List.of("bin", "dev", "etc", "lib", "lib/modules", "proc", "sys", "tmp", "mnt")) {
                cpio.directory(dir);
            }
            cpio.device("dev/console", 5, 1);
            cpio.device("dev/null", 1, 3);
            cpio.file("bin/busybox", Files.readAllBytes(Path.of("/bin/busybox")), 0755);
            for (String module : modules) {
                cpio.file("lib/modules/" + module + ".ko", Files.readAllBytes(all.get(module)), 0644);
            }
            cpio.file("init", init(modules).getBytes(StandardCharsets.UTF_8), 0755);
            cpio.trailer();
        }
        return bytes.toByteArray();
    }

    /** The newc cpio format the kernel unpacks initramfs from. */
    private static final class Cpio {
        private final OutputStream out;
        private int inode = 1;

        Cpio(OutputStream out) {
            this.out = out;
        }

        void directory(String name) throws IOException {
            entry(name, 040755, new byte[0], 0, 0);
        }

        void device(String name, int major, int minor) throws IOException {
            entry(name, 020600, new byte[0], major, minor);
        }

        void file(String name, byte[] data, int mode) throws IOException {
            entry(name, 0100000 | mode, data, 0, 0);
        }

        void trailer() throws IOException {
            entry("TRAILER!!!", 0, new byte[0], 0, 0);
        }

        private void entry(String name, int mode, byte[] data, int rdevMajor, int rdevMinor) throws IOException {
            byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
            String header = "070701" + hex(inode++) + hex(mode) + hex(0) + hex(0) + hex(1) + hex(0) + hex(data.length)
                    + hex(0) + hex(0) + hex(rdevMajor) + hex(rdevMinor) + hex(nameBytes.length) + hex(0);
            byte[] h = header.getBytes(StandardCharsets.US_ASCII);
            out.write(h);
            out.write(nameBytes);
            pad(h.length + nameBytes.length);
            out.write(data);
            pad(data.length);
        }

        private void pad(int length) throws IOException {
            int rest = (4 - length % 4) % 4;
            out.write(new byte[rest]);
        }

        private static String hex(int value) {
            return String.format("%08X", value);
        }
    }

    private static String run(Path dir, String... command) throws IOException {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return output;
    }
}
