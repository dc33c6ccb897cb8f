package org.corral.firewall.nft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.corral.core.process.ProcessRunner;
import org.corral.firewall.Alias;
import org.corral.firewall.FwConfig;
import org.corral.firewall.FwKind;
import org.corral.firewall.FwParser;
import org.corral.firewall.Macros;
import org.corral.firewall.RuleChecker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every rule feature compiled and loaded by the kernel (in a network namespace of its own): all
 * 84 macros in both directions and with REJECT, every ICMP and ICMPv6 type name, protocol names,
 * port lists and ranges, ipsets with nomatch, aliases, logging, and the standard sets. The
 * compiler's output must be something nft takes, not only something that looks right.
 */
class NftLoadIT {
    private final String ns = "fwl" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);

    @BeforeEach
    void namespace() {
        assumeTrue(ProcessRunner.available("ip") && ProcessRunner.available("nft")
                && "root".equals(System.getProperty("user.name")), "needs root, ip and nft");
        ProcessRunner.of("ip", "netns", "add", ns).timeout(Duration.ofSeconds(20)).run().check();
    }

    @AfterEach
    void removeNamespace() {
        if (!ProcessRunner.available("ip")) {
            return;
        }
        ProcessRunner.of("ip", "netns", "del", ns).timeout(Duration.ofSeconds(20)).run();
    }

    private static FwConfig parse(String text, FwKind kind) {
        FwParser.Parsed parsed = FwParser.parse("t.fw", text, kind);
        assertEquals(List.of(), parsed.warnings());
        return parsed.config();
    }

    @Test
    void everyRuleFeatureLoads() throws java.io.IOException {
        StringBuilder guestRules = new StringBuilder("[RULES]\n");
        StringBuilder hostRules = new StringBuilder("[OPTIONS]\ntcpflags: 1\nlog_level_in: info\n\n[RULES]\n");
        for (Macros.Macro macro : Macros.standard().all()) {
            guestRules.append("IN ").append(macro.name()).append("(ACCEPT) -source +trusted -log info\n");
            guestRules.append("OUT ").append(macro.name()).append("(REJECT) -dest dc/backup\n");
            hostRules.append("IN ").append(macro.name()).append("(DROP) -i eth0\n");
        }
        for (String type : RuleChecker.ICMP_TYPES) {
            hostRules.append("IN ACCEPT -p icmp -icmp-type ").append(type).append('\n');
        }
        for (String type : RuleChecker.ICMPV6_TYPES) {
            hostRules.append("IN ACCEPT -p icmpv6 -icmp-type ").append(type).append('\n');
        }
        for (String proto : List.of("gre", "esp", "ah", "ospf", "vrrp", "sctp", "udplite", "dccp", "igmp", "47", "ipv6-icmp")) {
            hostRules.append("OUT ACCEPT -p ").append(proto).append('\n');
        }
        hostRules.append("IN ACCEPT -p tcp -dport 1,2,3,4,5,6,7,8,9,10:20 -sport 1024:65535\n")
                .append("IN REJECT -p udp -source 10.0.0.1-10.0.0.9,10.1.0.0/16,10.2.0.1 -dest 192.168.0.0/24\n")
                .append("FORWARD DROP -source fd00::/64 -dest fd01::1\n")
                .append("IN ACCEPT -source +dc/management -p tcp -dport ssh\n");
        FwConfig cluster = parse("[OPTIONS]\nenable: 1\npolicy_in: REJECT\n\n[ALIASES]\nbackup 10.9.9.9\n\n"
                + "[IPSET trusted]\n10.0.0.0/8\n!10.5.0.0/16\nfd00::/8\nbackup\n\n[IPSET management]\n10.0.0.5\n\n"
                + "[IPSET blacklist]\n203.0.113.0/24\n2001:db8::/32\n", FwKind.CLUSTER);
        Guest vm = new Guest(100, false, parse("[OPTIONS]\nenable: 1\nipfilter: 1\ndhcp: 1\npolicy_in: REJECT\n"
                + "policy_out: DROP\nlog_level_in: warning\n\n[IPSET ipfilter-net0]\n10.0.0.7\n\n" + guestRules, FwKind.GUEST),
                GuestNics.parse(100, false, "net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n"
                        + "net1: virtio=BC:24:11:00:00:02,bridge=vmbr0,firewall=1\n"));
        Guest ct = new Guest(101, true, parse("[OPTIONS]\nenable: 1\nipfilter: 1\n", FwKind.GUEST),
                GuestNics.parse(101, true, "net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:03,ip=10.0.0.8/24,"
                        + "ip6=fd00::8/64,firewall=1\n"));
        FirewallInputs in = new FirewallInputs(cluster, List.of(new Alias("backup", "10.9.9.9", Optional.empty()),
                new Alias("local_network", "10.0.0.0/24", Optional.empty())), parse(hostRules.toString(), FwKind.HOST),
                List.of(vm, ct), List.of(8006, 22));
        NftCompiler.Compiled compiled = new NftCompiler(Services.system()).compile(in);
        assertEquals(List.of(), compiled.warnings());
        NftApplier nft = NftApplier.inNamespace(ns);
        nft.apply(compiled.json());
        nft.apply(compiled.json());
        String listed = nft.nft("list", "ruleset");
        assertTrue(listed.contains("table inet corral") && listed.contains("table bridge corral"), listed);
        // what nft lists loads again as text (names are nft identifiers): the same ruleset works with nft -f
        java.nio.file.Path text = java.nio.file.Files.createTempFile("corral-fw", ".nft");
        try {
            java.nio.file.Files.writeString(text, "flush ruleset\n" + listed);
            nft.nft("-f", text.toString());
            assertTrue(nft.nft("list", "tables").contains("bridge corral"));
        } finally {
            java.nio.file.Files.delete(text);
        }
        assertTrue(compiled.rules() > 800, "rules: " + compiled.rules());
    }
}
