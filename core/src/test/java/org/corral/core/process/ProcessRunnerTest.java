package org.corral.core.process;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.corral.core.node.Node;
import org.corral.core.task.TaskManager;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessRunnerTest {
    @TempDir
    Path dir;

    private final List<Long> started = new CopyOnWriteArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    @Test
    void childThatLeavesItsOutputOpenEndsAtTheTimeoutWithTheHolderKilled() {
        long begin = System.nanoTime();
        ProcessResult result = ProcessRunner.of("sh", "-c", "sleep 60 & echo $!").timeout(Duration.ofSeconds(1)).run();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);

        long holder = Long.parseLong(result.stdout().strip());
        started.add(holder);
        assertThat(millis).isLessThan(5_000);
        assertThat(result.timedOut()).isTrue();
        assertThat(result.ok()).isFalse();
        assertThat(alive(holder)).isFalse();
        assertThatThrownBy(result::check).isInstanceOf(ProcessException.class).hasMessageStartingWith("sh timed out after 1 s");
    }

    @Test
    void timeoutKillsTheChildAndTheGrandchildItForked() {
        List<Long> pids = new CopyOnWriteArrayList<>();
        long begin = System.nanoTime();
        ProcessResult result = ProcessRunner.of("sh", "-c", "echo $$; sleep 300 & echo $!; sleep 300")
                .stdoutLines(line -> pids.add(Long.parseLong(line)))
                .timeout(Duration.ofSeconds(1)).run();
        started.addAll(pids);

        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin)).isLessThan(5_000);
        assertThat(result.timedOut()).isTrue();
        assertThat(pids).hasSize(2);
        assertThat(pids).noneMatch(ProcessRunnerTest::alive);
    }

    @Test
    void timeoutAlsoKillsAnOrphanWhoseParentExitedEarlier() {
        List<Long> pids = new CopyOnWriteArrayList<>();
        // the subshell exits at once: its sleep is no descendant of the child any more, only in its session
        ProcessResult result = ProcessRunner.of("sh", "-c", "(sleep 300 >/dev/null 2>&1 & echo $!); sleep 300")
                .stdoutLines(line -> pids.add(Long.parseLong(line)))
                .timeout(Duration.ofSeconds(1)).run();
        started.addAll(pids);

        assertThat(result.timedOut()).isTrue();
        assertThat(pids).hasSize(1);
        assertThat(alive(pids.getFirst())).isFalse();
    }

    @Test
    void stoppingTheTaskKillsTheTreeWithinTwoSeconds() throws Exception {
        List<Long> pids = new CopyOnWriteArrayList<>();
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("test", "", "root@pam", ctx -> ProcessRunner.of("sh", "-c", "echo $$; sleep 300 & echo $!; sleep 300")
                    .stdoutLines(line -> pids.add(Long.parseLong(line))).task(ctx).run());
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> pids.size() == 2);
            started.addAll(pids);

            long begin = System.nanoTime();
            tasks.stop(upid);
            TaskStatus status = tasks.awaitCompletion(upid, Duration.ofSeconds(2));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);

            assertThat(status.status()).isEqualTo(TaskStatus.STOPPED);
            assertThat(status.exitstatus()).contains("interrupted by signal");
            assertThat(millis).isLessThan(2_000);
            assertThat(pids).noneMatch(ProcessRunnerTest::alive);
        }
    }

    @Test
    void stoppingTheTaskKillsAChildRunFromAnotherThreadOfTheTask() throws Exception {
        List<Long> pids = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> helperFailure = new AtomicReference<>();
        try (TaskManager tasks = new TaskManager(node())) {
            Upid upid = tasks.start("test", "", "root@pam", ctx -> {
                // the helper thread never sees the task thread's interrupt; only the stop hook reaches its child
                Thread helper = Thread.ofVirtual().start(() -> {
                    try {
                        ProcessRunner.of("sh", "-c", "echo $$; sleep 300").stdoutLines(line -> pids.add(Long.parseLong(line))).task(ctx).run();
                    } catch (RuntimeException e) {
                        helperFailure.set(e);
                    }
                });
                helper.join();
            });
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> pids.size() == 1);
            started.addAll(pids);

            tasks.stop(upid);

            Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> !alive(pids.getFirst()));
            Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> helperFailure.get() != null);
            assertThat(helperFailure.get()).hasMessage("interrupted by signal");
        }
    }

    @Test
    void failureQuotesTheLastLinesOfTheChildsStandardError() {
        ProcessResult result = ProcessRunner.of("sh", "-c", "echo noise; echo 'tar: ./dev/null: Cannot mknod: Operation not permitted' >&2; "
                + "echo 'tar: Exiting with failure status due to previous errors' >&2; exit 2").run();

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stdout()).isEqualTo("noise\n");
        assertThatThrownBy(result::check).isInstanceOf(ProcessException.class)
                .hasMessage("sh failed (exit code 2): tar: ./dev/null: Cannot mknod: Operation not permitted; "
                        + "tar: Exiting with failure status due to previous errors")
                .satisfies(e -> assertThat(((ProcessException) e).exitCode()).isEqualTo(2));
    }

    @Test
    void failureWithoutStandardErrorQuotesStandardOutput() {
        assertThatThrownBy(() -> ProcessRunner.of("sh", "-c", "echo first; echo 'the reason'; exit 3").output())
                .hasMessage("sh failed (exit code 3): first; the reason");
    }

    @Test
    void failureQuotesTheEndOfAnErrorOutputLongerThanTheCap() {
        ProcessResult result = ProcessRunner.of("sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo \"line $i\" >&2; i=$((i+1)); done; "
                + "echo 'the real error' >&2; exit 1").cap(100).run();

        assertThat(result.truncated()).isTrue();
        assertThat(result.stderr()).hasSize(100).startsWith("line 0\n");
        assertThat(result.describeFailure()).isEqualTo("sh failed (exit code 1): line 2998; line 2999; the real error");
    }

    @Test
    void largeStandardOutputAndErrorAtOnceDoNotDeadlock() {
        int size = 10 << 20;
        ProcessResult result = ProcessRunner.of("sh", "-c", "yes out | head -c " + size + " & yes err | head -c " + size + " >&2; wait")
                .timeout(Duration.ofMinutes(1)).run().check();

        assertThat(result.stdout()).hasSize(size);
        assertThat(result.stderr()).hasSize(size);
        assertThat(result.truncated()).isFalse();
    }

    @Test
    void standardInputBytesOrStreamReachTheChild() {
        assertThat(ProcessRunner.of("cat").stdin("from bytes".getBytes(UTF_8)).output()).isEqualTo("from bytes");
        assertThat(ProcessRunner.of("cat").stdin(new ByteArrayInputStream("from a stream".getBytes(UTF_8))).output()).isEqualTo("from a stream");
        assertThat(ProcessRunner.of("cat").output()).isEmpty();
    }

    @Test
    void standardOutputStreamsToATarget() {
        ByteArrayOutputStream target = new ByteArrayOutputStream();
        ProcessResult result = ProcessRunner.of("head", "-c", "300000", "/dev/zero").stdout(target).run().check();

        assertThat(target.size()).isEqualTo(300000);
        assertThat(result.stdout()).isEmpty();
    }

    @Test
    void aFailingTargetKillsTheChildAndFails() {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("client went away");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("client went away");
            }
        };
        long begin = System.nanoTime();
        assertThatThrownBy(() -> ProcessRunner.of("cat", "/dev/zero").stdout(broken).timeout(Duration.ofMinutes(1)).run())
                .isInstanceOf(UncheckedIOException.class).hasRootCauseMessage("client went away");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin)).isLessThan(5_000);
    }

    @Test
    void directoryAndEnvironmentApply() throws IOException {
        Path work = Files.createDirectories(dir.resolve("work"));
        String out = ProcessRunner.of("sh", "-c", "pwd; echo $GREETING; echo $LC_ALL").directory(work).env("GREETING", "hello").output();

        assertThat(out).isEqualTo(work.toRealPath() + "\nhello\nC\n");
    }

    @Test
    void aProgramThatDoesNotExistFailsNamingIt() {
        assertThatThrownBy(() -> ProcessRunner.of("/nonexistent/tool", "x").run())
                .isInstanceOf(ProcessException.class).hasMessageStartingWith("could not run /nonexistent/tool");
    }

    @Test
    void availableFindsProgramsOnTheStandardPath() {
        assertThat(ProcessRunner.available("sh")).isTrue();
        assertThat(ProcessRunner.available("no-such-tool-here")).isFalse();
    }

    /** Alive and not a zombie waiting for its reaper. */
    static boolean alive(long pid) {
        if (ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isEmpty()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    private Node node() {
        return new Node("pve1", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 8006, new Node.ZooKeeperPorts(2181, 2888, 3888));
    }
}
