package org.corral.storage;

import org.corral.core.config.InMemoryConfigStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionChecker;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;
import org.corral.core.api.Upload;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;
import org.corral.core.task.LogLine;
import org.corral.core.task.TaskManager;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;

/**
 * One node's storage layer in a temporary directory, with an in-memory config store (unless one is
 * given), a task manager, and a dispatcher over the storage API. root@pam holds every privilege;
 * other users hold what {@link #grant} gave them.
 */
public final class TestStorage implements AutoCloseable {
    public static final AuthContext ROOT = AuthContext.user("root@pam", "127.0.0.1");

    private final Node node;
    private final ConfigStore store;
    private final TaskManager tasks;
    private final StorageService service;
    private final ApiDispatcher dispatcher;
    private final Map<String, Map<String, Set<Privilege>>> grants = new ConcurrentHashMap<>();

    public TestStorage(Path dir) {
        this(dir, new InMemoryConfigStore(), PluginRegistry.standard(Host.system()));
    }

    public TestStorage(Path dir, ConfigStore store, PluginRegistry plugins) {
        this.node = node(dir, "pve1");
        this.store = store;
        this.tasks = new TaskManager(node);
        this.service = new StorageService(node, store, tasks, Clock.systemUTC(), plugins);
        PermissionChecker permissions = (auth, path) -> auth.isRoot() ? EnumSet.allOf(Privilege.class)
                : grants.getOrDefault(auth.userid(), Map.of()).getOrDefault(path, Set.of());
        this.dispatcher = new ApiDispatcher(new ApiRegistry(service.apiModules()), permissions);
    }

    public static Node node(Path dir, String name) {
        return new Node(name, dir.resolve(name).resolve("data"), dir.resolve(name).resolve("run"), "127.0.0.1", 0,
                new Node.ZooKeeperPorts(0, 0, 0));
    }

    public Node node() {
        return node;
    }

    public ConfigStore store() {
        return store;
    }

    public TaskManager tasks() {
        return tasks;
    }

    public StorageService service() {
        return service;
    }

    public ApiDispatcher dispatcher() {
        return dispatcher;
    }

    public void grant(String user, String path, Privilege... privileges) {
        grants.computeIfAbsent(user, u -> new ConcurrentHashMap<>()).merge(path, Set.of(privileges), (a, b) -> {
            Set<Privilege> all = EnumSet.copyOf(a);
            all.addAll(b);
            return all;
        });
    }

    /** A dir storage at {@code path} with every content type, added through storage.cfg. */
    public void addDir(String id, Path path) {
        service.updateConfig(cfg -> cfg.with(new StorageConfig("dir", id, Map.of("path", path.toString(),
                "content", "images,rootdir,iso,vztmpl,backup,snippets,import"))));
    }

    public Object call(HttpVerb verb, String path, Map<String, String> params) throws Exception {
        return dispatcher.dispatch(verb, path, params, ROOT);
    }

    public Object call(AuthContext auth, HttpVerb verb, String path, Map<String, String> params) throws Exception {
        return dispatcher.dispatch(verb, path, params, auth);
    }

    /** Calls a content/{volume} method with the volume as the path value, as a client's encoded id arrives. */
    public Object callVolume(AuthContext auth, HttpVerb verb, String storage, String volume, Map<String, String> params) throws Exception {
        ApiRegistry.Match template = dispatcher.route(verb, "/nodes/" + node.name() + "/storage/" + storage + "/content/VOLUME");
        Map<String, String> values = new LinkedHashMap<>(template.pathValues());
        values.put("volume", volume);
        return dispatcher.dispatch(new ApiRegistry.Match(template.method(), values), params, auth);
    }

    public Object upload(String storage, Map<String, String> params, Upload upload) throws Exception {
        ApiRegistry.Match match = dispatcher.route(HttpVerb.POST, "/nodes/" + node.name() + "/storage/" + storage + "/upload");
        return dispatcher.dispatch(match, params, ROOT, Optional.of(upload));
    }

    /** Waits for a task and answers its status; the log is in {@link #log}. */
    public TaskStatus await(String upid) {
        return tasks.awaitCompletion(Upid.parse(upid), Duration.ofSeconds(60));
    }

    public List<String> log(String upid) {
        return tasks.log(Upid.parse(upid), 0, 0).lines().stream().map(LogLine::t).toList();
    }

    @Override
    public void close() {
        tasks.close();
    }
}
