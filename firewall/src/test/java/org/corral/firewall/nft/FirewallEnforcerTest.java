package org.corral.firewall.nft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.node.Node;
import org.corral.firewall.FirewallService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FirewallEnforcerTest {
    @TempDir
    Path dir;

    private FirewallService service(InMemoryConfigStore store) {
        Node node = new Node("pve1", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 8006, new Node.ZooKeeperPorts(2181, 2888, 3888));
        return new FirewallService(node, store);
    }

    @Test
    void withoutNftItDoesNothingAndSaysSo() {
        InMemoryConfigStore store = new InMemoryConfigStore();
        store.overwrite(FirewallService.CLUSTER_FILE, "[OPTIONS]\nenable: 1\n");
        NftApplier missing = new NftApplier(List.of("/nonexistent/corral-no-such-program"));
        try (FirewallEnforcer enforcer = new FirewallEnforcer(service(store), missing, new NftCompiler(Services.system()),
                Clock.systemUTC()).start()) {
            assertEquals(FirewallEnforcer.State.UNAVAILABLE, enforcer.status().state());
            assertTrue(enforcer.status().message().contains("nft is not installed"), enforcer.status().message());
            // no watch: a later write applies nothing
            store.overwrite(FirewallService.CLUSTER_FILE, "[OPTIONS]\nenable: 0\n");
            assertEquals(0, enforcer.status().generation());
        }
    }

    @Test
    void inputsComeFromTheStore() {
        InMemoryConfigStore store = new InMemoryConfigStore();
        store.overwrite(FirewallService.CLUSTER_FILE, "[OPTIONS]\nenable: 1\n\n[ALIASES]\nlocal_network 10.1.0.0/16\n");
        store.overwrite(FirewallService.hostFile("pve1"), "[RULES]\nIN SSH(ACCEPT)\n");
        store.overwrite(FirewallService.guestFile(100), "[OPTIONS]\nenable: 1\n");
        store.overwrite("nodes/pve1/qemu-server/100.conf", "net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1\n");
        store.overwrite("nodes/pve1/lxc/101.conf", "net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:02,ip=10.0.0.2/24\n");
        store.overwrite("nodes/pve2/qemu-server/200.conf", "net0: virtio=BC:24:11:00:00:03,bridge=vmbr0,firewall=1\n");
        try (FirewallEnforcer enforcer = new FirewallEnforcer(service(store), NftApplier.local(), new NftCompiler(Services.system()),
                Clock.systemUTC())) {
            FirewallInputs in = enforcer.inputs();
            assertEquals("1", in.cluster().options().get("enable"));
            assertEquals(1, in.host().rules().size());
            assertEquals(List.of(100, 101), in.guests().stream().map(Guest::vmid).toList(), "only this node's guests");
            assertEquals("tap100i0", in.guests().get(0).nics().get(0).port());
            assertEquals("veth101i0", in.guests().get(1).nics().get(0).port());
            assertEquals(List.of(8006, 22, 3128, 2181, 2888, 3888), in.managementPorts());
            assertEquals("10.1.0.0/16", in.clusterAliases().stream().filter(a -> a.key().equals("local_network")).findFirst()
                    .orElseThrow().cidr(), "a defined local_network wins over the derived one");
        }
    }
}
