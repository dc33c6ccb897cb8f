package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.ApiResult;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.node.Node;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.core.task.LogPage;
import org.corral.core.task.TaskEntry;
import org.corral.core.task.TaskFilter;
import org.corral.core.task.TaskManager;
import org.corral.core.task.TaskPage;
import org.corral.core.task.Upid;

/** {@code /nodes/{node}/tasks} and {@code /cluster/tasks}: worker tasks, their status and logs. */
public final class TaskApi implements ApiModule {
    private final Node node;
    private final TaskManager tasks;

    public TaskApi(Node node, TaskManager tasks) {
        this.node = requireNonNull(node, "node is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
    }

    private static Schema nodeParam() {
        return Schema.string().format(Formats.PVE_NODE).description("The cluster node name.");
    }

    private static Schema upidParam() {
        return Schema.string().format(Formats.UPID).maxLength(256).description("The task's unique ID.");
    }

    private static Schema taskEntry() {
        return Schema.object()
                .property("upid", Schema.string().format(Formats.UPID))
                .property("node", Schema.string())
                .property("pid", Schema.integer())
                .property("pstart", Schema.integer())
                .property("starttime", Schema.integer())
                .property("type", Schema.string())
                .property("id", Schema.string())
                .property("user", Schema.string())
                .property("status", Schema.string().optional())
                .property("endtime", Schema.integer().optional());
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/nodes/{node}/tasks")
                        .name("node_tasks")
                        .description("Read task list for one node (finished tasks). Users see their own tasks; "
                                + "Sys.Audit on /nodes/{node} shows all.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("start", Schema.integer().minimum(0).defaultValue(0).description("List tasks beginning from this offset."))
                        .parameter("limit", Schema.integer().minimum(0).defaultValue(50).description("Only list this amount of tasks."))
                        .parameter("userfilter", Schema.string().maxLength(128).optional().description("Only list tasks from this user."))
                        .parameter("typefilter", Schema.string().maxLength(64).optional().description("Only list tasks of this type (e.g., vzstart, vzdump)."))
                        .parameter("vmid", Schema.integer().format(Formats.PVE_VMID).optional().description("Only list tasks for this VM."))
                        .parameter("errors", Schema.bool().defaultValue(false).description("Only list tasks with a status of ERROR."))
                        .parameter("source", Schema.string().enumValues("archive", "active", "all").defaultValue("archive")
                                .description("List archived, active or all tasks."))
                        .parameter("since", Schema.integer().optional().description("Only list tasks since this UNIX epoch."))
                        .parameter("until", Schema.integer().optional().description("Only list tasks until this UNIX epoch."))
                        .parameter("statusfilter", Schema.string().pattern("((ok|error|warning|unknown)[,;\\s]*)*").optional()
                                .description("List of Task States that should be returned (ok, error, warning, unknown)."))
                        .returns(Schema.array(taskEntry()))
                        .handler(this::list),
                ApiMethod.get("/nodes/{node}/tasks/{upid}")
                        .name("upid_index")
                        .description("Index of a task's resources.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("upid", upidParam())
                        .directoryIndex("name", r -> visible(r)),
                ApiMethod.delete("/nodes/{node}/tasks/{upid}")
                        .worksWithoutQuorum()
                        .name("stop_task")
                        .description("Stop a task. The task's owner, or Sys.Modify on /nodes/{node}.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("upid", upidParam())
                        .handler(r -> {
                            Upid upid = local(r);
                            if (!owns(r.auth(), upid) && !r.can("/nodes/" + node.name(), Privilege.SYS_MODIFY)) {
                                throw new PermissionDenied("Permission check failed (/nodes/" + node.name() + ", Sys.Modify)");
                            }
                            tasks.stop(upid);
                            return null;
                        }),
                ApiMethod.get("/nodes/{node}/tasks/{upid}/status")
                        .name("read_task_status")
                        .description("Read task status. The task's owner, or Sys.Audit on /nodes/{node}.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("upid", upidParam())
                        .returns(Schema.object()
                                .property("status", Schema.string().enumValues("running", "stopped"))
                                .property("exitstatus", Schema.string().optional())
                                .property("upid", Schema.string()))
                        .handler(r -> tasks.status(visible(r))),
                ApiMethod.get("/nodes/{node}/tasks/{upid}/log")
                        .name("read_task_log")
                        .description("Read task log. The task's owner, or Sys.Audit on /nodes/{node}.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("upid", upidParam())
                        .parameter("start", Schema.integer().minimum(0).defaultValue(0).description("Start at this line."))
                        .parameter("limit", Schema.integer().minimum(0).defaultValue(50).description("The amount of lines to read."))
                        .parameter("download", Schema.bool().optional().description("Whether the tasklog file should be downloaded."))
                        .returns(Schema.array(Schema.object().property("n", Schema.integer()).property("t", Schema.string())))
                        .handler(r -> {
                            LogPage page = tasks.log(visible(r), (int) r.integer("start"), (int) r.integer("limit"));
                            return new ApiResult(page.lines(), Map.of("total", page.total()));
                        }),
                ApiMethod.get("/cluster/tasks")
                        .name("cluster_tasks")
                        .description("List recent tasks (cluster wide). Users see their own tasks; Sys.Audit on a node shows its tasks.")
                        .permission(Check.authenticated())
                        .returns(Schema.array(taskEntry()))
                        .handler(r -> {
                            TaskPage page = tasks.list(TaskFilter.defaults().withSource(TaskFilter.Source.ALL).withLimit(1000));
                            // one permission check per node, not one per task
                            Map<String, Boolean> audits = new java.util.HashMap<>();
                            return page.tasks().stream().filter(t -> owns(r.auth(), t.user())
                                    || audits.computeIfAbsent(t.node(), n -> r.can("/nodes/" + n, Privilege.SYS_AUDIT))).toList();
                        }));
    }

    private Object list(ApiRequest r) {
        LocalNode.require(node, r);
        TaskFilter filter = new TaskFilter(Optional.empty(), Optional.empty(),
                r.optionalString("userfilter"), r.optionalString("typefilter"), r.optionalInt("vmid"),
                Optional.of(r.bool("errors")), Optional.of(TaskFilter.Source.parse(r.string("source"))),
                r.optionalLong("since"), r.optionalLong("until"),
                r.optionalString("statusfilter").map(TaskFilter.StatusType::parseList));
        if (!r.can("/nodes/" + node.name(), Privilege.SYS_AUDIT)) {
            // without Sys.Audit a caller sees only its own tasks, paged after that filter
            List<TaskEntry> own = tasks.list(filter.withLimit(Integer.MAX_VALUE)).tasks().stream()
                    .filter(t -> owns(r.auth(), t.user())).toList();
            int start = (int) Math.min(r.integer("start"), own.size());
            int end = (int) Math.min(own.size(), start + r.integer("limit"));
            return new ApiResult(own.subList(start, end), Map.of("total", own.size()));
        }
        TaskPage page = tasks.list(filter.withStart((int) r.integer("start")).withLimit((int) r.integer("limit")));
        return new ApiResult(page.tasks(), Map.of("total", page.total()));
    }

    private Upid local(ApiRequest r) {
        LocalNode.require(node, r);
        Upid upid;
        try {
            upid = Upid.parse(r.string("upid"));
        } catch (IllegalArgumentException e) {
            throw new ParameterError("upid", e.getMessage());
        }
        if (!upid.node().equals(node.name())) {
            throw new ParameterError("upid", "task runs on node '" + upid.node() + "', not '" + node.name() + "'");
        }
        return upid;
    }

    private Upid visible(ApiRequest r) {
        Upid upid = local(r);
        if (!owns(r.auth(), upid) && !r.can("/nodes/" + node.name(), Privilege.SYS_AUDIT)) {
            throw new PermissionDenied("Permission check failed (/nodes/" + node.name() + ", Sys.Audit)");
        }
        return upid;
    }

    private static boolean owns(AuthContext auth, Upid upid) {
        return owns(auth, upid.user());
    }

    private static boolean owns(AuthContext auth, String taskUser) {
        return taskUser.equals(auth.authid()) || auth.tokenid().isEmpty() && taskUser.startsWith(auth.userid() + "!");
    }
}
