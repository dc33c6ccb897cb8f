package org.corral.firewall.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionChecker;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.node.Node;
import org.corral.firewall.FirewallService;
import org.corral.firewall.nft.FirewallEnforcer;
import org.corral.firewall.nft.NftSimulator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /nodes/{node}/firewall/simulate} through the dispatcher, on a ruleset compiled from an
 * in-memory store (nothing applied). Packets between two guests on one bridge need nothing from
 * the host's routing; {@code FirewallSimulatorIT} checks the simulator against real packets.
 */
class SimulateApiTest {
    private static final AuthContext ROOT = AuthContext.user("root@pam", "127.0.0.1");
    private static final AuthContext AUDITOR = AuthContext.user("audit@pve", "127.0.0.1");
    private static final String CLUSTER_FW = """
            [OPTIONS]
            enable: 1

            [group web]
            # the web ports
            IN ACCEPT -p tcp -dport 443
            """;
    private static final String CT_FW = """
            [OPTIONS]
            enable: 1
            policy_in: DROP

            [RULES]
            IN ACCEPT -p tcp -dport 80
            GROUP web
            IN DROP -source fd00:77::11 -p tcp -dport 22
            IN ACCEPT -p tcp -dport 22
            IN REJECT -p udp -dport 53
            IN ACCEPT -p icmp -icmp-type echo-request
            """;

    @TempDir
    Path dir;

    private ApiDispatcher api;
    private final Map<String, Map<String, Set<Privilege>>> grants = new ConcurrentHashMap<>();

