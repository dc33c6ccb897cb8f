package org.corral.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11: under a steady write load one member grows to 2, 3, 4 and 5 and back to 3, joining and
 * leaving by reconfig as the daemons do (observer when the cluster has its voters, promoted when it
 * wants more). ZooKeeper's own view has 1, 2, 3, 3 and 5 voters on the way up and 3 at the end, and
 * every write that was acknowledged is readable on every member at the end.
 */
class GrowthUnderLoadTest {
    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedWriteSurvivesGrowingToFiveAndShrinkingToThree() throws Exception {
        List<Node> nodes = new ArrayList<>();
        List<ClusterStore> members = new ArrayList<>();
        List<AutoCloseable> presences = new ArrayList<>();
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicInteger refused = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = null;
        try {
            Node first = TestNodes.node(dir, "pve1");
            nodes.add(first);
            members.add(ClusterStore.start(first));
            ClusterMembership membership = new ClusterMembership(members.get(0).store());
            membership.register(first, 1, "127.0.0.1", first.apiPort(), "");
            membership.create("lab");
            presences.add(members.get(0).store().announce("pve1"));
            assertThat(voters(members.get(0))).isEqualTo(1);

            ConfigStore load = members.get(0).store();
            writer = Thread.ofPlatform().name("load").start(() -> {
                for (int n = 0; !stop.get(); n++) {
                    String path = "load/w" + n;
                    try {
                        load.write(path, n + "\n", ConfigStore.NEW);
                        acknowledged.add(path);
                    } catch (RuntimeException e) {
                        // a write may fail while the ensemble changes; only acknowledged ones must survive
                        refused.incrementAndGet();
                    }
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });

            int[] votersWhenGrowing = {0, 1, 2, 3, 3, 5};
            for (int k = 2; k <= 5; k++) {
                Node node = TestNodes.node(dir, "pve" + k);
                nodes.add(node);
                ClusterStore sponsor = members.getLast();
                ClusterConfig before = new ClusterMembership(sponsor.store()).read();
                // as ClusterJoin decides: observe when the cluster already has the voters its new size wants
                boolean observer = before.voters() >= ClusterConfig.wantedVoters(before.members().size() + 1);
                TestNodes.prepareJoin(node, k, sponsor, observer);
                ClusterStore joined = ClusterStore.start(node);
                members.add(joined);
                joined.addMember(EmbeddedZooKeeper.serverLine(node, k, observer));
                int id = k;
                new ClusterMembership(joined.store()).update(c -> c.with(
                        new ClusterMember(node.name(), id, "127.0.0.1", node.apiPort(), "", 1, node.zooKeeper(), observer)));
                presences.add(joined.store().announce(node.name()));
                awaitOnline(joined, k);
                joined.promoteObservers();
                assertThat(voters(joined)).as("voters at %d members", k).isEqualTo(votersWhenGrowing[k]);
            }
            int acknowledgedAtFive = acknowledged.size();

            // back to 3: pve5 and pve4 stop and are removed, as delnode does
            for (int k = 5; k >= 4; k--) {
                ClusterStore leaving = members.remove(k - 1);
                presences.remove(k - 1).close();
                leaving.close();
                ClusterStore remaining = members.get(0);
                remaining.removeMember(k);
                String name = "pve" + k;
                new ClusterMembership(remaining.store()).update(c -> c.without(name));
                remaining.promoteObservers();
            }
            stop.set(true);
            writer.join();
            assertThat(voters(members.get(0))).isEqualTo(3);
            assertThat(members.get(0).ensemble()).hasSize(3);
            assertThat(acknowledged.size()).as("writes acknowledged after reaching 5 members").isGreaterThan(acknowledgedAtFive);
            for (ClusterStore member : members) {
                member.store().sync();
                Set<String> present = Set.copyOf(member.store().list("load"));
                List<String> missing = acknowledged.stream().map(p -> p.substring("load/".length())).filter(p -> !present.contains(p)).toList();
                assertThat(missing).as("acknowledged writes missing on %s (%d acknowledged, %d refused)", member.zooKeeper().node().name(),
                        acknowledged.size(), refused.get()).isEmpty();
            }
        } finally {
            stop.set(true);
            if (writer != null) {
                writer.join();
            }
            for (AutoCloseable presence : presences) {
                presence.close();
            }
            for (ClusterStore member : members.reversed()) {
                member.close();
            }
        }
    }

    /** Voters in ZooKeeper's own view of the ensemble. */
    private static long voters(ClusterStore member) {
        return member.ensemble().stream().filter(line -> line.contains(":participant;")).count();
    }

    private static void awaitOnline(ClusterStore member, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (member.store().online().size() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + member.store().online() + " online");
            }
            Thread.sleep(100);
        }
    }
}
