package org.corral.firewall.nft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.firewall.Alias;
import org.corral.firewall.FwConfig;
import org.corral.firewall.FwKind;
import org.corral.firewall.FwParser;
import org.junit.jupiter.api.Test;

class NftCompilerTest {
    private static final NftCompiler COMPILER = new NftCompiler(Services.load(Path.of("/nonexistent"), Path.of("/nonexistent")));
    private static final String VM_MAC = "BC:24:11:00:00:01";

    private static FwConfig parse(String text, FwKind kind) {
        FwParser.Parsed parsed = FwParser.parse("test.fw", text, kind);
        assertEquals(List.of(), parsed.warnings(), "test input must parse cleanly");
        return parsed.config();
    }

    private static FirewallInputs inputs(String cluster, String host, Guest... guests) {
        FwConfig dc = parse(cluster, FwKind.CLUSTER);
        List<Alias> aliases = new java.util.ArrayList<>(dc.aliases());
        aliases.add(new Alias("local_network", "192.168.10.0/24", Optional.empty()));
        return new FirewallInputs(dc, aliases, parse(host, FwKind.HOST), List.of(guests), List.of(8006, 22, 3128));
    }

    private static Guest vm(int vmid, String fw, String conf) {
        return new Guest(vmid, false, parse(fw, FwKind.GUEST), GuestNics.parse(vmid, false, conf));
    }

    private static Map<String, List<String>> chains(FirewallInputs in) {
        return NftText.chains(COMPILER.compile(in).batch());
    }

    private static List<String> hostIn(String clusterRules, String hostRules) {
        return chains(inputs("[OPTIONS]\nenable: 1\n\n" + clusterRules, hostRules)).get("inet/input");
    }

    @Test
    void disabledDatacenterOnlyRemovesCorralTables() {
        NftCompiler.Compiled compiled = COMPILER.compile(inputs("[OPTIONS]\nenable: 0\n", ""));
        assertFalse(compiled.enabled());
        assertEquals(0, compiled.rules());
        assertEquals("{\"nftables\":[{\"add\":{\"table\":{\"family\":\"inet\",\"name\":\"corral\"}}},"
                + "{\"delete\":{\"table\":{\"family\":\"inet\",\"name\":\"corral\"}}},"
                + "{\"add\":{\"table\":{\"family\":\"bridge\",\"name\":\"corral\"}}},"
                + "{\"delete\":{\"table\":{\"family\":\"bridge\",\"name\":\"corral\"}}}]}", compiled.json());
        assertFalse(COMPILER.compile(inputs("", "")).enabled(), "enable defaults to 0");
    }

    @Test
    void enabledBatchRecreatesBothTablesFirst() {
        String json = COMPILER.compile(inputs("[OPTIONS]\nenable: 1\n", "")).json();
        assertTrue(json.startsWith("{\"nftables\":[{\"add\":{\"table\":{\"family\":\"inet\",\"name\":\"corral\"}}},"
                + "{\"delete\":{\"table\":{\"family\":\"inet\",\"name\":\"corral\"}}},"
                + "{\"add\":{\"table\":{\"family\":\"bridge\",\"name\":\"corral\"}}},"
                + "{\"delete\":{\"table\":{\"family\":\"bridge\",\"name\":\"corral\"}}},"
                + "{\"add\":{\"table\":{\"family\":\"inet\",\"name\":\"corral\"}}},"
                + "{\"add\":{\"table\":{\"family\":\"bridge\",\"name\":\"corral\"}}}"), json);
    }

    @Test
    void defaultPoliciesAreProxmoxs() {
        Map<String, List<String>> c = chains(inputs("[OPTIONS]\nenable: 1\n", ""));
        List<String> input = c.get("inet/input");
        assertEquals("meta iifname lo accept", input.get(0));
        assertEquals("ct state established,related accept", input.get(1));
        assertEquals("ct state invalid drop", input.get(2));
        assertEquals("drop", input.getLast(), "policy_in DROP");
        assertEquals("accept", c.get("inet/output").getLast(), "policy_out ACCEPT");
        assertEquals("accept", c.get("inet/forward").getLast(), "policy_forward ACCEPT");
    }

