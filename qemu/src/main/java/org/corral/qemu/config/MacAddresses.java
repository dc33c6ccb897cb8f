package org.corral.qemu.config;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * MAC addresses for new NICs, as Proxmox makes them: random, locally administered unicast, with
 * the datacenter's {@code mac_prefix} (Proxmox's {@code BC:24:11} when none is set) in front.
 */
public final class MacAddresses {
    public static final String DEFAULT_PREFIX = "BC:24:11";

    private final SecureRandom random = new SecureRandom();

    /** A new address starting with {@code prefix} ({@code BC:24:11}, {@code 02}); the default when empty. */
    public String generate(Optional<String> prefix) {
        byte[] bytes = new byte[6];
        random.nextBytes(bytes);
        // clear the multicast bit, set the locally administered bit
        bytes[0] = (byte) (bytes[0] & 0xfe | 0x02);
        String addr = HexFormat.ofDelimiter(":").withUpperCase().formatHex(bytes);
        String p = prefix.map(s -> s.strip().toUpperCase(Locale.ROOT)).filter(s -> !s.isEmpty()).orElse(DEFAULT_PREFIX);
        if (p.endsWith(":")) {
            p = p.substring(0, p.length() - 1);
        }
        return p + addr.substring(Math.min(p.length(), addr.length()));
    }

    public static boolean isValidUnicast(String mac) {
        if (!VmOptions.MAC.matcher(mac).matches()) {
            return false;
        }
        int first = Integer.parseInt(mac.substring(0, 2), 16);
        return (first & 1) == 0 && !mac.equals("00:00:00:00:00:00");
    }
}
