package org.corral.firewall.nft;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/** An address or network, normalized (host bits cleared) as nft wants it in interval sets. */
record Address(int version, String address, int prefix) {
    static Address parse(String cidr) {
        int slash = cidr.indexOf('/');
        String text = slash < 0 ? cidr : cidr.substring(0, slash);
        if (!text.matches("[0-9a-fA-F:.]+") || !text.matches(".*[.:].*")) {
            throw new IllegalArgumentException("invalid IP address '" + cidr + "'");
        }
        try {
            byte[] bytes = InetAddress.getByName(text).getAddress();
            int bits = bytes.length * 8;
            int prefix = slash < 0 ? bits : Integer.parseInt(cidr.substring(slash + 1));
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException("invalid prefix in '" + cidr + "'");
            }
            for (int bit = prefix; bit < bits; bit++) {
                bytes[bit / 8] &= (byte) ~(0x80 >> (bit % 8));
            }
            return new Address(bytes.length == 4 ? 4 : 6, InetAddress.getByAddress(bytes).getHostAddress(), prefix);
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("invalid IP address '" + cidr + "'");
        }
    }

    JsonNode element() {
        return prefix == (version == 4 ? 32 : 128) ? Nft.text(address) : Nft.prefix(address, prefix);
    }

    /** The IPv6 link-local address SLAAC derives from a MAC (EUI-64). */
    static Optional<String> linkLocal(String mac) {
        String[] parts = mac.split(":");
        if (parts.length != 6) {
            return Optional.empty();
        }
        try {
            byte[] bytes = new byte[16];
            bytes[0] = (byte) 0xfe;
            bytes[1] = (byte) 0x80;
            int[] m = new int[6];
            for (int i = 0; i < 6; i++) {
                m[i] = Integer.parseInt(parts[i], 16);
            }
            bytes[8] = (byte) (m[0] ^ 0x02);
            bytes[9] = (byte) m[1];
            bytes[10] = (byte) m[2];
            bytes[11] = (byte) 0xff;
            bytes[12] = (byte) 0xfe;
            bytes[13] = (byte) m[3];
            bytes[14] = (byte) m[4];
            bytes[15] = (byte) m[5];
            return Optional.of(InetAddress.getByAddress(bytes).getHostAddress().replaceAll("%.*", ""));
        } catch (NumberFormatException | UnknownHostException e) {
            return Optional.empty();
        }
    }
}
