package org.corral.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.Digest;
import org.corral.core.config.StaleVersionException;
import org.corral.core.error.Conflict;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

// locks and watches are held by try-with-resources without being used in the body
@SuppressWarnings("try")
class ZkConfigStoreTest {
    @TempDir
    static Path dir;

    private static ClusterStore cluster;
    private static ZkConfigStore store;

    /** Each test works below its own directory, so they can share one ZooKeeper. */
    private String base;

    @BeforeAll
    static void startStore() {
        cluster = ClusterStore.start(TestNodes.node(dir, "pve1"));
        store = cluster.store();
    }

    @AfterAll
    static void stopStore() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void useOwnDirectory(TestInfo test) {
        base = "test/" + test.getTestMethod().orElseThrow().getName() + "-" + System.nanoTime();
    }

    @Test
    void newFileIsReadBackWithVersionZeroAndDigest() {
        String path = base + "/user.cfg";

        assertThat(store.write(path, "user:root@pam:1:0:::\n", ConfigStore.NEW)).isZero();

        ConfigFile file = store.read(path).orElseThrow();
        assertThat(file).isEqualTo(new ConfigFile(path, "user:root@pam:1:0:::\n", 0));
        assertThat(file.digest()).isEqualTo(Digest.sha1Hex("user:root@pam:1:0:::\n"));
    }

    @Test
    void writeAtCurrentVersionReplacesTextAndBumpsVersion() {
        String path = base + "/100.conf";
        store.write(path, "memory: 512\n", ConfigStore.NEW);

        assertThat(store.write(path, "memory: 1024\n", 0)).isEqualTo(1);
        assertThat(store.write(path, "memory: 2048\n", 1)).isEqualTo(2);

        assertThat(store.read(path)).contains(new ConfigFile(path, "memory: 2048\n", 2));
    }

    @Test
    void staleVersionWriteIsRefusedAndChangesNothing() {
        String path = base + "/100.conf";
        store.write(path, "memory: 512\n", ConfigStore.NEW);
        store.write(path, "memory: 1024\n", 0);

        assertThatThrownBy(() -> store.write(path, "memory: 4096\n", 0))
                .isInstanceOf(StaleVersionException.class)
                .hasMessageContaining(path);

        assertThat(store.read(path)).contains(new ConfigFile(path, "memory: 1024\n", 1));
    }

    @Test
    void creatingAFileThatExistsIsRefusedAndChangesNothing() {
        String path = base + "/storage.cfg";
        store.write(path, "dir: local\n", ConfigStore.NEW);

        assertThatThrownBy(() -> store.write(path, "dir: other\n", ConfigStore.NEW))
                .isInstanceOf(StaleVersionException.class);

        assertThat(store.read(path)).contains(new ConfigFile(path, "dir: local\n", 0));
    }

    @Test
    void writingAMissingFileAtAVersionIsRefusedAndCreatesNothing() {
        String path = base + "/missing.cfg";

        assertThatThrownBy(() -> store.write(path, "x\n", 3)).isInstanceOf(StaleVersionException.class);

        assertThat(store.read(path)).isEmpty();
    }

    @Test
    void readOfMissingFileIsEmpty() {
        assertThat(store.read(base + "/nothing.cfg")).isEmpty();
    }

    @Test
    void overwriteCreatesParentsThenReplacesWhateverVersionIsThere() {
        String path = base + "/nodes/pve1/lxc/200.conf";

        assertThat(store.overwrite(path, "arch: amd64\n")).isZero();
        store.write(path, "arch: i386\n", 0);
        assertThat(store.overwrite(path, "arch: arm64\n")).isEqualTo(2);

        assertThat(store.read(path)).contains(new ConfigFile(path, "arch: arm64\n", 2));
        assertThat(store.list(base + "/nodes/pve1")).containsExactly("lxc");
    }

    @Test
    void textKeepsUtf8AndEmptyContent() {
        store.write(base + "/notes", "description: Grüße, 你好 🐄\n", ConfigStore.NEW);
        store.write(base + "/empty", "", ConfigStore.NEW);

        assertThat(store.read(base + "/notes")).map(ConfigFile::text).contains("description: Grüße, 你好 🐄\n");
        assertThat(store.read(base + "/empty")).map(ConfigFile::text).contains("");
    }

    @Test
    void deleteAtCurrentVersionRemovesTheFile() {
        String path = base + "/100.conf";
        store.write(path, "a\n", ConfigStore.NEW);
        store.write(path, "b\n", 0);

        assertThat(store.delete(path, 1)).isTrue();

        assertThat(store.read(path)).isEmpty();
        assertThat(store.list(base)).isEmpty();
    }