    @BeforeEach
    void start() {
        InMemoryConfigStore store = new InMemoryConfigStore();
        Node node = new Node("pve1", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 0, new Node.ZooKeeperPorts(0, 0, 0));
        PermissionChecker permissions = (auth, path) -> auth.isRoot() ? EnumSet.allOf(Privilege.class)
                : grants.getOrDefault(auth.userid(), Map.of()).getOrDefault(path, Set.of());
        FirewallService service = new FirewallService(node, store);
        // the host's routing, as this test's topology has it: both guest networks on vmbr0
        NftSimulator.HostNetwork routes = new NftSimulator.HostNetwork() {
            @Override
            public String routeDevice(InetAddress address) {
                if (address.getHostAddress().startsWith("10.0.0.") || address.getHostAddress().startsWith("fd00:77:")) {
                    return "vmbr0";
                }
                throw new IllegalArgumentException("the host has no route to " + address.getHostAddress());
            }

            @Override
            public boolean bridgeCallsInet(int version) {
                return true;
            }
        };
        api = new ApiDispatcher(new ApiRegistry(List.of(new FirewallApi(service),
                new SimulateApi(FirewallEnforcer.local(service), routes))), permissions);
        store.overwrite(FirewallService.CLUSTER_FILE, CLUSTER_FW);
        store.overwrite(FirewallService.guestFile(101), CT_FW);
        store.overwrite(FirewallService.guestFile(100), "[OPTIONS]\nenable: 1\n");
        store.overwrite("nodes/pve1/qemu-server/100.conf", "net0: virtio=02:00:00:00:01:00,bridge=vmbr0,firewall=1\n");
        store.overwrite("nodes/pve1/lxc/101.conf", "net0: name=eth0,bridge=vmbr0,hwaddr=02:00:00:00:01:01,ip=10.0.0.12/24,"
                + "ip6=fd00:77::12/64,firewall=1\n");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> simulate(Map<String, String> params) throws Exception {
        Map<String, String> all = new HashMap<>(Map.of("from", "vm100", "to", "ct101", "source", "10.0.0.11", "dest", "10.0.0.12"));
        all.putAll(params);
        return (Map<String, Object>) api.dispatch(HttpVerb.GET, "/nodes/pve1/firewall/simulate", all, ROOT);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> trace(Map<String, Object> answer) {
        return (List<Map<String, Object>>) answer.get("trace");
    }

    /** The steps of the trace that come from a firewall file, as "file:line action". */
    private static List<String> fileSteps(Map<String, Object> answer) {
        return trace(answer).stream().filter(s -> s.containsKey("file"))
                .map(s -> s.get("packet") + " " + s.get("file") + ":" + s.get("line") + " " + s.get("action")).toList();
    }

    @Test
    void allowedPortIsAcceptedByItsRuleWithFileAndLine() throws Exception {
        Map<String, Object> answer = simulate(Map.of("protocol", "tcp", "dport", "80"));
        assertThat(answer).containsEntry("verdict", "ACCEPT").containsEntry("reply", "ACCEPT").containsEntry("connects", 1)
                .containsEntry("ruleset", "compiled");
        assertThat(fileSteps(answer)).containsExactly("request firewall/101.fw:6 accept");
        // the trace is in order and numbered; it starts where the frame enters the bridge
        assertThat(trace(answer).getFirst()).containsEntry("n", 1).containsEntry("family", "bridge").containsEntry("hook", "prerouting");
    }

    @Test
    void securityGroupRuleNamesItsLineInClusterFw() throws Exception {
        Map<String, Object> answer = simulate(Map.of("protocol", "tcp", "dport", "443"));
        assertThat(answer).containsEntry("verdict", "ACCEPT");
        assertThat(fileSteps(answer)).containsExactly("request firewall/cluster.fw:6 accept");
    }

    @Test
    void otherPortMeetsThePolicyAndUdpRejectIsAReject() throws Exception {
        Map<String, Object> dropped = simulate(Map.of("protocol", "tcp", "dport", "81"));
        assertThat(dropped).containsEntry("verdict", "DROP").containsEntry("connects", 0).doesNotContainKey("reply");
        assertThat(trace(dropped).getLast()).containsEntry("action", "drop").containsEntry("comment", "policy DROP");

        Map<String, Object> rejected = simulate(Map.of("protocol", "udp", "dport", "53", "sport", "5353"));
        assertThat(rejected).containsEntry("verdict", "REJECT");
        assertThat(fileSteps(rejected)).containsExactly("request firewall/101.fw:10 mark set 0xc0020001, return");
        assertThat(trace(rejected).getLast()).containsEntry("family", "inet").containsEntry("chain", "do_reject");
    }

    @Test
    void rejectWithoutARouteBackIsADropForTheSender() throws Exception {
        Map<String, Object> answer = simulate(Map.of("protocol", "udp", "dport", "53", "source", "10.9.9.9"));
        assertThat(answer).containsEntry("verdict", "DROP");
        assertThat(trace(answer).getLast()).containsEntry("hook", "routing");
        assertThat((String) trace(answer).getLast().get("action")).contains("no route back to 10.9.9.9");
    }

    @Test
    void icmpTypeIsMatched() throws Exception {
        assertThat(simulate(Map.of("protocol", "icmp"))).containsEntry("verdict", "ACCEPT").containsEntry("reply", "ACCEPT");
        assertThat(simulate(Map.of("protocol", "icmp", "icmp-type", "timestamp-request"))).containsEntry("verdict", "DROP");
    }

    @Test
    void ipv6SourceRuleMatchesOnlyItsAddress() throws Exception {
        Map<String, Object> blocked = simulate(Map.of("protocol", "tcp", "dport", "22", "source", "fd00:77::11", "dest", "fd00:77::12"));
        assertThat(blocked).containsEntry("verdict", "DROP");
        assertThat(fileSteps(blocked)).containsExactly("request firewall/101.fw:8 drop");
        Map<String, Object> other = simulate(Map.of("protocol", "tcp", "dport", "22", "source", "fd00:77::99", "dest", "fd00:77::12"));
        assertThat(other).containsEntry("verdict", "ACCEPT");
        assertThat(fileSteps(other)).containsExactly("request firewall/101.fw:9 accept");
    }

    @Test
    void badParametersAreNamedAllAtOnce() {
        assertThatThrownBy(() -> simulate(Map.of("from", "vmx", "protocol", "tcp", "icmp-type", "echo-request")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsOnlyKeys("from", "dport", "icmp-type"));
        assertThatThrownBy(() -> simulate(Map.of("protocol", "icmp", "dport", "80", "icmp-type", "no-such-type")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsOnlyKeys("dport", "icmp-type"));
        assertThatThrownBy(() -> simulate(Map.of("protocol", "sctp", "dport", "80")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsOnlyKeys("protocol"));
        assertThatThrownBy(() -> simulate(Map.of("protocol", "tcp", "dport", "80", "dest", "fd00:77::12")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsOnlyKeys("dest"));
        assertThatThrownBy(() -> simulate(Map.of("protocol", "tcp", "dport", "80", "source", "10.0.0.300")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsOnlyKeys("source"));
        assertThatThrownBy(() -> simulate(Map.of("protocol", "tcp", "dport", "70000")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsOnlyKeys("dport"));
        assertThatThrownBy(() -> simulate(Map.of("protocol", "tcp", "dport", "80", "to", "vm100")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors()).containsOnlyKeys("to"));
        assertThatThrownBy(() -> simulate(Map.of("protocol", "tcp", "dport", "80", "to", "ct999")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors().get("to")).contains("not on this node"));
        assertThatThrownBy(() -> simulate(Map.of("protocol", "tcp", "dport", "80", "to", "vm101")))
                .isInstanceOfSatisfying(ParameterError.class, e -> assertThat(e.errors().get("to")).contains("is a container"));
    }

    @Test
    void needsSysAuditOnTheNode() throws Exception {
        Map<String, String> params = Map.of("from", "vm100", "to", "ct101", "protocol", "tcp", "dport", "80", "source", "10.0.0.11",
                "dest", "10.0.0.12");
        assertThatThrownBy(() -> api.dispatch(HttpVerb.GET, "/nodes/pve1/firewall/simulate", params, AUDITOR))
                .isInstanceOf(PermissionDenied.class);
        grants.put("audit@pve", Map.of("/nodes/pve1", Set.of(Privilege.SYS_AUDIT)));
        assertThat(api.dispatch(HttpVerb.GET, "/nodes/pve1/firewall/simulate", params, AUDITOR)).isNotNull();
    }
}
