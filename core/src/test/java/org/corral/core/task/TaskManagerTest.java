package org.corral.core.task;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.corral.core.error.NotFound;
import org.corral.core.json.Json;
import org.corral.core.node.Node;
import org.corral.core.task.TaskFilter.Source;
import org.corral.core.task.TaskFilter.StatusType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class TaskManagerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void startAnswersTheUpidAtOnceWhileTheBodyStillRuns() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (TaskManager tasks = new TaskManager(node())) {
            long before = Instant.now().getEpochSecond();
            Upid upid = tasks.start("qmstart", "100", "root@pam", ctx -> release.await());

            TaskStatus running = tasks.status(upid);
            assertThat(running.status()).isEqualTo("running");
            assertThat(running.exitstatus()).isEmpty();
            assertThat(running.endtime()).isEmpty();
            assertThat(running.upid()).isEqualTo(upid.format());
            assertThat(upid.node()).isEqualTo("pve1");
            assertThat(upid.pid()).isEqualTo(ProcessHandle.current().pid());
            assertThat(upid.type()).isEqualTo("qmstart");
            assertThat(upid.id()).isEqualTo("100");
            assertThat(upid.user()).isEqualTo("root@pam");
            assertThat(upid.startTime()).isBetween(before, Instant.now().getEpochSecond());

            release.countDown();
            TaskStatus ended = awaitEnd(tasks, upid);
            assertThat(ended.exitstatus()).contains("OK");
            assertThat(ended.endtime()).hasValueSatisfying(end -> assertThat(end).isGreaterThanOrEqualTo(upid.startTime()));
            assertThat(lines(tasks, upid)).containsExactly("TASK OK");
        }
    }

    @Test
    void thousandTasksStartedAtOnceGetDistinctUpids() throws Exception {
        int count = 1000;
        List<Upid> upids = new ArrayList<>();
        try (TaskManager tasks = new TaskManager(node())) {
            try (ExecutorService starters = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<Upid>> started = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    String vmid = Integer.toString(100 + i % 3);
                    started.add(starters.submit(() -> tasks.start("qmstart", vmid, "root@pam", ctx -> ctx.log("hello"))));
                }
                for (Future<Upid> future : started) {
                    upids.add(future.get());
                }
            }
            for (Upid upid : upids) {
                assertThat(awaitEnd(tasks, upid).exitstatus()).contains("OK");
            }

            assertThat(new HashSet<>(upids)).hasSize(count);
            assertThat(upids.stream().map(Upid::format).distinct()).hasSize(count);
            assertThat(upids).allSatisfy(upid -> assertThat(Upid.parse(upid.format())).isEqualTo(upid));
            assertThat(tasks.list(TaskFilter.defaults().withLimit(0)).total()).isEqualTo(count);
        }
        assertThat(Files.readAllLines(tasksDir().resolve("index"))).hasSize(count);
        assertThat(Files.readString(tasksDir().resolve("active"))).isEmpty();
    }

    @Test
    void logIsReadableWhileTheTaskRunsAndPagesAfterwards() throws Exception {
        CountDownLatch logged = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("vzdump", "100", "root@pam", ctx -> {
                ctx.log("starting backup of VM 100");
                ctx.log("%d%% done", 50);
                logged.countDown();
                release.await();
                ctx.log("line three\nline four");
                ctx.log("finished");
            });

            assertThat(logged.await(30, TimeUnit.SECONDS)).isTrue();
            LogPage whileRunning = tasks.log(upid, 0, 50);
            assertThat(whileRunning.total()).isEqualTo(2);
            assertThat(whileRunning.lines()).containsExactly(new LogLine(1, "starting backup of VM 100"), new LogLine(2, "50% done"));
            assertThat(Files.readAllLines(logFile(upid))).containsExactly("starting backup of VM 100", "50% done");

            release.countDown();
            awaitEnd(tasks, upid);

            assertThat(tasks.log(upid, 0, 50).lines()).extracting(LogLine::t).containsExactly(
                    "starting backup of VM 100", "50% done", "line three", "line four", "finished", "TASK OK");
            LogPage middle = tasks.log(upid, 1, 2);
            assertThat(middle.total()).isEqualTo(6);
            assertThat(middle.lines()).containsExactly(new LogLine(2, "50% done"), new LogLine(3, "line three"));
            assertThat(tasks.log(upid, 4, 50).lines()).containsExactly(new LogLine(5, "finished"), new LogLine(6, "TASK OK"));
            assertThat(tasks.log(upid, 3, 0).lines()).as("limit 0 reads to the end").hasSize(3);
            LogPage beyond = tasks.log(upid, 10, 50);
            assertThat(beyond.lines()).isEmpty();
            assertThat(beyond.total()).isEqualTo(6);
        }
    }

    @Test
    void emptyLogAnswersNoContentAsProxmoxDoes() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("qmstart", "100", "root@pam", ctx -> release.await());

            assertThat(tasks.log(upid, 0, 50)).isEqualTo(new LogPage(List.of(new LogLine(1, "no content")), 1));
            release.countDown();
            awaitEnd(tasks, upid);
        }
    }

    @Test
    void failedTaskEndsWithTheFirstLineOfTheExceptionMessage() {
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("qmcreate", "100", "root@pam", ctx -> {
                ctx.log("allocating disk");
                throw new IllegalStateException("storage 'local' is full\nneeded 32G, have 1G");
            });

            TaskStatus status = awaitEnd(tasks, upid);
            assertThat(status.exitstatus()).contains("storage 'local' is full");
            assertThat(lines(tasks, upid)).containsExactly("allocating disk", "TASK ERROR: storage 'local' is full");
        }
    }

    @Test
    void failureWithoutMessageEndsWithTheExceptionClass() {
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("qmcreate", "100", "root@pam", ctx -> {
                throw new UnsupportedOperationException();
            });

            assertThat(awaitEnd(tasks, upid).exitstatus()).contains("java.lang.UnsupportedOperationException");
        }
    }

    @Test
    void warningsEndASuccessfulTaskWithWarningsCount() {
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("vzdump", "", "root@pam", ctx -> {
                ctx.warn("guest agent not running");
                ctx.log("backup written");
                ctx.warn("skipped %d disks", 2);
            });

            assertThat(awaitEnd(tasks, upid).exitstatus()).contains("WARNINGS: 2");
            assertThat(lines(tasks, upid)).containsExactly(
                    "WARN: guest agent not running", "backup written", "WARN: skipped 2 disks", "TASK WARNINGS: 2");
        }
    }

    @Test
    void failureAfterWarningsEndsWithTheError() {
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("vzdump", "", "root@pam", ctx -> {
                ctx.warn("slow storage");
                throw new java.io.IOException("write error");
            });

            assertThat(awaitEnd(tasks, upid).exitstatus()).contains("write error");
        }
    }

    @Test
    void stopInterruptsASleepingTaskWhichEndsInterruptedBySignal() throws Exception {
        CountDownLatch sleeping = new CountDownLatch(1);
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("qmigrate", "100", "root@pam", ctx -> {
                ctx.log("migrating");
                sleeping.countDown();
                Thread.sleep(Duration.ofMinutes(10));
                ctx.log("not reached");
            });
            assertThat(sleeping.await(30, TimeUnit.SECONDS)).isTrue();

            tasks.stop(upid);

            TaskStatus status = awaitEnd(tasks, upid);
            assertThat(status.exitstatus()).contains("interrupted by signal");
            assertThat(lines(tasks, upid)).containsExactly("migrating", "TASK ERROR: interrupted by signal");
        }
    }

    @Test
    void taskThatSurvivesTheInterruptIsStoppedAtItsNextCheck() throws Exception {
        CountDownLatch sleeping = new CountDownLatch(1);
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("qmclone", "100", "root@pam", ctx -> {
                sleeping.countDown();
                try {
                    Thread.sleep(Duration.ofMinutes(10));
                } catch (InterruptedException e) {
                    ctx.log("cleaning up, stopped=%s", ctx.isStopped());
                }
                ctx.checkStopped();
                ctx.log("not reached");
            });
            assertThat(sleeping.await(30, TimeUnit.SECONDS)).isTrue();

            tasks.stop(upid);

            assertThat(awaitEnd(tasks, upid).exitstatus()).contains("interrupted by signal");
            assertThat(lines(tasks, upid)).containsExactly("cleaning up, stopped=true", "TASK ERROR: interrupted by signal");
        }
    }

    @Test
    void stoppingAnEndedTaskChangesNothing() {
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("qmstart", "100", "root@pam", ctx -> {});
            awaitEnd(tasks, upid);

            tasks.stop(upid);

            assertThat(tasks.status(upid).exitstatus()).contains("OK");
        }
    }

    @Test
    void unknownTaskIsNotFound() {
        try (TaskManager tasks = new TaskManager(node())) {
            Upid unknown = Upid.parse("UPID:pve1:00001234:00ABCDEF:65000000:qmstart:100:root@pam:");

            assertThatThrownBy(() -> tasks.status(unknown)).isInstanceOf(NotFound.class).hasMessageContaining("no such task");
            assertThatThrownBy(() -> tasks.log(unknown, 0, 50)).isInstanceOf(NotFound.class).hasMessageContaining("no such task");
            assertThatThrownBy(() -> tasks.stop(unknown)).isInstanceOf(NotFound.class).hasMessageContaining("no such task");
            assertThatThrownBy(() -> tasks.awaitCompletion(unknown, WAIT)).isInstanceOf(NotFound.class);
        }
    }

    @Test
    void listFiltersLikeProxmoxNewestFirst() throws Exception {
        AtomicLong now = new AtomicLong(1_700_000_000L);
        InstantSource clock = () -> Instant.ofEpochSecond(now.get());
        CountDownLatch release = new CountDownLatch(1);
        try (TaskManager tasks = new TaskManager(node(), clock)) {
            Upid a = ended(tasks, "qmstart", "100", "root@pam", ctx -> {});
            now.incrementAndGet();
            Upid b = ended(tasks, "qmstart", "101", "alice@pve", ctx -> {});
            now.incrementAndGet();
            Upid c = ended(tasks, "qmstop", "100", "root@pam", ctx -> {
                throw new IllegalStateException("VM 100 not running");
            });
            now.incrementAndGet();
            Upid d = ended(tasks, "vzdump", "", "alice@pve", ctx -> ctx.warn("slow"));
            now.incrementAndGet();
            Upid e = tasks.start("qmigrate", "100", "root@pam", ctx -> release.await());

            assertThat(upids(tasks.list(TaskFilter.defaults()))).as("archive by default").containsExactly(d, c, b, a);
            assertThat(upids(tasks.list(TaskFilter.defaults().withSource(Source.ALL)))).containsExactly(e, d, c, b, a);
            assertThat(upids(tasks.list(TaskFilter.defaults().withSource(Source.ACTIVE)))).containsExactly(e);
            assertThat(upids(tasks.list(TaskFilter.defaults().withTypefilter("qmstart")))).containsExactly(b, a);
            assertThat(upids(tasks.list(TaskFilter.defaults().withUserfilter("ALICE")))).containsExactly(d, b);
            assertThat(upids(tasks.list(TaskFilter.defaults().withVmid(100)))).containsExactly(c, a);
            assertThat(upids(tasks.list(TaskFilter.defaults().withVmid(100).withSource(Source.ALL)))).containsExactly(e, c, a);
            assertThat(upids(tasks.list(TaskFilter.defaults().withErrors(true)))).as("errors drops only OK, as in Proxmox")
                    .containsExactly(d, c);
            assertThat(upids(tasks.list(TaskFilter.defaults().withStatusfilter(Set.of(StatusType.ERROR))))).containsExactly(c);
            assertThat(upids(tasks.list(TaskFilter.defaults().withStatusfilter(StatusType.parseList("ok,warning")))))
                    .containsExactly(d, b, a);
            assertThat(upids(tasks.list(TaskFilter.defaults().withSince(b.startTime()).withUntil(c.startTime()))))
                    .containsExactly(c, b);

            TaskPage firstTwo = tasks.list(TaskFilter.defaults().withLimit(2));
            assertThat(upids(firstTwo)).containsExactly(d, c);
            assertThat(firstTwo.total()).isEqualTo(4);
            TaskPage secondPage = tasks.list(TaskFilter.defaults().withStart(1).withLimit(2));
            assertThat(upids(secondPage)).containsExactly(c, b);
            assertThat(secondPage.total()).isEqualTo(4);

            List<TaskEntry> all = tasks.list(TaskFilter.defaults().withSource(Source.ALL)).tasks();
            assertThat(all.get(0).status()).as("running").isEmpty();
            assertThat(all.get(0).endtime()).isEmpty();
            assertThat(all.get(1).status()).contains("WARNINGS: 1");
            assertThat(all.get(2).status()).contains("VM 100 not running");
            assertThat(all.get(2).endtime()).contains(c.startTime());
            assertThat(all.get(4).user()).isEqualTo("root@pam");
            release.countDown();
            awaitEnd(tasks, e);
        }
    }

    @Test
    void restartRecordsTheAbandonedRunningTaskAsEndedAndKeepsHistory() throws Exception {
        CountDownLatch sleeping = new CountDownLatch(1);
        // the first daemon is abandoned without close, as if it had died: its task never ends
        TaskManager first = new TaskManager(node());
        Upid done = first.start("qmstart", "100", "root@pam", ctx -> ctx.log("started"));
        awaitEnd(first, done);
        Upid abandoned = first.start("qmigrate", "101", "root@pam", ctx -> {
            ctx.log("copying disk");
            sleeping.countDown();
            new CountDownLatch(1).await();
        });
        assertThat(sleeping.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(tasksDir().resolve("active"))).isEqualTo(abandoned + "\n");

        try (TaskManager second = new TaskManager(node())) {
            TaskStatus status = second.status(abandoned);
            assertThat(status.status()).isEqualTo("stopped");
            assertThat(status.exitstatus()).contains("unexpected status - daemon restarted while task was running");
            assertThat(lines(second, abandoned)).containsExactly(
                    "copying disk", "TASK ERROR: unexpected status - daemon restarted while task was running");
            assertThat(second.status(done).exitstatus()).contains("OK");
            assertThat(lines(second, done)).containsExactly("started", "TASK OK");
            assertThat(upids(second.list(TaskFilter.defaults().withSource(Source.ALL)))).containsExactlyInAnyOrder(done, abandoned);
            assertThat(Files.readString(tasksDir().resolve("active"))).isEmpty();

            Upid next = second.start("qmstart", "100", "root@pam", ctx -> {});
            assertThat(next).isNotIn(done, abandoned);
            assertThat(awaitEnd(second, next).exitstatus()).contains("OK");
        }
        try (TaskManager third = new TaskManager(node())) {
            assertThat(third.list(TaskFilter.defaults()).total()).isEqualTo(3);
            assertThat(third.status(abandoned).exitstatus()).contains("unexpected status - daemon restarted while task was running");
        }
    }

    @Test
    void restartTrustsTheLastLogLineOfATaskThatEndedBeforeTheIndexWasWritten() throws Exception {
        Path tasksDir = tasksDir();
        Upid finished = new Upid("pve1", 4242, 1000, 1_700_000_001L, "qmstart", "100", "root@pam");
        Upid cutOff = new Upid("pve1", 4242, 1001, 1_700_000_002L, "qmstop", "100", "root@pam");
        Upid noLog = new Upid("pve1", 4242, 1002, 1_700_000_003L, "qmstop", "101", "root@pam");
        Files.createDirectories(tasksDir);
        write(logFile(finished), "starting\nTASK WARNINGS: 3\n");
        write(logFile(cutOff), "copying 50");
        write(tasksDir.resolve("active"), finished + "\n" + cutOff + "\n" + noLog + "\n");

        try (TaskManager tasks = new TaskManager(node())) {
            assertThat(tasks.status(finished).exitstatus()).contains("WARNINGS: 3");
            assertThat(tasks.status(cutOff).exitstatus()).contains("unexpected status - daemon restarted while task was running");
            assertThat(lines(tasks, cutOff)).containsExactly(
                    "copying 50", "TASK ERROR: unexpected status - daemon restarted while task was running");
            assertThat(lines(tasks, noLog)).containsExactly("TASK ERROR: unexpected status - daemon restarted while task was running");
        }
        assertThat(Files.readAllLines(tasksDir.resolve("index")))
                .hasSize(3)
                .first().asString().matches(finished + " [0-9A-F]{8} WARNINGS: 3");
    }

    @Test
    void restartIgnoresMalformedLinesInIndexAndActive() throws Exception {
        Upid good = new Upid("pve1", 4242, 1000, 1_700_000_001L, "qmstart", "100", "root@pam");
        Files.createDirectories(tasksDir());
        write(tasksDir().resolve("index"), "garbage\n" + good + " 6553F100 OK\nUPID:bad: 6553F100 OK\n");
        write(tasksDir().resolve("active"), "not a upid\n");

        try (TaskManager tasks = new TaskManager(node())) {
            assertThat(upids(tasks.list(TaskFilter.defaults()))).containsExactly(good);
            assertThat(tasks.status(good).endtime()).contains(0x6553F100L);
        }
    }

    @Test
    void closeInterruptsRunningTasksAndRefusesNewOnes() throws Exception {
        CountDownLatch sleeping = new CountDownLatch(1);
        TaskManager tasks = new TaskManager(node());
        Upid upid = tasks.start("qmstart", "100", "root@pam", ctx -> {
            sleeping.countDown();
            Thread.sleep(Duration.ofMinutes(10));
        });
        assertThat(sleeping.await(30, TimeUnit.SECONDS)).isTrue();

        tasks.close();

        assertThat(tasks.status(upid).exitstatus()).contains("interrupted by signal");
        assertThatThrownBy(() -> tasks.start("qmstart", "100", "root@pam", ctx -> {}))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        try (TaskManager reopened = new TaskManager(node())) {
            assertThat(reopened.status(upid).exitstatus()).contains("interrupted by signal");
            assertThat(lines(reopened, upid)).containsExactly("TASK ERROR: interrupted by signal");
        }
    }

    @Test
    void filesFollowProxmoxLayout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (TaskManager tasks = new TaskManager(node())) {
            Upid done = tasks.start("qmstart", "100", "root@pam", ctx -> {});
            awaitEnd(tasks, done);
            Upid running = tasks.start("qmigrate", "100", "root@pam", ctx -> release.await());

            String subdir = String.format("%X", done.startTime() % 16);
            assertThat(tasksDir().resolve(subdir).resolve(done.format())).exists();
            assertThat(Files.readAllLines(tasksDir().resolve("index")))
                    .singleElement().asString().matches("UPID:pve1:\\S+: [0-9A-F]{8} OK")
                    .startsWith(done + " ");
            assertThat(Files.readString(tasksDir().resolve("active"))).isEqualTo(running + "\n");
            release.countDown();
            awaitEnd(tasks, running);
        }
    }

    @Test
    void statusAndListEntriesSerializeAsProxmoxAnswers() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("qmstart", "100", "root@pam", ctx -> release.await());

            JsonNode running = Json.read(Json.write(tasks.status(upid)));
            assertThat(running.get("status").asString()).isEqualTo("running");
            assertThat(running.get("upid").asString()).isEqualTo(upid.format());
            assertThat(running.get("pid").asLong()).isEqualTo(upid.pid());
            assertThat(running.get("starttime").asLong()).isEqualTo(upid.startTime());
            assertThat(running.has("exitstatus")).isFalse();
            assertThat(running.has("endtime")).isFalse();
            JsonNode entry = Json.read(Json.write(tasks.list(TaskFilter.defaults().withSource(Source.ALL)).tasks().get(0)));
            assertThat(entry.has("status")).isFalse();
            assertThat(entry.get("type").asString()).isEqualTo("qmstart");

            release.countDown();
            awaitEnd(tasks, upid);
            JsonNode stopped = Json.read(Json.write(tasks.status(upid)));
            assertThat(stopped.get("status").asString()).isEqualTo("stopped");
            assertThat(stopped.get("exitstatus").asString()).isEqualTo("OK");
            assertThat(stopped.get("endtime").isNumber()).isTrue();
            JsonNode ended = Json.read(Json.write(tasks.list(TaskFilter.defaults()).tasks().get(0)));
            assertThat(ended.get("status").asString()).isEqualTo("OK");
        }
    }

    private Node node() {
        return new Node("pve1", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 8006, new Node.ZooKeeperPorts(2181, 2888, 3888));
    }

    private Path tasksDir() {
        return node().localDir().resolve("tasks");
    }

    private Path logFile(Upid upid) {
        return tasksDir().resolve(String.format("%X", upid.startTime() % 16)).resolve(upid.format());
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, UTF_8);
    }

    private static TaskStatus awaitEnd(TaskManager tasks, Upid upid) {
        TaskStatus status = tasks.awaitCompletion(upid, WAIT);
        assertThat(status.status()).as("task %s ended", upid).isEqualTo("stopped");
        return status;
    }

    private static Upid ended(TaskManager tasks, String type, String id, String user, TaskBody body) {
        Upid upid = tasks.start(type, id, user, body);
        awaitEnd(tasks, upid);
        return upid;
    }

    private static List<String> lines(TaskManager tasks, Upid upid) {
        return tasks.log(upid, 0, 0).lines().stream().map(LogLine::t).toList();
    }

    private static List<Upid> upids(TaskPage page) {
        return page.tasks().stream().map(entry -> Upid.parse(entry.upid())).toList();
    }
}