    @Test
    void deleteAtStaleVersionIsRefusedAndKeepsTheFile() {
        String path = base + "/100.conf";
        store.write(path, "a\n", ConfigStore.NEW);
        store.write(path, "b\n", 0);

        assertThatThrownBy(() -> store.delete(path, 0)).isInstanceOf(StaleVersionException.class);

        assertThat(store.read(path)).contains(new ConfigFile(path, "b\n", 1));
    }

    @Test
    void deleteOfMissingFileReturnsFalse() {
        assertThat(store.delete(base + "/gone.conf", 0)).isFalse();
        assertThat(store.delete(base + "/gone.conf", ConfigStore.NEW)).isFalse();
    }

    @Test
    void deleteExpectingNoFileIsRefusedWhenItExists() {
        String path = base + "/here.conf";
        store.write(path, "a\n", ConfigStore.NEW);

        assertThatThrownBy(() -> store.delete(path, ConfigStore.NEW)).isInstanceOf(StaleVersionException.class);

        assertThat(store.read(path)).isPresent();
    }

    @Test
    void deleteOfNonEmptyDirectoryIsAConflict() {
        store.write(base + "/qemu-server/100.conf", "a\n", ConfigStore.NEW);

        assertThatThrownBy(() -> store.delete(base + "/qemu-server", 0))
                .isInstanceOf(Conflict.class)
                .hasMessageContaining("not empty");
    }

    @Test
    void listReturnsSortedChildrenAndNothingForAMissingDirectory() {
        for (String name : List.of("300.conf", "100.conf", "sub", "200.conf")) {
            store.write(base + "/qemu-server/" + name, "x\n", ConfigStore.NEW);
        }
        store.write(base + "/qemu-server/sub/deeper.conf", "x\n", ConfigStore.NEW);

        assertThat(store.list(base + "/qemu-server")).containsExactly("100.conf", "200.conf", "300.conf", "sub");
        assertThat(store.list(base + "/nowhere")).isEmpty();
        assertThat(store.list("")).contains("test");
    }

