package org.corral.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member cut off from its quorum (1 of 2) keeps serving reads but refuses writes and reports
 * itself not quorate; when the other member is back, writes work again without a manual step.
 */
class MinorityTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void minorityReadsButRefusesWritesUntilTheQuorumIsBack() throws Exception {
        Node pve1 = TestNodes.node(dir, "pve1");
        Node pve2 = TestNodes.node(dir, "pve2");
        try (ClusterStore first = ClusterStore.start(pve1)) {
            first.store().write("user.cfg", "user:alice@pve:1:0:::\n", ConfigStore.NEW);
            TestNodes.prepareJoin(pve2, 2, first, false);
            ClusterStore second = ClusterStore.start(pve2);
            try {
                assertThat(second.addMember(EmbeddedZooKeeper.serverLine(pve2, 2, false))).hasSize(2);
                second.store().write("written-with-quorum", "1\n", ConfigStore.NEW);
            } finally {
                second.close();
            }

            // alone, pve1 is 1 of 2 voters: no quorum
            await(() -> !first.store().quorate(), "pve1 to lose its quorum");
            await(() -> readable(first.store()), "pve1 to serve reads without a quorum");
            assertThat(first.store().read("user.cfg").orElseThrow().text()).contains("alice@pve");
            assertThat(first.store().read("written-with-quorum")).isPresent();
            assertThatThrownBy(() -> first.store().write("written-without-quorum", "x\n", ConfigStore.NEW))
                    .isInstanceOf(ConfigStoreException.class);
            assertThat(first.store().read("written-without-quorum")).isEmpty();

            // the other member comes back: the same store object writes again
            try (ClusterStore back = ClusterStore.start(pve2)) {
                await(() -> first.store().quorate(), "pve1 to regain its quorum");
                first.store().write("written-after-healing", "1\n", ConfigStore.NEW);
                back.store().sync();
                assertThat(back.store().read("written-after-healing")).isPresent();
            }
        }
    }

    private static boolean readable(ConfigStore store) {
        try {
            store.read("user.cfg");
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Instant deadline = Instant.now().plus(WAIT);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("waited " + WAIT + " for " + what);
            }
            Thread.sleep(100);
        }
    }
}
