package org.corral.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnsembleJoinTest {
    @TempDir
    Path dir;

    @Test
    void nodesJoinByReconfigAsVotersThenAsObserverAndShareOneStore() throws Exception {
        Node pve1 = TestNodes.node(dir, "pve1");
        Node pve2 = TestNodes.node(dir, "pve2");
        Node pve3 = TestNodes.node(dir, "pve3");
        try (ClusterStore first = ClusterStore.start(pve1)) {
            first.store().write("user.cfg", "user:alice@pve:1:0:::\n", ConfigStore.NEW);
            try (ClusterStore own = ClusterStore.start(pve2)) {
                own.store().write("nodes/pve2/qemu-server/200.conf", "memory: 64\n", ConfigStore.NEW);
            }
            TestNodes.prepareJoin(pve2, 2, first, false);
            try (ClusterStore second = ClusterStore.start(pve2)) {
                assertThat(second.addMember(EmbeddedZooKeeper.serverLine(pve2, 2, false))).hasSize(2);
                assertThat(second.store().read("user.cfg").orElseThrow().text()).contains("alice@pve");
                assertThat(second.store().read("nodes/pve2/qemu-server/200.conf")).isEmpty();

                TestNodes.prepareJoin(pve3, 3, second, false);
                try (ClusterStore third = ClusterStore.start(pve3)) {
                    assertThat(third.addMember(EmbeddedZooKeeper.serverLine(pve3, 3, false)))
                            .hasSize(3).allMatch(line -> line.contains(":participant;"));
                    third.store().write("written-on-3", "x\n", ConfigStore.NEW);
                    awaitPresent(first.store(), "written-on-3");
                    assertThat(first.ensemble()).hasSize(3);

                    // a fourth member observes: it gets every write but does not vote
                    Node pve4 = TestNodes.node(dir, "pve4");
                    TestNodes.prepareJoin(pve4, 4, third, true);
                    try (ClusterStore fourth = ClusterStore.start(pve4)) {
                        assertThat(fourth.addMember(EmbeddedZooKeeper.serverLine(pve4, 4, true)))
                                .filteredOn(line -> line.startsWith("server.4=")).singleElement().asString().contains(":observer;");
                        assertThat(fourth.store().read("written-on-3")).isPresent();

                        // voter 3 leaves: removed by reconfig, the observer votes in its place
                        third.close();
                        assertThat(first.removeMember(3)).hasSize(3).noneMatch(line -> line.startsWith("server.3="));
                        assertThat(first.addMember(EmbeddedZooKeeper.serverLine(pve4, 4, false)))
                                .filteredOn(line -> line.startsWith("server.4=")).singleElement().asString().contains(":participant;");
                        // unconditional: the promotion restarts the member and may drop the answer to a first
                        // attempt, whose retry would then meet the file it created
                        fourth.store().overwrite("written-after-promotion", "x\n");
                        awaitPresent(first.store(), "written-after-promotion");
                    }
                }
            }
        }
    }

    @Test
    void connectStringListsEveryMembersClientAddress() {
        assertThat(EmbeddedZooKeeper.connectString(java.util.List.of("server.1=10.0.0.1:2888:3888:participant;10.0.0.1:2181",
                "server.2=[fd00::2]:2888:3888:observer;[fd00::2]:2181", "version=100000002")))
                .isEqualTo("10.0.0.1:2181,[fd00::2]:2181");
    }

    @Test
    void undoJoinGivesTheNodeItsOwnStoreBack() {
        Node pve1 = TestNodes.node(dir, "pve1");
        Node pve2 = TestNodes.node(dir, "pve2");
        try (ClusterStore first = ClusterStore.start(pve1)) {
            try (ClusterStore own = ClusterStore.start(pve2)) {
                own.store().write("mine", "kept\n", ConfigStore.NEW);
            }
            TestNodes.prepareJoin(pve2, 2, first, false);
            EmbeddedZooKeeper.undoJoin(pve2);
            try (ClusterStore own = ClusterStore.start(pve2)) {
                assertThat(own.store().read("mine").orElseThrow().text()).isEqualTo("kept\n");
                assertThat(own.ensemble()).hasSize(1);
            }
        }
    }

    /**
     * A write acknowledged through another member reaches this one. Right after a reconfig, ZooKeeper's
     * sync() has been seen to return before the member applied it, so the read is retried for a while.
     */
    private static void awaitPresent(ConfigStore store, String path) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            store.sync();
            if (store.read(path).isPresent()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(path + " written through another member is not on this one after 30 s");
            }
            Thread.sleep(100);
        }
    }
}
