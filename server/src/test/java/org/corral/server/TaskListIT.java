package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.corral.core.task.Upid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * {@code GET /nodes/{node}/tasks} over HTTPS on a node with a long task history answers, for random
 * combinations of Proxmox's filters and paging, exactly what sorting, filtering and paging the
 * whole history by hand gives; a task that ends shows in the next answer.
 */
class TaskListIT {
    private static final String NODE = "tasknode";
    private static final String PASSWORD = "admin-pass-1";
    private static final String[] TYPES = {"qmstart", "qmstop", "vzdump", "vncproxy"};
    private static final String[] IDS = {"", "100", "101", "102", "5000"};
    private static final String[] USERS = {"root@pam", "alice@pve", "bob@pve", "alice@pve!ci"};
    /** Exit statuses with their class for {@code statusfilter}. */
    private static final String[][] STATUSES = {{"OK", "ok"}, {"WARNINGS: 2", "warning"}, {"VM 100 not running", "error"},
            {"unexpected status", "unknown"}};
    private static final long BASE = 1_700_000_000L;

    @TempDir
    Path dataDir;

    private record Task(String upid, long pstart, long starttime, String type, String id, String user, String status, String statusClass) {}

    @Test
    void filteredPagesEqualTheHandComputedOnesAndANewTaskShowsAtOnce() throws Exception {
        Random random = new Random(16);
        List<Task> history = new ArrayList<>();
        StringBuilder index = new StringBuilder();
        for (int i = 0; i < 4000; i++) {
            long start = BASE + random.nextInt(1000);
            String type = pick(random, TYPES);
            String id = pick(random, IDS);
            String user = pick(random, USERS);
            String[] status = STATUSES[random.nextInt(STATUSES.length)];
            String upid = String.format(Locale.ROOT, "UPID:%s:%08X:%08X:%08X:%s:%s:%s:", NODE, 7, i, start, type, id, user);
            history.add(new Task(upid, i, start, type, id, user, status[0], status[1]));
            index.append(upid).append(String.format(Locale.ROOT, " %08X ", start + 3)).append(status[0]).append('\n');
        }
        Path tasks = Files.createDirectories(dataDir.resolve("local/tasks"));
        Files.writeString(tasks.resolve("index"), index.toString());

        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options(NODE, dataDir, "127.0.0.1", 0, Optional.of(PASSWORD)))) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            for (int round = 0; round < 150; round++) {
                Map<String, String> params = randomFilter(random);
                TestClient.Answer answer = admin.get("/nodes/" + NODE + "/tasks", params);
                assertThat(answer.status()).as("%s: %s", params, answer.body()).isEqualTo(200);
                List<Task> expected = expected(history, params);
                int start = Integer.parseInt(params.getOrDefault("start", "0"));
                int limit = Integer.parseInt(params.getOrDefault("limit", "50"));
                List<String> page = expected.subList(Math.min(start, expected.size()), Math.min(expected.size(), start + limit))
                        .stream().map(Task::upid).toList();
                assertThat(answer.body().path("total").asInt()).as("total for %s", params).isEqualTo(expected.size());
                assertThat(answer.data().valueStream().map(t -> t.path("upid").asString()).toList()).as("page for %s", params)
                        .containsExactlyElementsOf(page);
            }

            // a task that ended is in the next answer, first as the newest
            Upid upid = daemon.tasks().start("vzdump", "100", "admin@pve", ctx -> ctx.log("done"));
            daemon.tasks().awaitCompletion(upid, Duration.ofSeconds(30));
            JsonNode newest = admin.get("/nodes/" + NODE + "/tasks", Map.of("limit", "1")).data().get(0);
            assertThat(newest.path("upid").asString()).isEqualTo(upid.format());
            assertThat(newest.path("status").asString()).isEqualTo("OK");
            assertThat(admin.get("/nodes/" + NODE + "/tasks", Map.of("limit", "0")).body().path("total").asInt()).isEqualTo(4001);
            assertThat(admin.get("/nodes/" + NODE + "/tasks", Map.of("limit", "0", "vmid", "100", "typefilter", "vzdump"))
                    .body().path("total").asInt())
                    .isEqualTo(1 + history.stream().filter(t -> t.id().equals("100") && t.type().equals("vzdump")).count());
        }
    }

    /** Every ended task of the history that passes the filters, newest first: the slow computation. */
    private static List<Task> expected(List<Task> history, Map<String, String> params) {
        Set<String> classes = new TreeSet<>(List.of("ok", "warning", "error", "unknown"));
        if (params.containsKey("statusfilter")) {
            classes = new TreeSet<>(List.of(params.get("statusfilter").split(",")));
        }
        if (params.getOrDefault("errors", "0").equals("1")) {
            // as TaskFilter has it: errors lists every task that did not end OK, whatever statusfilter says
            classes = new TreeSet<>(List.of("warning", "error", "unknown"));
        }
        List<Task> out = new ArrayList<>();
        for (Task t : history) {
            if (params.containsKey("vmid") && !t.id().equals(params.get("vmid"))) {
                continue;
            }
            if (params.containsKey("typefilter") && !t.type().equals(params.get("typefilter"))) {
                continue;
            }
            if (params.containsKey("userfilter") && !t.user().toLowerCase(Locale.ROOT).contains(params.get("userfilter").toLowerCase(Locale.ROOT))) {
                continue;
            }
            if (params.containsKey("since") && t.starttime() < Long.parseLong(params.get("since"))) {
                continue;
            }
            if (params.containsKey("until") && t.starttime() > Long.parseLong(params.get("until"))) {
                continue;
            }
            if (!classes.contains(t.statusClass())) {
                continue;
            }
            out.add(t);
        }
        out.sort(Comparator.comparingLong(Task::starttime).thenComparingLong(Task::pstart).thenComparing(Task::upid).reversed());
        return out;
    }

    private static Map<String, String> randomFilter(Random random) {
        Map<String, String> params = new LinkedHashMap<>();
        if (random.nextBoolean()) {
            params.put("start", Integer.toString(random.nextInt(5) == 0 ? random.nextInt(4000) : random.nextInt(30)));
        }
        if (random.nextBoolean()) {
            params.put("limit", Integer.toString(random.nextInt(4) == 0 ? random.nextInt(3000) : random.nextInt(80)));
        }
        if (random.nextInt(3) == 0) {
            params.put("vmid", pick(random, new String[] {"100", "101", "102", "5000", "777"}));
        }
        if (random.nextInt(3) == 0) {
            params.put("typefilter", pick(random, TYPES));
        }
        if (random.nextInt(4) == 0) {
            params.put("userfilter", pick(random, new String[] {"alice", "BOB", "!ci", "@pve", "root"}));
        }
        if (random.nextInt(3) == 0) {
            params.put("since", Long.toString(BASE + random.nextInt(1100) - 50));
        }
        if (random.nextInt(3) == 0) {
            params.put("until", Long.toString(BASE + random.nextInt(1100) - 50));
        }
        if (random.nextInt(4) == 0) {
            params.put("errors", random.nextBoolean() ? "1" : "0");
        }
        if (random.nextInt(4) == 0) {
            List<String> classes = new ArrayList<>();
            for (String c : List.of("ok", "warning", "error", "unknown")) {
                if (random.nextBoolean()) {
                    classes.add(c);
                }
            }
            if (!classes.isEmpty()) {
                params.put("statusfilter", String.join(",", classes));
            }
        }
        return params;
    }

    private static String pick(Random random, String[] values) {
        return values[random.nextInt(values.length)];
    }
}
