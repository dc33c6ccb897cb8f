package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.corral.core.task.LogLine;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;

/** What the server's tests do with the tasks their API calls start. */
final class Tasks {
    private static final Duration WAIT = Duration.ofSeconds(120);

    private Tasks() {}

    /** The call must have started a task; waits for it, asserts it ended OK and answers its log. */
    static String awaitOk(CorralDaemon daemon, TestClient.Answer answer) {
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        Upid upid = Upid.parse(answer.data().asString());
        TaskStatus status = daemon.tasks().awaitCompletion(upid, WAIT);
        String log = log(daemon, upid);
        assertThat(status.exitstatus()).as(log).contains("OK");
        return log;
    }

    /** The task's whole log, one line each. */
    static String log(CorralDaemon daemon, Upid upid) {
        return daemon.tasks().log(upid, 0, 100_000).lines().stream().map(LogLine::t).collect(Collectors.joining("\n"));
    }

    /** Runs {@code command} in container {@code vmid} through the exec extension; it must exit 0. Answers its stdout. */
    static String exec(TestClient client, String node, String vmid, String command) {
        TestClient.Answer answer = client.post("/nodes/" + node + "/lxc/" + vmid + "/exec", Map.of("command", command));
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(200);
        assertThat(answer.data().path("exitcode").asInt()).as(answer.body().toString()).isZero();
        return answer.data().path("stdout").asString();
    }

    /** Call parameters from {@code name, value, ...} pairs, in order. */
    static Map<String, String> params(String... pairs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            out.put(pairs[i], pairs[i + 1]);
        }
        return out;
    }
}