    @Test
    void concurrentUpdatesRetryUntilEveryChangeIsApplied() throws Exception {
        String path = base + "/counter";
        int threads = 6;
        int increments = 20;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < increments; i++) {
                        store.update(path, text -> String.valueOf((text.isEmpty() ? 0 : Integer.parseInt(text)) + 1));
                    }
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        ConfigFile file = store.read(path).orElseThrow();
        assertThat(file.text()).isEqualTo(String.valueOf(threads * increments));
        assertThat(file.version()).isEqualTo(threads * increments - 1);
    }

    @Test
    void readAfterSyncSeesTheLatestWrite() {
        String path = base + "/datacenter.cfg";
        store.write(path, "keyboard: de\n", ConfigStore.NEW);

        store.sync();

        assertThat(store.read(path)).map(ConfigFile::text).contains("keyboard: de\n");
    }

    @Test
    void watchReportsCreateChangeAndDeleteUnderItsPrefix() {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        store.write(base + "/lxc/before.conf", "x\n", ConfigStore.NEW);
        try (ZkConfigStore.Watch watch = store.watch(base + "/lxc", seen::add)) {
            String path = base + "/lxc/200.conf";

            store.write(path, "arch: amd64\n", ConfigStore.NEW);
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(path));

            seen.clear();
            store.write(path, "arch: arm64\n", 0);
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(path));

            seen.clear();
            store.delete(path, 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(path));

            store.write(base + "/other.conf", "x\n", ConfigStore.NEW);
            store.write(base + "/lxc/marker.conf", "x\n", ConfigStore.NEW);
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(base + "/lxc/marker.conf"));
            assertThat(seen).doesNotContain(base + "/other.conf", base + "/lxc/before.conf");
        }
    }

    @Test
    void closedWatchReportsNothingMore() throws Exception {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        ZkConfigStore.Watch watch = store.watch(base, seen::add);
        store.write(base + "/a.conf", "x\n", ConfigStore.NEW);
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(base + "/a.conf"));

        watch.close();
        store.write(base + "/b.conf", "x\n", ConfigStore.NEW);
        // a second, still open watch proves the event was delivered by now
        CountDownLatch delivered = new CountDownLatch(1);
        try (ZkConfigStore.Watch probe = store.watch(base, path -> delivered.countDown())) {
            store.write(base + "/c.conf", "x\n", ConfigStore.NEW);
            assertThat(delivered.await(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(seen).doesNotContain(base + "/b.conf", base + "/c.conf");
    }

    @Test
    void watchListenerMayReadTheStore() {
        String path = base + "/user.cfg";
        CompletableFuture<String> text = new CompletableFuture<>();
        // the directory 'base' itself is reported too, as it is created as a parent
        try (ZkConfigStore.Watch watch = store.watch(base, changed -> {
            if (changed.equals(path)) {
                text.complete(store.read(changed).map(ConfigFile::text).orElse("<missing>"));
            }
        })) {
            store.write(path, "user:root@pam:1:0:::\n", ConfigStore.NEW);

            assertThat(text).succeedsWithin(Duration.ofSeconds(10)).isEqualTo("user:root@pam:1:0:::\n");
        }
    }

    @Test
    void lockExcludesASecondHolderUntilReleased() throws Exception {
        String name = base.replace('/', '-');
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            try (ConfigStore.Lock held = store.lock(name, Duration.ofSeconds(5))) {
                Future<?> refused = other.submit(() -> store.lock(name, Duration.ofMillis(300)));

                assertThat(refused).failsWithin(Duration.ofSeconds(10))
                        .withThrowableThat()
                        .havingRootCause()
                        .isInstanceOf(Conflict.class)
                        .withMessage("can't lock '" + name + "' - got timeout");
            }

            Future<Boolean> taken = other.submit(() -> {
                try (ConfigStore.Lock lock = store.lock(name, Duration.ofSeconds(5))) {
                    return true;
                }
            });
            assertThat(taken).succeedsWithin(Duration.ofSeconds(10)).isEqualTo(true);
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void lockIsExclusiveAcrossClientsAndFreedWhenTheHoldingClientCloses() {
        String name = base.replace('/', '-');
        ZkConfigStore other = ZkConfigStore.connect(cluster.zooKeeper().connectString(), cluster.zooKeeper().credentials(), cluster.zooKeeper().tls());
        try {
            other.lock(name, Duration.ofSeconds(5));

            assertThatThrownBy(() -> store.lock(name, Duration.ofMillis(300)))
                    .isInstanceOf(Conflict.class)
                    .hasMessage("can't lock '" + name + "' - got timeout");
        } finally {
            other.close();
        }
        // the lock node was ephemeral: the other session's end freed it
        store.lock(name, Duration.ofSeconds(5)).close();
    }

    @Test
    void watchSeesWritesOfOtherClients() {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        try (ZkConfigStore.Watch watch = store.watch(base, seen::add);
                ZkConfigStore other = ZkConfigStore.connect(cluster.zooKeeper().connectString(), cluster.zooKeeper().credentials(), cluster.zooKeeper().tls())) {
            other.write(base + "/storage.cfg", "dir: local\n", ConfigStore.NEW);

            await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(base + "/storage.cfg"));
        }
    }

    @Test
    void secondLockOfTheSameNameInTheSameThreadTimesOutWithConflict() {
        String name = base.replace('/', '-');
        try (ConfigStore.Lock held = store.lock(name, Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> store.lock(name, Duration.ofMillis(200)))
                    .isInstanceOf(Conflict.class)
                    .satisfies(e -> assertThat(((Conflict) e).status()).isEqualTo(409));
        }
    }

    @Test
    void lockCanOnlyBeReleasedByTheThreadThatTookIt() throws Exception {
        String name = base.replace('/', '-');
        ConfigStore.Lock held = store.lock(name, Duration.ofSeconds(5));
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            assertThat(other.submit(held::close)).failsWithin(Duration.ofSeconds(10))
                    .withThrowableThat()
                    .havingRootCause()
                    .isInstanceOf(IllegalStateException.class)
                    .withMessageContaining("thread that took it");
        } finally {
            other.shutdownNow();
            held.close();
        }
        store.lock(name, Duration.ofSeconds(1)).close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"../x", "/abs", "a//b", "a\nb", "", "a/", "./a", "a/../b", "a\u0000b", "a\rb"})
    void invalidPathsAreRefusedBeforeTouchingTheStore(String path) {
        assertThatThrownBy(() -> store.write(path, "x\n", ConfigStore.NEW))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid config path");
        assertThatThrownBy(() -> store.read(path)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.overwrite(path, "x\n")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.delete(path, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.lock(path, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void invalidDirectoriesAreRefusedButTheTopIsListable() {
        assertThatThrownBy(() -> store.list("../x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.list("/abs")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.watch("a//b", path -> {})).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.list("")).isNotNull();
    }

    @Test
    void fileAboveTheSizeLimitIsRefusedAndNotWritten() {
        String path = base + "/huge";
        String text = "x".repeat(ZkConfigStore.MAX_FILE_BYTES + 1);

        assertThatThrownBy(() -> store.write(path, text, ConfigStore.NEW))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("too large");
        assertThat(store.read(path)).isEmpty();

        store.write(path, "x".repeat(ZkConfigStore.MAX_FILE_BYTES), ConfigStore.NEW);
        assertThat(store.read(path).orElseThrow().text()).hasSize(ZkConfigStore.MAX_FILE_BYTES);
    }
}
