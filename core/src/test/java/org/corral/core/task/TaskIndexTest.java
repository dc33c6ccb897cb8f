package org.corral.core.task;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.corral.core.node.Node;
import org.corral.core.task.TaskFilter.Source;
import org.corral.core.task.TaskFilter.StatusType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The indexed task list against the plain sort-filter-page over every task, on random histories and filters. */
class TaskIndexTest {
    private static final String[] TYPES = {"qmstart", "qmstop", "vzdump", "vncproxy", "qmigrate"};
    private static final String[] IDS = {"", "100", "101", "102", "1000", "20"};
    private static final String[] USERS = {"root@pam", "alice@pve", "bob@pve", "alice@pve!ci", "Carol@ldap"};
    private static final String[] STATUSES = {"OK", "OK", "WARNINGS: 3", "VM 100 not running", TaskManager.UNEXPECTED,
            TaskManager.INTERRUPTED};
    private static final long BASE = 1_700_000_000L;

    @TempDir
    Path dir;

    @Test
    void indexedListAnswersAsTheFullScanForRandomHistoriesAndFilters() throws Exception {
        Random random = new Random(16);
        Node node = new Node("pve1", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 8006, new Node.ZooKeeperPorts(2181, 2888, 3888));
        Path tasksDir = node.localDir().resolve("tasks");
        Files.createDirectories(tasksDir);
        StringBuilder index = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            // few distinct start times, so that ties are broken by pstart and the UPID
            long start = BASE + random.nextInt(400);
            // pid and pstart make each UPID unique; equal pstarts leave the tie to the UPID text
            String upid = String.format(Locale.ROOT, "UPID:pve1:%08X:%08X:%08X:%s:%s:%s:", 1000 + i % 2,
                    i / 2, start, pick(random, TYPES), pick(random, IDS), pick(random, USERS));
            index.append(upid).append(String.format(Locale.ROOT, " %08X ", start + 5)).append(pick(random, STATUSES)).append('\n');
        }
        Files.writeString(tasksDir.resolve("index"), index.toString(), UTF_8);

        AtomicLong now = new AtomicLong(BASE + 200);
        InstantSource clock = () -> Instant.ofEpochSecond(now.get());
        CountDownLatch release = new CountDownLatch(1);
        try (TaskManager tasks = new TaskManager(node, clock)) {
            List<Upid> running = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                now.set(BASE + random.nextInt(400));
                running.add(tasks.start(pick(random, TYPES), pick(random, IDS), pick(random, USERS), ctx -> release.await()));
            }
            for (int i = 0; i < 1500; i++) {
                TaskFilter filter = randomFilter(random);
                TaskPage fast = tasks.list(filter);
                TaskPage slow = tasks.listByFullScan(filter);
                assertThat(fast.total()).as("total for %s", filter).isEqualTo(slow.total());
                assertThat(fast.tasks()).as("page for %s", filter).containsExactlyElementsOf(slow.tasks());
                if (i % 100 == 0) {
                    // a task that ends shows in the next answer
                    now.set(BASE + random.nextInt(400));
                    tasks.awaitCompletion(tasks.start(pick(random, TYPES), pick(random, IDS), pick(random, USERS), ctx -> {}),
                            Duration.ofSeconds(30));
                }
            }
            assertThat(tasks.list(TaskFilter.defaults().withLimit(0)).total()).isEqualTo(3000 + 15);
            release.countDown();
            for (Upid upid : running) {
                tasks.awaitCompletion(upid, Duration.ofSeconds(30));
            }
            assertThat(tasks.list(TaskFilter.defaults().withLimit(0)).total()).as("ended tasks join the index").isEqualTo(3000 + 21);
        }
    }

    private static TaskFilter randomFilter(Random random) {
        TaskFilter filter = TaskFilter.defaults().withStart(random.nextInt(4) == 0 ? random.nextInt(3000) : random.nextInt(20))
                .withLimit(random.nextInt(5) == 0 ? random.nextInt(5000) : random.nextInt(60))
                .withSource(Source.values()[random.nextInt(3)]);
        if (random.nextInt(3) == 0) {
            filter = filter.withVmid(random.nextInt(6) == 0 ? 0 : Integer.parseInt(pick(random, new String[] {"100", "101", "102", "1000", "20", "555"})));
        }
        if (random.nextInt(3) == 0) {
            filter = filter.withTypefilter(random.nextInt(8) == 0 ? "" : random.nextInt(8) == 0 ? "nosuch" : pick(random, TYPES));
        }
        if (random.nextInt(4) == 0) {
            filter = filter.withUserfilter(pick(random, new String[] {"", "alice", "ALICE", "carol", "@pve", "!ci", "nobody"}));
        }
        if (random.nextInt(3) == 0) {
            filter = filter.withSince(BASE + random.nextInt(450) - 20);
        }
        if (random.nextInt(3) == 0) {
            filter = filter.withUntil(BASE + random.nextInt(450) - 20);
        }
        if (random.nextInt(4) == 0) {
            filter = filter.withErrors(random.nextBoolean());
        }
        if (random.nextInt(4) == 0) {
            Set<StatusType> types = EnumSet.noneOf(StatusType.class);
            for (StatusType type : StatusType.values()) {
                if (random.nextBoolean()) {
                    types.add(type);
                }
            }
            filter = filter.withStatusfilter(types);
        }
        return filter;
    }

    private static String pick(Random random, String[] values) {
        return values[random.nextInt(values.length)];
    }

    @Test
    void emptyIndexPagesNothing() {
        TaskPage page = new TaskIndex().page(TaskFilter.defaults(), List.of());
        assertThat(page.tasks()).isEmpty();
        assertThat(page.total()).isZero();
    }
}
