package org.corral.lxc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.corral.lxc.config.NetConfig;
import org.junit.jupiter.api.Test;

/** Which NIC changes reach a running container at once and which wait for its next start. */
class CtHotplugTest {
    static Optional<NetConfig> net(String value) {
        return Optional.of(NetConfig.parse("net1", value));
    }

    @Test
    void nicsOnABridgeArePluggedAndUnplugged() {
        assertThat(CtHotplug.refusal(Optional.empty(), net("name=eth1,bridge=vmbr0,ip=10.0.0.2/24"))).isEmpty();
        assertThat(CtHotplug.refusal(net("name=eth1,bridge=vmbr0"), Optional.empty())).isEmpty();
        assertThat(CtHotplug.refusal(Optional.empty(), net("name=eth1,ip=dhcp"))).contains("only NICs on a bridge are hot-plugged");
        assertThat(CtHotplug.refusal(Optional.empty(), net("name=eth1,bridge=vmbr0,firewall=1"))).contains("firewall=1 is set up at start");
    }

    @Test
    void bridgeTagRateAndLinkChangeLiveButNameAndAddressesWait() {
        Optional<NetConfig> before = net("name=eth1,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=10.0.0.2/24");
        assertThat(CtHotplug.refusal(before, net("name=eth1,bridge=vmbr1,hwaddr=BC:24:11:00:00:01,ip=10.0.0.2/24,tag=5,rate=10,link_down=1")))
                .isEmpty();
        assertThat(CtHotplug.refusal(before, net("name=eth2,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=10.0.0.2/24")))
                .contains("changing name of a running NIC needs a restart");
        assertThat(CtHotplug.refusal(before, net("name=eth1,bridge=vmbr0,hwaddr=BC:24:11:00:00:02,ip=10.0.0.3/24")))
                .contains("changing hwaddr, ip of a running NIC needs a restart");
    }
}
