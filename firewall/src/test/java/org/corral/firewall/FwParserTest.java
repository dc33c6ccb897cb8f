package org.corral.firewall;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.corral.core.error.ParameterError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@code .fw} parser and writer over our own corpus: golden round trips, every macro, and bad lines. */
class FwParserTest {
    private static String golden(String name) throws IOException {
        try (InputStream in = FwParserTest.class.getResourceAsStream("golden/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @CsvSource({"cluster.fw, CLUSTER", "host.fw, HOST", "guest.fw, GUEST", "vnet.fw, VNET"})
    void goldenFilesParseWithoutWarningsAndWriteBackUnchanged(String file, FwKind kind) throws IOException {
        String text = golden(file);

        FwParser.Parsed parsed = FwParser.parse(file, text, kind);

        assertThat(parsed.warnings()).isEmpty();
        assertThat(FwWriter.write(parsed.config(), kind)).isEqualTo(text);
    }

    @Test
    void clusterFileGivesTheModelACompilerWalks() throws IOException {
        FwConfig config = FwParser.parse("cluster.fw", golden("cluster.fw"), FwKind.CLUSTER).config();

        assertThat(config.options()).containsEntry("enable", "1").containsEntry("policy_in", "DROP")
                .containsEntry("log_ratelimit", "enable=1,burst=10,rate=5/second");
        assertThat(config.alias("GATEWAY")).map(Alias::cidr).contains("192.0.2.1");
        assertThat(config.ipset("blacklist").orElseThrow().entries()).containsExactly(
                new IpSetEntry("203.0.113.0/24", false, Optional.empty()),
                new IpSetEntry("203.0.113.7", true, Optional.of("except this one")));
        FwRule ssh = config.rules().getFirst();
        assertThat(ssh.type()).isEqualTo(RuleType.IN);
        assertThat(ssh.macro()).contains("SSH");
        assertThat(ssh.action()).isEqualTo("ACCEPT");
        assertThat(ssh.iface()).contains("vmbr0");
        assertThat(ssh.source()).contains("+management");
        assertThat(ssh.log()).contains("nolog");
        assertThat(ssh.comment()).contains("admins only");
        assertThat(config.rules().get(2).enabled()).isFalse();
        assertThat(config.rules().get(3).icmpType()).contains("echo-request");
        FwRule jump = config.rules().getLast();
        assertThat(jump.type()).isEqualTo(RuleType.GROUP);
        assertThat(jump.action()).isEqualTo("webserver");
        SecurityGroup group = config.group("webserver").orElseThrow();
        assertThat(group.comment()).contains("web front ends");
        assertThat(group.rules()).extracting(FwRule::macro).containsExactly(
                Optional.of("HTTP"), Optional.of("HTTPS"), Optional.empty(), Optional.empty());
        assertThat(config.group("empty").orElseThrow().rules()).isEmpty();
    }

    static Stream<Arguments> macros() {
        return Macros.standard().all().stream().map(m -> Arguments.of(m.name()));
    }

    @ParameterizedTest
    @MethodSource("macros")
    void everyMacroParsesInAnyCaseAndIsStoredUnderItsOwnName(String macro) {
        FwRule rule = FwParser.rule("IN " + macro.toLowerCase() + "(DROP) -source 192.0.2.1", RuleEnv.HOST);

        assertThat(rule.macro()).contains(macro);
        assertThat(rule.action()).isEqualTo("DROP");
        assertThat(FwWriter.ruleLine(rule, true)).isEqualTo("IN " + macro + "(DROP) -source 192.0.2.1\n");
    }

    @Test
    void thereAre84MacrosWithProxmoxExpansions() {
        assertThat(Macros.standard().all()).hasSize(84);
        Macros.Macro dns = Macros.standard().find("dns").orElseThrow();
        assertThat(dns.description()).isEqualTo("Domain Name System traffic (upd and tcp)");
        assertThat(dns.expansions()).containsExactly(
                new Macros.Expansion("PARAM", Optional.of("udp"), Optional.of("53"), Optional.empty(), Optional.empty()),
                new Macros.Expansion("PARAM", Optional.of("tcp"), Optional.of("53"), Optional.empty(), Optional.empty()));
        assertThat(Macros.standard().find("Ping").orElseThrow().expansions()).singleElement()
                .satisfies(e -> assertThat(e.icmpType()).contains("echo-request"));
        assertThat(Macros.standard().find("DHCPfwd").orElseThrow().expansions()).singleElement()
                .satisfies(e -> assertThat(e.sport()).contains("67:68"));
    }

    static Stream<Arguments> badLines() {
        return Stream.of(
                Arguments.of("IN ACCEPT -p tcp -dport 99999", "dport: invalid port '99999'"),
                Arguments.of("IN NoSuchMacro(ACCEPT)", "macro: unknown macro 'NoSuchMacro'"),
                Arguments.of("IN ALLOW", "action: unknown action 'ALLOW'"),
                Arguments.of("SIDEWAYS ACCEPT", "unknown rule type 'SIDEWAYS'"),
                Arguments.of("IN ACCEPT -dport 22", "proto: missing property - 'dport' requires this property"),
                Arguments.of("IN ACCEPT -p tcp -icmp-type echo-request", "proto: missing property - 'icmp-type' requires this property"),
                Arguments.of("IN ACCEPT -p icmp -icmp-type nonsense", "icmp-type: invalid icmp-type 'nonsense' for proto 'icmp'"),
                Arguments.of("IN ACCEPT -p gre -dport 22", "dport: protocol 'gre' does not support ports"),
                Arguments.of("IN ACCEPT -p nosuchproto", "proto: unknown protocol 'nosuchproto'"),
                Arguments.of("IN ACCEPT -source 10.0.0.300", "source: invalid IP address: '10.0.0.300'"),
                Arguments.of("IN ACCEPT -source 10.0.0.1,2001:db8::1", "detected mixed ipv4/ipv6 addresses"),
                Arguments.of("IN ACCEPT -source 10.0.0.1 -dest 2001:db8::1", "dest: detected mixed ipv4/ipv6 addresses in rule"),
                Arguments.of("IN ACCEPT -log loud", "unable to parse rule parameters: -log loud"),
                Arguments.of("IN ACCEPT -x 1", "unable to parse rule parameters: -x 1"),
                Arguments.of("FORWARD REJECT", "action: cannot define REJECT rules on forward chain"),
                Arguments.of("GROUP webserver -p tcp", "unable to parse rule parameters: -p tcp"),
                Arguments.of("IN", "unable to parse rule: IN"));
    }

    @ParameterizedTest
    @MethodSource("badLines")
    void badRuleIsReportedWithFileAndLineAndTheRestStillParses(String bad, String message) {
        String text = "[RULES]\n\nIN ACCEPT -p tcp -dport 22\n" + bad + "\nOUT DROP\n";

        FwParser.Parsed parsed = FwParser.parse("nodes/pve1/host.fw", text, FwKind.HOST);

        assertThat(parsed.warnings()).singleElement().satisfies(w -> {
            assertThat(w.file()).isEqualTo("nodes/pve1/host.fw");
            assertThat(w.line()).isEqualTo(4);
            assertThat(w.message()).contains(message);
        });
        assertThat(parsed.config().rules()).extracting(FwRule::type).containsExactly(RuleType.IN, RuleType.OUT);
    }

    @Test
    void guestRulesNameTheGuestsNicAndTakeNoForwardRules() {
        String text = "[RULES]\nIN ACCEPT -i eth0\nFORWARD ACCEPT\nIN ACCEPT -i net1\n";

        FwParser.Parsed parsed = FwParser.parse("firewall/100.fw", text, FwKind.GUEST);

        assertThat(parsed.warnings()).extracting(ParseWarning::line, ParseWarning::message).containsExactly(
                org.assertj.core.groups.Tuple.tuple(2, "errors in rule parameters: iface: value does not match the regex pattern 'net\\d+'"),
                org.assertj.core.groups.Tuple.tuple(3, "errors in rule parameters: type: invalid rule type 'forward' for rule_env 'vm'"));
        assertThat(parsed.config().rules()).singleElement().satisfies(r -> assertThat(r.iface()).contains("net1"));
    }

    @Test
    void badOptionsAliasesIpsetEntriesAndSectionsAreSkippedWithTheirLine() {
        String text = String.join("\n",
                "stray line",
                "[OPTIONS]",
                "enable: 2",
                "policy_in: drop",
                "frobnicate: 1",
                "[ALIASES]",
                "ok 10.0.0.1",
                "bad 10.0.0.0/33",
                "OK 10.0.0.2",
                "[IPSET set1]",
                "10.0.0.0/0",
                "!10.1.0.0/16",
                "!10.1.0.0/16",
                "[group g1]",
                "IN ACCEPT",
                "[IPSET 1bad]",
                "10.0.0.1",
                "[RULES]",
                "IN ACCEPT # a comment # with a hash",
                "");

        FwParser.Parsed parsed = FwParser.parse("firewall/101.fw", text, FwKind.GUEST);

        assertThat(parsed.warnings()).extracting(ParseWarning::line).containsExactly(1, 3, 5, 8, 9, 11, 13, 14, 16);
        assertThat(parsed.warnings().get(0).message()).isEqualTo("skip line - no section");
        assertThat(parsed.warnings().get(7).message()).contains("section [GROUP] is not allowed");
        assertThat(parsed.config().options()).containsExactly(Map.entry("policy_in", "DROP"));
        assertThat(parsed.config().aliases()).extracting(Alias::name).containsExactly("ok");
        assertThat(parsed.config().ipsets()).singleElement().satisfies(s ->
                assertThat(s.entries()).containsExactly(new IpSetEntry("10.1.0.0/16", true, Optional.empty())));
        assertThat(parsed.config().rules()).singleElement().satisfies(r ->
                assertThat(r.comment()).contains("a comment # with a hash"));
    }

    @Test
    void nonCanonicalSpellingReadsTheSameAndWritesCanonically() {
        String text = "[rules]\n  |in ssh(accept)  --proto tcp\n[Options]\nENABLE: 1\n[ipset MySet] #  c \n 10.0.0.1 #x\n";

        FwParser.Parsed parsed = FwParser.parse("cluster.fw", text, FwKind.CLUSTER);

        assertThat(parsed.warnings()).extracting(ParseWarning::message).singleElement().asString()
                .contains("unknown action 'ssh(accept)'"); // a macro's action is upper case only, as in Proxmox
        String written = FwWriter.write(parsed.config(), FwKind.CLUSTER);
        assertThat(written).isEqualTo("[OPTIONS]\n\nenable: 1\n\n[IPSET myset] # c\n\n10.0.0.1 # x\n\n");
        assertThat(FwWriter.write(FwParser.parse("cluster.fw", written, FwKind.CLUSTER).config(), FwKind.CLUSTER)).isEqualTo(written);
    }

    @Test
    void writerRefusesAControlCharacterInAComment() {
        FwRule rule = FwParser.rule("IN ACCEPT", RuleEnv.HOST);
        FwRule injected = FwRule.of(RuleType.IN, true, "ACCEPT", Map.of("comment", "x\n[RULES]\nIN ACCEPT"));
        FwConfig config = FwConfig.EMPTY.withRules(List.of(rule, injected));

        assertThatThrownBy(() -> FwWriter.write(config, FwKind.HOST)).isInstanceOfSatisfying(ParameterError.class, e ->
                assertThat(e.errors()).containsKey("comment"));
    }
}
