package org.corral.firewall.nft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** How a logged packet's headers read in the log line (the fields iptables' LOG target writes). */
class NflogReaderTest {
    @Test
    void ipv4TcpSynReadsLikeIptablesLog() {
        byte[] packet = HexFormat.of().parseHex(
                "4500003c1234400040060000" + "0a4d000b" + "0a4d000c" // IPv4, 60 bytes, id 0x1234, TTL 64, TCP
                        + "9c4000510000000000000000a002faf000000000"); // 40000 -> 81, SYN
        assertEquals(" SRC=10.77.0.11 DST=10.77.0.12 LEN=60 TTL=64 ID=4660 PROTO=TCP SPT=40000 DPT=81 SYN",
                NflogReader.describe(packet));
    }

    @Test
    void ipv6IcmpEchoReadsWithTypeAndCode() {
        byte[] packet = HexFormat.of().parseHex("6000000000083a40" + "fd000000000000000000000000000011"
                + "fd000000000000000000000000000012" + "8000000000010001");
        assertEquals(" SRC=fd00:0:0:0:0:0:0:11 DST=fd00:0:0:0:0:0:0:12 LEN=48 HOPLIMIT=64 PROTO=ICMPv6 TYPE=128 CODE=0",
                NflogReader.describe(packet));
    }

    @Test
    void shortOrUnknownPayloadAddsNothing() {
        assertEquals("", NflogReader.describe(new byte[] {0x45, 0}));
        assertEquals("", NflogReader.describe(new byte[28]));
    }
}
