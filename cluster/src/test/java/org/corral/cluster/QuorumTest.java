package org.corral.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuorumTest {
    @TempDir
    Path dir;

    @Test
    void storeIsQuorateWhileItsMemberServesAndNotAfter() throws Exception {
        ClusterStore cluster = ClusterStore.start(TestNodes.node(dir, "pve1"));
        try (ZkConfigStore client = ZkConfigStore.connect(cluster.zooKeeper().connectString(), cluster.zooKeeper().credentials(), cluster.zooKeeper().tls())) {
            assertThat(client.quorate()).isTrue();
            assertThat(cluster.store().quorate()).isTrue();
            cluster.close();
            Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
            while (client.quorate() && Instant.now().isBefore(deadline)) {
                Thread.sleep(100);
            }
            assertThat(client.quorate()).isFalse();
        } finally {
            cluster.close();
        }
    }
}
