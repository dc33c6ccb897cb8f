package org.corral.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** datacenter.cfg's store-timeouts: parsed strictly, kept per node, and used by the member at its next start. */
class StoreTimingsTest {
    @TempDir
    Path dir;

    @Test
    void parsesPartialValuesOverTheDefaults() {
        assertThat(StoreTimings.parse("")).isEqualTo(StoreTimings.DEFAULTS);
        assertThat(StoreTimings.parse("session=30")).isEqualTo(new StoreTimings(2000, 10, 5, 30));
        assertThat(StoreTimings.parse(" tick=500 , sync-limit=8,init-limit=20,session=4"))
                .isEqualTo(new StoreTimings(500, 20, 8, 4));
        assertThat(StoreTimings.parse(StoreTimings.DEFAULTS.format())).isEqualTo(StoreTimings.DEFAULTS);
    }

    @Test
    void refusesWhatZooKeeperWouldChangeOrCannotRead() {
        assertThatThrownBy(() -> StoreTimings.parse("session=50")).hasMessageContaining("session must be between 2 and 20 ticks");
        assertThatThrownBy(() -> StoreTimings.parse("tick=2000,session=3")).hasMessageContaining("4 to 40 s");
        assertThatThrownBy(() -> StoreTimings.parse("tick=50")).hasMessageContaining("tick must be between");
        assertThatThrownBy(() -> StoreTimings.parse("sync-limit=1")).hasMessageContaining("sync-limit");
        assertThatThrownBy(() -> StoreTimings.parse("token=3")).hasMessageContaining("unknown key 'token'");
        assertThatThrownBy(() -> StoreTimings.parse("tick")).hasMessageContaining("not key=value");
        assertThatThrownBy(() -> StoreTimings.parse("tick=fast")).hasMessageContaining("'tick' is not an integer");
        assertThatThrownBy(() -> StoreTimings.parse("tick=500,tick=600")).hasMessageContaining("duplicate key 'tick'");
    }

    @Test
    void aNodeKeepsTheLastTimingsItSawAndItsMemberStartsWithThem() throws Exception {
        Node node = TestNodes.node(dir, "pve1");
        Files.createDirectories(node.localDir());
        assertThat(StoreTimings.local(node.localDir())).isEqualTo(StoreTimings.DEFAULTS);
        assertThat(StoreTimings.remember(node.localDir(), Optional.empty())).isFalse();
        StoreTimings fast = new StoreTimings(500, 12, 6, 4);
        assertThat(StoreTimings.remember(node.localDir(), Optional.of(fast))).isTrue();
        assertThat(StoreTimings.remember(node.localDir(), Optional.of(fast))).isFalse();
        assertThat(StoreTimings.local(node.localDir())).isEqualTo(fast);

        try (ClusterStore store = ClusterStore.start(node)) {
            String zooCfg = Files.readString(store.zooKeeper().directory().resolve("zoo.cfg"));
            assertThat(zooCfg).contains("tickTime=500\n", "initLimit=12\n", "syncLimit=6\n");
            store.store().write("written", "1\n", ConfigStore.NEW);
            assertThat(store.store().read("written")).isPresent();
        }

        // back to the defaults when the option is deleted
        assertThat(StoreTimings.remember(node.localDir(), Optional.empty())).isTrue();
        assertThat(StoreTimings.local(node.localDir())).isEqualTo(StoreTimings.DEFAULTS);
        Files.writeString(node.localDir().resolve("store-timeouts"), "tick=nonsense\n");
        assertThatThrownBy(() -> StoreTimings.local(node.localDir())).hasMessageContaining("invalid store timings");
    }
}
