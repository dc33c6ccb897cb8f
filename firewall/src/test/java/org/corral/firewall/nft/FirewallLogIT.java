package org.corral.firewall.nft;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.ApiResult;
import org.corral.core.api.HttpVerb;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.node.Node;
import org.corral.firewall.FirewallService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Logged packets, read back from NFLOG: the container's rule with {@code -log} and its logged
 * DROP policy, for real packets over {@link NetnsTopology}, answered by the log endpoints.
 */
class FirewallLogIT {
    private static final AuthContext ROOT = AuthContext.user("root@pam", "127.0.0.1");

    @TempDir
    static Path dir;
    private static NetnsTopology net;
    private static FirewallEnforcer enforcer;
    private static ApiDispatcher api;

    @BeforeAll
    static void start() throws Exception {
        net = NetnsTopology.create(dir);
        net.serve(net.ct, 80, 81);
        InMemoryConfigStore store = new InMemoryConfigStore();
        store.overwrite(FirewallService.CLUSTER_FILE, "[OPTIONS]\nenable: 1\n\n[ALIASES]\nlocal_network 10.99.99.0/24\n");
        store.overwrite(FirewallService.guestFile(100), "[OPTIONS]\nenable: 1\n");
        store.overwrite(FirewallService.guestFile(101), "[OPTIONS]\nenable: 1\npolicy_in: DROP\nlog_level_in: warning\n\n"
                + "[RULES]\nIN ACCEPT -p tcp -dport 80 -log info\n");
        store.overwrite("nodes/pve1/qemu-server/100.conf", NetnsTopology.VM_CONF);
        store.overwrite("nodes/pve1/lxc/101.conf", NetnsTopology.CT_CONF);
        Node node = new Node("pve1", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 8006, new Node.ZooKeeperPorts(0, 0, 0));
        FirewallService service = new FirewallService(node, store);
        enforcer = new FirewallEnforcer(service, NftApplier.inNamespace(net.host), new NftCompiler(Services.system()), Clock.systemUTC());
        enforcer.start();
        api = new ApiDispatcher(new ApiRegistry(service.apiModules(enforcer)), (auth, path) -> EnumSet.allOf(Privilege.class));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> enforcer.status().generation() >= 1);
        assertThat(enforcer.status().state()).isEqualTo(FirewallEnforcer.State.APPLIED);
    }

    @AfterAll
    static void stop() {
        if (enforcer != null) {
            enforcer.close();
        }
        if (net != null) {
            net.close();
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> lines(String path, Map<String, String> params) throws Exception {
        return (List<Map<String, Object>>) ((ApiResult) api.dispatch(HttpVerb.GET, path, params, ROOT)).data();
    }

    private static long total(String path, Map<String, String> params) throws Exception {
        return ((Number) ((ApiResult) api.dispatch(HttpVerb.GET, path, params, ROOT)).extras().get("total")).longValue();
    }

    @Test
    void loggedDropAndLoggedAcceptOfRealPacketsAreInTheLog() throws Exception {
        assertThat(enforcer.log().state()).startsWith("reading NFLOG group");
        long before = java.time.Instant.now().getEpochSecond();
        assertThat(net.connect(net.vm, NetnsTopology.VM_IP, NetnsTopology.CT_IP, 81)).as("dropped by the policy").isEqualTo(3);
        assertThat(net.connect(net.vm, NetnsTopology.VM_IP, NetnsTopology.CT_IP, 80)).as("accepted by the rule").isZero();
        String guest = "/nodes/pve1/lxc/101/firewall/log";
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> total(guest, Map.of()) >= 2);
        List<String> texts = lines(guest, Map.of()).stream().map(l -> (String) l.get("t")).toList();
        System.out.println("firewall log of CT 101: " + texts);
        assertThat(texts).anySatisfy(t -> assertThat(t).startsWith("101 4 101-veth101i0-in ").contains(" policy DROP: ")
                .contains("SRC=" + NetnsTopology.VM_IP + " DST=" + NetnsTopology.CT_IP).contains("PROTO=TCP").contains("DPT=81 SYN"));
        assertThat(texts).anySatisfy(t -> assertThat(t).startsWith("101 6 veth101i0_in ").contains(" ACCEPT: ")
                .contains("DPT=80 SYN"));
        assertThat(lines(guest, Map.of()).getFirst()).containsEntry("n", 1);
        // paging and time filters, as Proxmox's
        assertThat(lines(guest, Map.of("limit", "1"))).hasSize(1);
        assertThat(lines(guest, Map.of("start", "1", "limit", "1")).getFirst()).containsEntry("n", 2);
        assertThat(total(guest, Map.of("since", Long.toString(before + 3600)))).isZero();
        assertThat(total(guest, Map.of("until", Long.toString(before - 3600)))).isZero();
        // the VM logs nothing; the node's log has every line
        assertThat(total("/nodes/pve1/qemu/100/firewall/log", Map.of())).isZero();
        assertThat(total("/nodes/pve1/firewall/log", Map.of())).isGreaterThanOrEqualTo(2);
    }
}
