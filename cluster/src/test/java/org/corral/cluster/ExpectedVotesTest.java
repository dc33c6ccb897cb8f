package org.corral.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `expected 1` on the survivor of a two-voter cluster: it writes again alone, and the lost voter,
 * when it comes back, follows the survivor as an observer with every write made meanwhile.
 */
class ExpectedVotesTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void aLoneSurvivorWritesAgainOnPurposeAndTheLostVoterComesBackAsAnObserver() throws Exception {
        Node pve1 = TestNodes.node(dir, "pve1");
        Node pve2 = TestNodes.node(dir, "pve2");
        ClusterStore original = ClusterStore.start(pve1);
        ClusterStore survivor = null;
        try {
            ClusterStore first = original;
            ClusterMembership membership = new ClusterMembership(first.store());
            membership.register(pve1, 1, "127.0.0.1", pve1.apiPort(), "");
            membership.create("lab");
            TestNodes.prepareJoin(pve2, 2, first, false);
            try (ClusterStore second = ClusterStore.start(pve2)) {
                assertThat(second.addMember(EmbeddedZooKeeper.serverLine(pve2, 2, false))).hasSize(2);
                new ClusterMembership(second.store()).register(pve2, 2, "127.0.0.1", pve2.apiPort(), "");
                second.store().write("written-by-two", "1\n", ConfigStore.NEW);
            }
            await(() -> !first.store().quorate(), "pve1 to lose its quorum");
            ClusterConfig seen = membership.read();
            assertThat(seen.voters()).isEqualTo(2);

            // the survivor must stay a voter, and only members may be named
            assertThatThrownBy(() -> ClusterStore.forceQuorum(pve1, seen, Set.of("pve2"), WAIT)).hasMessageContaining("must stay a voter");
            assertThatThrownBy(() -> ClusterStore.forceQuorum(pve1, seen, Set.of("pve1", "pve9"), WAIT)).hasMessageContaining("pve9");

            first.close();
            survivor = ClusterStore.forceQuorum(pve1, seen, Set.of("pve1"), WAIT);
            survivor.store().write("written-alone", "1\n", ConfigStore.NEW);
            ClusterConfig forced = new ClusterMembership(survivor.store()).read();
            assertThat(forced.voters()).isEqualTo(1);
            assertThat(forced.member("pve2").orElseThrow().observer()).isTrue();
            assertThat(survivor.ensemble()).anyMatch(line -> line.startsWith("server.2=") && line.contains(":observer;"));

            // pve2 comes back with its old view of two voters: it learns the newer one and follows
            ClusterStore back = ClusterStore.start(pve2);
            try {
                await(() -> readable(back.store(), "written-alone"), "pve2 to follow with the survivor's writes");
                assertThat(back.store().read("written-by-two")).isPresent();
                survivor.store().write("written-after-return", "1\n", ConfigStore.NEW);
                back.store().sync();
                assertThat(back.store().read("written-after-return")).isPresent();
                assertThat(survivor.ensemble()).anyMatch(line -> line.startsWith("server.2=") && line.contains(":observer;"))
                        .anyMatch(line -> line.startsWith("server.1=") && line.contains(":participant;"));
            } finally {
                back.close();
            }
        } finally {
            original.close();
            if (survivor != null) {
                survivor.close();
            }
        }
    }

    private static boolean readable(ConfigStore store, String path) {
        try {
            store.sync();
            return store.read(path).isPresent();
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
