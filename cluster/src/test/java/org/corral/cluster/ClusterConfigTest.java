package org.corral.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.corral.core.error.ParameterError;
import org.corral.core.node.Node;
import org.junit.jupiter.api.Test;

class ClusterConfigTest {
    private static ClusterMember member(String name, int id, boolean observer) {
        return new ClusterMember(name, id, "192.0.2." + id, 8006, "AA:BB", 1, new Node.ZooKeeperPorts(2181, 2888, 3888), observer);
    }

    @Test
    void namedConfigWithMembersSurvivesTextRoundTrip() {
        ClusterConfig config = new ClusterConfig(Optional.of("prod"), 4, List.of(member("pve2", 2, false), member("pve1", 1, false),
                member("pve4", 4, true)));
        ClusterConfig read = ClusterConfig.parse(config.text());
        assertThat(read).isEqualTo(config);
        assertThat(read.members()).extracting(ClusterMember::name).containsExactly("pve1", "pve2", "pve4");
        assertThat(config.text()).startsWith("cluster: prod\n\tconfig_version 4\n\nnode: pve1\n\tnodeid 1\n");
    }

    @Test
    void unnamedConfigHoldsMembersWithoutVersion() {
        ClusterConfig config = new ClusterConfig(Optional.empty(), 0, List.of(member("pve1", 1, false)));
        assertThat(config.text()).doesNotContain("cluster:");
        assertThat(ClusterConfig.parse(config.text())).isEqualTo(config);
    }

    @Test
    void addingAMemberCountsTheVersionOnAndTakesTheLowestFreeId() {
        ClusterConfig config = new ClusterConfig(Optional.of("c"), 2, List.of(member("a", 1, false), member("c", 3, false)));
        assertThat(config.nextNodeId()).isEqualTo(2);
        ClusterConfig grown = config.with(member("b", 2, false));
        assertThat(grown.version()).isEqualTo(3);
        assertThat(grown.nextNodeId()).isEqualTo(4);
        assertThat(grown.voters()).isEqualTo(3);
    }

    @Test
    void zooKeeperServerLineNamesRoleAndPorts() {
        assertThat(member("pve4", 4, true).zooKeeperServer()).isEqualTo("server.4=192.0.2.4:2888:3888:observer;192.0.2.4:2181");
        assertThat(member("pve1", 1, false).zooKeeperServer()).isEqualTo("server.1=192.0.2.1:2888:3888:participant;192.0.2.1:2181");
    }

    @Test
    void nameWithLineBreakIsRefusedBeforeAnythingIsWritten() {
        ClusterConfig config = new ClusterConfig(Optional.of("a\nnode: evil"), 1, List.of());
        assertThatThrownBy(config::text).isInstanceOf(ParameterError.class);
    }

    @Test
    void unknownSectionIsRefused() {
        assertThatThrownBy(() -> ClusterConfig.parse("totem: x\n\tfoo 1\n")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("totem");
    }

    @Test
    void everyMemberVotesUpToThreeThenThreeUntilFiveThenFive() {
        int[] wanted = {0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5};
        for (int members = 0; members < wanted.length; members++) {
            assertThat(ClusterConfig.wantedVoters(members)).as(members + " members").isEqualTo(wanted[members]);
        }
        assertThat(ClusterConfig.wantedVoters(30)).isEqualTo(5);
    }
}
