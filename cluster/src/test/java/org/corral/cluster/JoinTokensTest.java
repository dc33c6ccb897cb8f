package org.corral.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.corral.core.config.ConfigStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JoinTokensTest {
    @TempDir
    static Path dir;
    private static ClusterStore cluster;

    @BeforeAll
    static void start() {
        cluster = ClusterStore.start(TestNodes.node(dir, "pve1"));
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    private static Clock at(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    @Test
    void tokenWorksOnceAndIsStoredOnlyHashed() {
        JoinTokens tokens = new JoinTokens(cluster.store(), at(NOW));
        JoinTokens.Issued issued = tokens.create();
        assertThat(JoinTokens.isToken(issued.token())).isTrue();
        assertThat(cluster.store().read(JoinTokens.PATH).orElseThrow().text()).doesNotContain(issued.token().substring(JoinTokens.PREFIX.length()));
        assertThat(tokens.valid(issued.token())).isTrue();
        assertThat(tokens.consume(issued.token())).isTrue();
        assertThat(tokens.consume(issued.token())).isFalse();
        assertThat(tokens.valid(issued.token())).isFalse();
    }

    @Test
    void tokenExpiresAfterAnHourAndIsDroppedFromTheStore() {
        JoinTokens.Issued old = new JoinTokens(cluster.store(), at(NOW)).create();
        assertThat(old.expires()).isEqualTo(NOW.plus(Duration.ofHours(1)));
        JoinTokens tokens = new JoinTokens(cluster.store(), at(NOW.plus(Duration.ofMinutes(61))));
        JoinTokens.Issued fresh = tokens.create();
        assertThat(tokens.consume(old.token())).isFalse();
        assertThat(cluster.store().read(JoinTokens.PATH).orElseThrow().text().lines()).hasSize(1);
        assertThat(tokens.consume(fresh.token())).isTrue();
    }

    @Test
    void unknownTokenIsRefused() {
        JoinTokens tokens = new JoinTokens(cluster.store(), at(NOW));
        assertThat(tokens.consume(JoinTokens.PREFIX + "00")).isFalse();
    }

    @Test
    void membershipRegistersOnceAndCreateNamesTheClusterOnce() {
        ConfigStore store = cluster.store();
        ClusterMembership membership = new ClusterMembership(store);
        org.corral.core.node.Node node = TestNodes.node(dir, "pve1");
        ClusterConfig first = membership.register(node, 1, "127.0.0.1", 8006, "AA:01");
        assertThat(first.name()).isEmpty();
        assertThat(first.members()).extracting(ClusterMember::nodeId).containsExactly(1);
        ClusterConfig created = membership.create("lab");
        assertThat(created.name()).contains("lab");
        assertThat(created.version()).isEqualTo(1);
        ClusterConfig moved = membership.register(node, 1, "127.0.0.2", 8006, "AA:02");
        assertThat(moved.member("pve1").orElseThrow().address()).isEqualTo("127.0.0.2");
        assertThat(moved.version()).isEqualTo(2);
        assertThat(membership.register(node, 1, "127.0.0.2", 8006, "AA:02").version()).isEqualTo(2);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> membership.create("other"))
                .isInstanceOf(org.corral.core.error.Conflict.class).hasMessageContaining("already exists");
        assertThat(membership.read().name()).contains("lab");
        store.delete(ClusterConfig.PATH, store.read(ClusterConfig.PATH).orElseThrow().version());
    }

    @Test
    void announcedNodeIsOnlineUntilClosed() {
        ZkConfigStore.Watch presence = cluster.store().announce("pve9");
        assertThat(cluster.store().online()).contains("pve9");
        presence.close();
        assertThat(cluster.store().online()).doesNotContain("pve9");
    }
}
