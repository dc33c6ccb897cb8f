package org.corral.qemu;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides once per daemon whether KVM can run guests here. {@code /dev/kvm} must exist and open
 * read-write, and a tiny guest must run under {@code -accel kvm}: a boot sector that writes
 * {@code R} in real mode, {@code P} after entering protected mode and {@code I} after an
 * {@code iret} to a debug port. Some hosts offer a {@code /dev/kvm} (nested setups, PVM) on which
 * ordinary guests stop with an emulation failure or hang; they fail this probe within seconds.
 */
public final class KvmProbe {
    private static final Logger log = LoggerFactory.getLogger(KvmProbe.class);
    /** The boot sector, assembled from kvm-probe.S (in this package's resources) with GNU as. */
    private static final String BOOT_SECTOR_HEX = "fa31c08ed88ed0bc007cba0404b052ee0f0116687c0f20c06683c8010f22c0ea247c08"
            + "0066b810008ed88ed08ec0bc0070000066ba0404b050ee9c6a0868437c0000cf66ba0404b049eeb00aeef4ebfd000000000000"
            + "0000ffff0000009acf00ffff00000092cf001700507c";
    static final String EXPECTED = "RPI";

    /** The outcome: usable or not, and why not. */
    public record Verdict(boolean usable, String reason) {
        public Verdict {
            requireNonNull(reason, "reason is null");
        }
    }

    private final Path device;
    private final String qemu;
    private final String accel;
    private final Duration timeout;
    private final Path workDir;
    private final ReentrantLock lock = new ReentrantLock();
    private Verdict verdict; // guarded by lock

    /**
     * A probe of {@code device} running {@code qemu} with {@code -accel accel} ({@code kvm}; tests
     * check the boot sector itself with {@code tcg}), writing its boot sector below {@code workDir}.
     */
    public KvmProbe(Path device, String qemu, String accel, Duration timeout, Path workDir) {
        this.device = requireNonNull(device, "device is null");
        this.qemu = requireNonNull(qemu, "qemu is null");
        this.accel = requireNonNull(accel, "accel is null");
        this.timeout = requireNonNull(timeout, "timeout is null");
        this.workDir = requireNonNull(workDir, "workDir is null");
    }

    public static KvmProbe standard(Path workDir) {
        return new KvmProbe(Path.of("/dev/kvm"), QemuCommandLine.QEMU, "kvm", Duration.ofSeconds(5), workDir);
    }

    /** The verdict, probed on the first call and remembered after. */
    public Verdict verdict() {
        lock.lock();
        try {
            if (verdict == null) {
                verdict = probe();
                if (verdict.usable()) {
                    log.info("KVM is usable on this host");
                } else {
                    log.warn("KVM is not usable on this host: {}", verdict.reason());
                }
            }
            return verdict;
        } finally {
            lock.unlock();
        }
    }

    /** The error a start with {@code kvm: 1} gets when KVM can't be used; Proxmox's words first. */
    public static String refusal(Verdict verdict) {
        return "KVM virtualisation configured, but not available: " + verdict.reason()
                + ". Either disable it in the VM configuration ('kvm: 0' runs QEMU's TCG emulator) or make KVM usable on the host.";
    }

    @SuppressWarnings("try") // the device is opened to see that it can be, not used
    private Verdict probe() {
        if (!Files.exists(device)) {
            return new Verdict(false, device + " does not exist");
        }
        try (FileChannel ignored = FileChannel.open(device, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // opened read-write: the ioctl interface is there
        } catch (IOException | UnsupportedOperationException e) {
            return new Verdict(false, "cannot open " + device + " read-write (" + e.getMessage() + ")");
        }
        Path image;
        try {
            Files.createDirectories(workDir);
            image = Files.createTempFile(workDir, "kvm-probe", ".img");
            byte[] sector = new byte[512];
            byte[] code = HexFormat.of().parseHex(BOOT_SECTOR_HEX);
            System.arraycopy(code, 0, sector, 0, code.length);
            sector[510] = 0x55;
            sector[511] = (byte) 0xaa;
            Files.write(image, sector);
        } catch (IOException e) {
            return new Verdict(false, "cannot write the probe image: " + e.getMessage());
        }
        try {
            return run(image);
        } finally {
            try {
                Files.deleteIfExists(image);
            } catch (IOException e) {
                log.debug("could not delete {}", image, e);
            }
        }
    }

    private Verdict run(Path image) {
        List<String> command = List.of(qemu, "-accel", accel, "-machine", "pc", "-nodefaults", "-display", "none", "-m", "16",
                "-no-reboot", "-chardev", "stdio,id=probe", "-device", "isa-debugcon,iobase=0x404,chardev=probe",
                "-drive", "file=" + image + ",format=raw,if=ide");
        Process process;
        try {
            process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            return new Verdict(false, "cannot run " + qemu + ": " + e.getMessage());
        }
        CompletableFuture<Boolean> printed = new CompletableFuture<>();
        StringBuilder stderr = new StringBuilder();
        Thread.ofVirtual().start(() -> printed.complete(waitFor(process.getInputStream(), EXPECTED)));
        Thread.ofVirtual().start(() -> {
            try (java.io.BufferedReader err = new java.io.BufferedReader(
                    new java.io.InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = err.readLine()) != null) {
                    synchronized (stderr) {
                        stderr.append(line).append('\n');
                    }
                    // QEMU stops the guest and keeps running after an emulation failure: no need to wait
                    if (line.contains("internal error") || line.contains("emulation failure")) {
                        printed.complete(false);
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
        });
        boolean ok;
        try {
            ok = printed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            ok = false;
        } finally {
            process.destroyForcibly();
        }
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ok) {
            return new Verdict(true, "a test guest ran under KVM");
        }
        String err;
        synchronized (stderr) {
            err = stderr.toString().lines().filter(l -> !l.contains("terminating on signal") && !l.contains("warning:"))
                    .findFirst().orElse("").strip();
        }
        return new Verdict(false, "a test guest under -accel " + accel + " did not run ("
                + (err.isEmpty() ? "no output within " + timeout.toSeconds() + " s" : err) + ")");
    }

    private static boolean waitFor(InputStream in, String marker) {
        StringBuilder seen = new StringBuilder();
        try (in) {
            int c;
            while ((c = in.read()) >= 0) {
                seen.append((char) c);
                if (seen.indexOf(marker) >= 0) {
                    return true;
                }
            }
        } catch (IOException e) {
            // killed
        }
        return false;
    }
}