    @Test
    void policiesFromClusterOptions() {
        Map<String, List<String>> c = chains(inputs("[OPTIONS]\nenable: 1\npolicy_in: REJECT\npolicy_out: DROP\npolicy_forward: DROP\n", ""));
        assertEquals("jump do_reject", c.get("inet/input").getLast());
        assertEquals("drop", c.get("inet/output").getLast());
        assertEquals("drop", c.get("inet/forward").getLast());
        assertEquals(List.of("meta l4proto tcp reject tcp reset", "meta l4proto udp reject icmpx port-unreachable",
                "reject icmpx admin-prohibited"), c.get("inet/do_reject"));
    }

    @Test
    void hostRulesComeBeforeClusterRules() {
        List<String> input = hostIn("[RULES]\nIN ACCEPT -p tcp -dport 10\n", "[RULES]\nIN DROP -p tcp -dport 20\n");
        int host = input.indexOf("meta l4proto 6 tcp dport 20 drop");
        int cluster = input.indexOf("meta l4proto 6 tcp dport 10 accept");
        assertTrue(host > 0 && cluster > host, input.toString());
    }

    @Test
    void hostEnableZeroLeavesTheHostOpen() {
        Map<String, List<String>> c = chains(inputs("[OPTIONS]\nenable: 1\n\n[RULES]\nIN DROP -p tcp -dport 10\n",
                "[OPTIONS]\nenable: 0\n"));
        assertFalse(c.get("inet/input").contains("drop"), c.get("inet/input").toString());
        assertFalse(c.get("inet/input").contains("meta l4proto 6 tcp dport 10 drop"));
    }

    @Test
    void macrosExpandToOneRulePerEntry() {
        List<String> input = hostIn("", "[RULES]\nIN SSH(ACCEPT)\nIN DNS(REJECT) -source 10.0.0.0/8\n");
        assertTrue(input.contains("meta l4proto 6 tcp dport 22 accept"), input.toString());
        assertTrue(input.contains("ip saddr 10.0.0.0/8 meta l4proto 17 udp dport 53 jump do_reject"), input.toString());
        assertTrue(input.contains("ip saddr 10.0.0.0/8 meta l4proto 6 tcp dport 53 jump do_reject"), input.toString());
    }

    @Test
    void portListsRangesAndServiceNames() {
        NftCompiler compiler = new NftCompiler(Services.load(Path.of("/nonexistent"), servicesFile()));
        List<String> input = NftText.chains(compiler.compile(inputs("[OPTIONS]\nenable: 1\n",
                "[RULES]\nIN ACCEPT -p tcp -dport 80,443,8000:8080\nIN ACCEPT -p udp -sport 1024:65535 -dport 53\n"
                + "IN ACCEPT -p tcp -dport http\n")).batch()).get("inet/input");
        assertTrue(input.containsAll(List.of("meta l4proto 6 tcp dport 80 accept", "meta l4proto 6 tcp dport 443 accept",
                "meta l4proto 6 tcp dport 8000-8080 accept")), "short lists become one rule per item: " + input);
        assertTrue(input.contains("meta l4proto 17 udp sport 1024-65535 udp dport 53 accept"), input.toString());
        assertTrue(input.contains("meta l4proto 6 tcp dport 80 accept"), input.toString());
    }

