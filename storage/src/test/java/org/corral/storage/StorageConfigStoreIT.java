package org.corral.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.corral.cluster.ClusterStore;
import org.corral.core.api.HttpVerb;
import org.corral.core.config.ConfigStore;
import org.corral.core.error.ParameterError;
import org.corral.core.node.Node;
import org.corral.core.task.TaskManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** storage.cfg in the real config store (embedded ZooKeeper): created once, changed only by compare-and-set. */
class StorageConfigStoreIT {
    @TempDir
    static Path dir;

    private static ClusterStore cluster;
    private static TestStorage storage;

    @BeforeAll
    static void startStore() throws IOException {
        int[] ports = freePorts(3);
        Node node = new Node("pve1", dir.resolve("zk/data"), dir.resolve("zk/run"), "127.0.0.1", 0,
                new Node.ZooKeeperPorts(ports[0], ports[1], ports[2]));
        cluster = ClusterStore.start(node);
        storage = new TestStorage(dir.resolve("storage"), cluster.store(), PluginRegistry.standard(Host.system()));
    }

    @AfterAll
    static void stopStore() {
        if (storage != null) {
            storage.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    @Test
    void initializeCreatesStorageCfgOnceAndTheApiChangesItInPlace() throws Exception {
        ConfigStore store = cluster.store();
        storage.service().initialize();
        String created = store.read(StorageService.CONFIG).orElseThrow().text();
        storage.service().initialize();
        assertThat(store.read(StorageService.CONFIG).orElseThrow().text()).isEqualTo(created).startsWith("dir: local\n");

        storage.call(HttpVerb.POST, "/storage", Map.of("storage", "zk-dir", "type", "dir", "path", "/srv/zk", "content", "iso"));
        assertThatThrownBy(() -> storage.call(HttpVerb.POST, "/storage", Map.of("storage", "zk-bad", "type", "dir", "path", "/srv/bad",
                "thinpool", "x"))).isInstanceOf(ParameterError.class);

        // a second service, as another daemon would, reads what the first wrote
        try (TaskManager tasks = new TaskManager(TestStorage.node(dir.resolve("other"), "pve1"))) {
            StorageService other = new StorageService(storage.node(), store, tasks, Clock.systemUTC());
            assertThat(other.config().storages().keySet()).startsWith("local").contains("zk-dir").doesNotContain("zk-bad");
        }
        assertThat(store.read(StorageService.CONFIG).orElseThrow().text()).startsWith(created)
                .contains("\n\ndir: zk-dir\n\tpath /srv/zk\n\tcontent iso\n\n");
    }

    @Test
    void concurrentCreatesAllLand() throws Exception {
        storage.service().initialize();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Object>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                String id = "par" + i;
                Callable<Object> create = () -> storage.call(HttpVerb.POST, "/storage", Map.of("storage", id, "type", "dir", "path", "/srv/" + id));
                results.add(pool.submit(create));
            }
            for (Future<Object> result : results) {
                result.get();
            }
        } finally {
            pool.shutdown();
        }

        StorageCfg cfg = storage.service().config();
        for (int i = 0; i < 16; i++) {
            assertThat(cfg.get("par" + i)).isPresent();
        }
        assertThat(StorageCfgCodec.write(cfg.list())).isEqualTo(cluster.store().read(StorageService.CONFIG).orElseThrow().text());
    }
}