    private static Path servicesFile() {
        try {
            Path file = java.nio.file.Files.createTempFile("services", "");
            java.nio.file.Files.writeString(file, "http\t\t80/tcp\t\twww\t# WorldWideWeb HTTP\n");
            file.toFile().deleteOnExit();
            return file;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void addressesSplitByIpVersion() {
        List<String> input = hostIn("[ALIASES]\nbackup 10.1.1.1\n",
                "[RULES]\nIN ACCEPT -source 10.0.0.1,10.0.0.5-10.0.0.9\nIN ACCEPT -source fd00::/64 -dest fd00::1\n"
                + "IN ACCEPT -dest backup -p tcp\n");
        assertTrue(input.contains("ip saddr 10.0.0.1 accept"), input.toString());
        assertTrue(input.contains("ip saddr 10.0.0.5-10.0.0.9 accept"), input.toString());
        assertTrue(input.contains("ip6 saddr fd00:0:0:0:0:0:0:0/64 ip6 daddr fd00:0:0:0:0:0:0:1 accept"), input.toString());
        assertTrue(input.contains("ip daddr 10.1.1.1 meta l4proto 6 accept"), input.toString());
    }

    @Test
    void ipsetsWithNomatchAndBothVersions() {
        FirewallInputs in = inputs("[OPTIONS]\nenable: 1\n\n[IPSET trusted]\n10.0.0.0/8\n!10.9.0.0/16\nfd00::/8\n",
                "[RULES]\nIN ACCEPT -source +trusted -p tcp -dport 22\n");
        NftCompiler.Compiled compiled = COMPILER.compile(in);
        List<String> input = NftText.chains(compiled.batch()).get("inet/input");
        assertTrue(input.contains("ip saddr @dc_trusted_v4 ip saddr != @dc_trusted_v4n meta l4proto 6 tcp dport 22 accept"),
                input.toString());
        assertTrue(input.contains("ip6 saddr @dc_trusted_v6 meta l4proto 6 tcp dport 22 accept"), input.toString());
        Map<String, String> sets = NftText.sets(compiled.batch());
        assertEquals("10.0.0.0/8", sets.get("inet/dc_trusted_v4"));
        assertEquals("10.9.0.0/16", sets.get("inet/dc_trusted_v4n"));
        assertEquals("10.0.0.0/8", sets.get("bridge/dc_trusted_v4"), "sets exist in both tables");
    }

    @Test
    void icmpTypesAreNumbersAndPickTheirVersion() {
        List<String> input = hostIn("", "[RULES]\nIN ACCEPT -p icmp -icmp-type echo-request\n"
                + "IN ACCEPT -p icmp -icmp-type host-unreachable\nIN ACCEPT -p icmpv6 -icmp-type echo-request\n"
                + "IN Ping(ACCEPT)\n");
        assertTrue(input.contains("icmp type 8 accept"), input.toString());
        assertTrue(input.contains("icmp type 3 icmp code 1 accept"), input.toString());
        assertTrue(input.contains("icmpv6 type 128 accept"), input.toString());
    }

    @Test
    void securityGroupsExpandInPlaceAndDisabledRulesAreSkipped() {
        List<String> input = hostIn("[group web]\nIN ACCEPT -p tcp -dport 80\n|IN ACCEPT -p tcp -dport 81\nOUT DROP -p tcp -dport 82\n",
                "[RULES]\nGROUP web -i eth1\n|IN ACCEPT -p tcp -dport 83\n");
        assertTrue(input.contains("meta iifname eth1 meta l4proto 6 tcp dport 80 accept"), input.toString());
        assertFalse(input.stream().anyMatch(r -> r.contains("dport 81") || r.contains("dport 82") || r.contains("dport 83")),
                input.toString());
    }

    @Test
    void hostInterfaceMatchesInOrOut() {
        Map<String, List<String>> c = chains(inputs("[OPTIONS]\nenable: 1\n",
                "[RULES]\nIN ACCEPT -i eth0 -p tcp -dport 1\nOUT DROP -i eth0 -p tcp -dport 2\n"));
        assertTrue(c.get("inet/input").contains("meta iifname eth0 meta l4proto 6 tcp dport 1 accept"));
        assertTrue(c.get("inet/output").contains("meta oifname eth0 meta l4proto 6 tcp dport 2 drop"));
    }

    @Test
    void loggingToNflog() {
        Map<String, List<String>> c = chains(inputs("[OPTIONS]\nenable: 1\n",
                "[OPTIONS]\nlog_level_in: info\n\n[RULES]\nIN DROP -p tcp -dport 1 -log warning\nIN DROP -p tcp -dport 2 -log nolog\n"));
        List<String> input = c.get("inet/input");
        assertTrue(input.contains("meta l4proto 6 tcp dport 1 log prefix \":input:warning: DROP: \" group 0 drop"), input.toString());
        assertTrue(input.contains("meta l4proto 6 tcp dport 2 drop"), input.toString());
        assertEquals("log prefix \":host-in:info: policy DROP: \" group 0", input.get(input.size() - 2));
    }

    @Test
    void managementSetWithLocalNetworkIsAllowedBeforeHostRules() {
        FirewallInputs in = inputs("[OPTIONS]\nenable: 1\n\n[IPSET management]\n10.5.5.5\n", "[RULES]\nIN DROP\n");
        NftCompiler.Compiled compiled = COMPILER.compile(in);
        List<String> input = NftText.chains(compiled.batch()).get("inet/input");
        String management = "ip saddr @dc_management_v4 tcp dport { 22, 3128, 8006, 5900-5999, 60000-60050 } accept";
        assertTrue(input.indexOf(management) > 0 && input.indexOf(management) < input.indexOf("drop"), input.toString());
        assertEquals("10.5.5.5, 192.168.10.0/24", NftText.sets(compiled.batch()).get("inet/dc_management_v4"));
    }

    @Test
    void blacklistDropsFirstOnlyWhenItHasMembers() {
        assertFalse(hostIn("", "").stream().anyMatch(r -> r.contains("blacklist")));
        Map<String, List<String>> c = chains(inputs("[OPTIONS]\nenable: 1\n\n[IPSET blacklist]\n198.51.100.0/24\n", ""));
        assertEquals("ip saddr @dc_blacklist_v4 drop", c.get("inet/input").get(3));
        assertTrue(c.get("inet/forward").contains("ip saddr @dc_blacklist_v4 drop"));
    }

    @Test
    void hostOptionsConntrackSmurfsAndTcpFlags() {
        List<String> plain = hostIn("", "");
        assertTrue(plain.contains("ct state invalid drop"));
        assertTrue(plain.contains("ip saddr 224.0.0.0/4 drop"), "nosmurfs is on unless set to 0");
        assertFalse(plain.stream().anyMatch(r -> r.contains("tcp flags")));
        List<String> tuned = hostIn("", "[OPTIONS]\nnf_conntrack_allow_invalid: 1\nnosmurfs: 0\ntcpflags: 1\nndp: 0\n");
        assertFalse(tuned.contains("ct state invalid drop"));
        assertFalse(tuned.contains("ip saddr 224.0.0.0/4 drop"));
        assertTrue(tuned.contains("tcp flags & fin,syn fin,syn drop"), tuned.toString());
        assertFalse(tuned.stream().anyMatch(r -> r.contains("nd-neighbor-solicit")));
    }

    @Test
    void guestChainsAreSelectedByThePortMark() {
        Guest guest = vm(100, "[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 80\nOUT REJECT -p tcp -dport 25\n"
                + "IN ACCEPT -i net1 -p tcp -dport 443\n",
                "net0: virtio=" + VM_MAC + ",bridge=vmbr0,firewall=1\nnet1: virtio=BC:24:11:00:00:02,bridge=vmbr0,firewall=1\n"
                + "net2: virtio=BC:24:11:00:00:03,bridge=vmbr0\n");
        Map<String, List<String>> c = chains(inputs("[OPTIONS]\nenable: 1\n", "", guest));
        assertTrue(c.get("inet/input").contains("meta mark & 65535 vmap { 1 : jump tap100i0_out, 2 : jump tap100i1_out }"),
                c.get("inet/input").toString());
        assertFalse(c.containsKey("bridge/tap100i2_in"), "net2 has no firewall=1");
        assertFalse(c.containsKey("inet/tap100i0_in"), "in-chains are in the bridge family only");
        List<String> in0 = c.get("bridge/tap100i0_in");
        assertTrue(in0.contains("meta l4proto 6 tcp dport 80 accept"));
        assertFalse(in0.stream().anyMatch(r -> r.contains("443")), "-i net1 rules stay on net1");
        assertTrue(c.get("bridge/tap100i1_in").contains("meta l4proto 6 tcp dport 443 accept"));
        assertEquals("drop", in0.getLast(), "guest policy_in DROP");
        List<String> out0 = c.get("inet/tap100i0_out");
        assertTrue(out0.contains("meta l4proto 6 tcp dport 25 jump do_reject"));
        assertEquals("return", out0.getLast(), "guest policy_out ACCEPT returns to the host's checks");
        assertTrue(c.get("bridge/prerouting").contains("meta mark set meta iifname map { tap100i0 : 1, tap100i1 : 2 }"));
        assertTrue(c.get("bridge/forward").contains("meta oifname vmap { tap100i0 : jump mark_tap100i0, tap100i1 : jump mark_tap100i1 }"));
        assertEquals(List.of("meta mark set meta mark | 0x10000"), c.get("bridge/mark_tap100i0"));
        String inChains = "meta mark & 0x80000000 != 0 meta oifname vmap { tap100i0 : jump tap100i0_in, tap100i1 : jump tap100i1_in }";
        assertTrue(c.get("bridge/forward").contains(inChains), "bridged: " + c.get("bridge/forward"));
        assertTrue(c.get("bridge/output").contains(inChains), "from the host or routed: " + c.get("bridge/output"));
        assertEquals(List.of("ct state new meta mark set meta mark | 0x80000000"), c.get("inet/prerouting"), "bit 31: first packet");
        assertTrue(c.get("inet/forward").contains("meta mark & 0x3fffffff != 0 accept"), "guest traffic is done with the guests' chains");
    }

    @Test
    void rejectInAGuestsInChainIsHandedToInet() {
        Guest guest = vm(100, "[OPTIONS]\nenable: 1\npolicy_in: REJECT\n\n[RULES]\nIN REJECT -p tcp -dport 23\n",
                "net0: virtio=" + VM_MAC + ",bridge=vmbr0,firewall=1\n");
        Map<String, List<String>> c = chains(inputs("[OPTIONS]\nenable: 1\n", "", guest));
        List<String> in = c.get("bridge/tap100i0_in");
        assertTrue(in.contains("meta l4proto 6 tcp dport 23 meta mark set meta mark | 0x40000000 return"), in.toString());
        assertEquals("meta mark set meta mark | 0x40000000 return", in.getLast(), "policy_in REJECT");
        assertEquals("meta mark & 0x40000000 != 0 jump do_reject", c.get("inet/forward").getFirst(), "bridged: rejected in inet");
        assertEquals("meta mark & 0x40000000 != 0 drop", c.get("bridge/output").getLast(), "from the host: dropped");
    }

    @Test
    void disabledGuestFirewallHasNoChains() {
        Guest guest = vm(100, "[OPTIONS]\nenable: 0\n", "net0: virtio=" + VM_MAC + ",bridge=vmbr0,firewall=1\n");
        Map<String, List<String>> c = chains(inputs("[OPTIONS]\nenable: 1\n", "", guest));
        assertFalse(c.containsKey("bridge/tap100i0_in"));
        assertTrue(c.get("bridge/prerouting").isEmpty());
    }

    @Test
    void macFilterAndGuestOptions() {
        Guest guest = vm(100, "[OPTIONS]\nenable: 1\ndhcp: 1\nradv: 1\n", "net0: virtio=" + VM_MAC + ",bridge=vmbr0,firewall=1\n");
        Map<String, List<String>> c = chains(inputs("[OPTIONS]\nenable: 1\n", "", guest));
        assertEquals(List.of("ether saddr != bc:24:11:00:00:01 drop", "arp saddr ether != bc:24:11:00:00:01 drop"),
                c.get("bridge/l2_tap100i0"), "macfilter on by default, no ipfilter");
        List<String> out = c.get("inet/tap100i0_out");
        assertTrue(out.contains("udp sport 68 udp dport 67 return"), out.toString());
        assertTrue(out.contains("icmpv6 type nd-router-advert return"), "radv: 1 lets the guest advertise");
        Guest quiet = vm(100, "[OPTIONS]\nenable: 1\nmacfilter: 0\nndp: 0\n", "net0: virtio=" + VM_MAC + ",bridge=vmbr0,firewall=1\n");
        Map<String, List<String>> q = chains(inputs("[OPTIONS]\nenable: 1\n", "", quiet));
        assertEquals(List.of(), q.get("bridge/l2_tap100i0"));
        assertTrue(q.get("inet/tap100i0_out").contains("icmpv6 type nd-router-advert drop"));
        assertFalse(q.get("bridge/tap100i0_in").stream().anyMatch(r -> r.contains("nd-neighbor")));
        assertFalse(chains(inputs("[OPTIONS]\nenable: 1\nebtables: 0\n", "", guest)).containsKey("bridge/l2_tap100i0"),
                "ebtables: 0 turns the layer-2 checks off");
    }

    @Test
    void ipfilterHasImplicitEntries() {
        Guest ct = new Guest(101, true, parse("[OPTIONS]\nenable: 1\nipfilter: 1\n", FwKind.GUEST),
                GuestNics.parse(101, true, "net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:05,ip=10.0.0.5/24,"
                        + "ip6=fd00::5/64,firewall=1,type=veth\n"));
        NftCompiler.Compiled compiled = COMPILER.compile(inputs("[OPTIONS]\nenable: 1\n", "", ct));
        Map<String, String> sets = NftText.sets(compiled.batch());
        assertEquals("0.0.0.0, 10.0.0.5", sets.get("bridge/ipf_veth101i0_v4"));
        assertEquals("0:0:0:0:0:0:0:0, fd00:0:0:0:0:0:0:5, fe80:0:0:0:be24:11ff:fe00:5", sets.get("bridge/ipf_veth101i0_v6"));
        List<String> l2 = NftText.chains(compiled.batch()).get("bridge/l2_veth101i0");
        assertTrue(l2.contains("ip saddr != @ipf_veth101i0_v4 drop"));
        assertTrue(l2.contains("arp saddr ip != @ipf_veth101i0_v4 drop"));
        assertTrue(l2.contains("ip6 saddr != @ipf_veth101i0_v6 drop"));
        // an ipfilter-net0 set turns the filter on by itself
        Guest vm = vm(100, "[OPTIONS]\nenable: 1\n\n[IPSET ipfilter-net0]\n10.0.0.7\n",
                "net0: virtio=" + VM_MAC + ",bridge=vmbr0,firewall=1\n");
        assertEquals("0.0.0.0, 10.0.0.7", NftText.sets(COMPILER.compile(inputs("[OPTIONS]\nenable: 1\n", "", vm)).batch())
                .get("bridge/ipf_tap100i0_v4"));
    }

    @Test
    void guestScopedNamesWinOverClusterOnes() {
        Guest guest = vm(100, "[OPTIONS]\nenable: 1\n\n[ALIASES]\ndb 10.0.0.20\n\n[IPSET web]\n10.0.0.30\n\n[RULES]\n"
                + "IN ACCEPT -source db\nIN ACCEPT -source dc/db\nIN ACCEPT -source +web\nIN ACCEPT -source +dc/web\n",
                "net0: virtio=" + VM_MAC + ",bridge=vmbr0,firewall=1\n");
        List<String> in = chains(inputs("[OPTIONS]\nenable: 1\n\n[ALIASES]\ndb 10.9.9.9\n\n[IPSET web]\n10.9.9.10\n", "", guest))
                .get("bridge/tap100i0_in");
        assertTrue(in.contains("ip saddr 10.0.0.20 accept"), in.toString());
        assertTrue(in.contains("ip saddr 10.9.9.9 accept"), in.toString());
        assertTrue(in.contains("ip saddr @g100_web_v4 accept"), in.toString());
        assertTrue(in.contains("ip saddr @dc_web_v4 accept"), in.toString());
    }

    @Test
    void badRuleIsReportedAndTheRestStillCompiles() {
        NftCompiler.Compiled compiled = COMPILER.compile(inputs("[OPTIONS]\nenable: 1\n",
                "[RULES]\nIN ACCEPT -p tcp -dport nosuchservice\nIN ACCEPT -p tcp -dport 5\n"));
        assertEquals(1, compiled.warnings().size(), compiled.warnings().toString());
        assertTrue(compiled.warnings().getFirst().contains("host.fw rule 0") && compiled.warnings().getFirst().contains("nosuchservice"));
        assertTrue(NftText.chains(compiled.batch()).get("inet/input").contains("meta l4proto 6 tcp dport 5 accept"));
    }

    @Test
    void hostSendsItsOwnNeighborDiscoveryWhateverItsOutPolicy() {
        List<String> output = NftText.chains(COMPILER.compile(inputs("[OPTIONS]\nenable: 1\npolicy_out: DROP\n", "")).batch())
                .get("inet/output");
        int ndp = output.indexOf("icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept");
        assertTrue(ndp >= 0 && ndp < output.indexOf("drop"), output.toString());
        List<String> off = NftText.chains(COMPILER.compile(inputs("[OPTIONS]\nenable: 1\npolicy_out: DROP\n", "[OPTIONS]\nndp: 0\n"))
                .batch()).get("inet/output");
        assertTrue(off.stream().noneMatch(r -> r.contains("nd-neighbor-solicit")), off.toString());
    }

    @Test
    void rulesCarryWhereTheyCameFrom() {
        String json = COMPILER.compile(inputs("[OPTIONS]\nenable: 1\n", "[RULES]\nIN ACCEPT -p tcp -dport 5\n")).json();
        assertTrue(json.contains("\"comment\":\"host.fw rule 0\""), json);
    }

    @Test
    void guestNicsOfVmsAndContainers() {
        assertEquals(List.of(new GuestNic(0, "tap100i0", Optional.of("BC:24:11:00:00:01"), true, List.of(), Optional.of("vmbr0")),
                new GuestNic(3, "tap100i3", Optional.of("BC:24:11:00:00:04"), false, List.of(), Optional.of("vmbr1"))),
                GuestNics.parse(100, false, "net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n"
                        + "net3: e1000=BC:24:11:00:00:04,bridge=vmbr1\n[snap]\nnet5: virtio=BC:24:11:00:00:09,firewall=1\n"));
        assertEquals(List.of(new GuestNic(0, "veth101i0", Optional.of("BC:24:11:00:00:05"), true, List.of("10.0.0.5"),
                Optional.of("vmbr0"))),
                GuestNics.parse(101, true, "net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:05,ip=10.0.0.5/24,firewall=1\n"));
    }

    @Test
    void oneRuleEditIsADeltaOfThatGuestsChainsOnly() {
        String conf = "net0: virtio=" + VM_MAC + ",bridge=vmbr0,firewall=1\n";
        Guest other = new Guest(101, true, parse("[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 1\n", FwKind.GUEST),
                GuestNics.parse(101, true, "net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:09,firewall=1\n"));
        NftCompiler.Compiled before = COMPILER.compile(inputs("[OPTIONS]\nenable: 1\n", "",
                vm(100, "[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 80\n", conf), other));
        NftCompiler.Compiled after = COMPILER.compile(inputs("[OPTIONS]\nenable: 1\n", "",
                vm(100, "[OPTIONS]\nenable: 1\n\n[RULES]\nIN ACCEPT -p tcp -dport 81\n", conf), other));
        String delta = after.deltaFrom(before).orElseThrow().toString();
        assertTrue(delta.contains("{\"flush\":{\"chain\":{\"family\":\"bridge\",\"table\":\"corral\",\"name\":\"tap100i0_in\"}}}"), delta);
        assertFalse(delta.contains("veth101i0") || delta.contains("tap100i0_out") || delta.contains("\"delete\""), delta);
        assertEquals("{\"nftables\":[]}", after.deltaFrom(after).orElseThrow().toString(), "nothing changed, nothing to load");
        NftCompiler.Compiled withoutGuest = COMPILER.compile(inputs("[OPTIONS]\nenable: 1\n", "", other));
        assertTrue(withoutGuest.deltaFrom(after).isEmpty(), "a port less changes the layout: whole batch");
        assertTrue(COMPILER.compile(inputs("[OPTIONS]\nenable: 0\n", "")).deltaFrom(after).isEmpty());
    }

    @Test
    void longListsKeepOneRuleWithAnAnonymousSet() {
        List<String> input = hostIn("", "[RULES]\nIN ACCEPT -p tcp -dport 1,2,3,4,5,6,7,8,9 -source 10.0.0.1\n"
                + "IN ACCEPT -p tcp -dport 1,2 -source 10.0.0.1,10.0.0.3,10.0.0.5\n");
        assertTrue(input.contains("ip saddr 10.0.0.1 meta l4proto 6 tcp dport { 1, 2, 3, 4, 5, 6, 7, 8, 9 } accept"), input.toString());
        assertEquals(6, input.stream().filter(r -> r.matches("ip saddr 10\\.0\\.0\\.[135] meta l4proto 6 tcp dport [12] accept")).count(),
                "3 sources x 2 ports are 6 rules: " + input);
    }

    @Test
    void setNamesAreNftIdentifiersAndStayDistinct() {
        assertEquals("ipfilter_net0", NftCompiler.ident("ipfilter-net0"));
        assertEquals("a__b", NftCompiler.ident("a_b"));
        assertEquals("a_b", NftCompiler.ident("a-b"));
    }

    @Test
    void overlappingSetMembersAreMerged() {
        // local_network (192.168.10.0/24) holds a management host: nft refuses overlapping elements
        NftCompiler.Compiled compiled = COMPILER.compile(inputs("[OPTIONS]\nenable: 1\n\n[IPSET management]\n192.168.10.5\n"
                + "10.0.0.0/25\n10.0.0.128/25\n10.0.1.7\n", ""));
        assertEquals("10.0.0.0/24, 10.0.1.7, 192.168.10.0/24", NftText.sets(compiled.batch()).get("inet/dc_management_v4"));
        List<String> input = hostIn("", "[RULES]\nIN ACCEPT -source 10.0.0.1,10.0.0.0/30,10.0.0.4-10.0.0.9\n");
        assertTrue(input.contains("ip saddr 10.0.0.0-10.0.0.9 accept"), input.toString());
    }
}
