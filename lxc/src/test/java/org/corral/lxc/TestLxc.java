package org.corral.lxc;

import org.corral.core.config.InMemoryConfigStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionChecker;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;
import org.corral.core.config.ConfigStore;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.node.Node;
import org.corral.core.task.LogLine;
import org.corral.core.task.TaskManager;
import org.corral.core.task.TaskStatus;
import org.corral.core.task.Upid;
import org.corral.lxc.template.GuestSetup;
import org.corral.storage.StorageConfig;
import org.corral.storage.StorageService;

/**
 * One node's container layer in a work directory: in-memory config store, task manager,
 * console table, {@link LocalStorage}, and a dispatcher over the lxc API. root@pam holds every
 * privilege; other users hold what {@link #grant} gave them.
 */
public final class TestLxc implements AutoCloseable {
    public static final AuthContext ROOT = AuthContext.user("root@pam", "127.0.0.1");

    private final Node node;
    private final ConfigStore store;
    private final TaskManager tasks;
    private final ConsoleProxies consoles;
    private final StorageService storageService;
    private final ContainerStorage storage;
    private final Map<String, Path> storagePaths = new ConcurrentHashMap<>();
    private final LxcService service;
    private final ApiDispatcher dispatcher;
    private final Map<String, Map<String, Set<Privilege>>> grants = new ConcurrentHashMap<>();

    public TestLxc(Path dir) {
        this(dir, new InMemoryConfigStore());
    }

    /** A node on {@code store}; a second one on the same directory and store is the same node after a restart. */
    public TestLxc(Path dir, ConfigStore store) {
        this.node = new Node("pve1", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 0, new Node.ZooKeeperPorts(0, 0, 0));
        this.store = store;
        this.tasks = new TaskManager(node);
        this.consoles = new ConsoleProxies(Clock.systemUTC());
        this.storageService = new StorageService(node, store, tasks, Clock.systemUTC());
        this.storage = new StorageServiceAdapter(storageService);
        LxcDriver driver = new LxcDriver(node, HostFacts.detect(), storage, new SubIds(), new HostNetwork());
        this.service = new LxcService(node, store, tasks, consoles, storage, Clock.systemUTC(), driver,
                new GuestSetup.HostDns(List.of("corral.test"), List.of("10.250.0.1")));
        PermissionChecker permissions = (auth, path) -> auth.isRoot() ? EnumSet.allOf(Privilege.class)
                : grants.getOrDefault(auth.userid(), Map.of()).getOrDefault(path, Set.of());
        this.dispatcher = new ApiDispatcher(new ApiRegistry(service.apiModules()), permissions);
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

    public ContainerStorage storage() {
        return storage;
    }

    public StorageService storageService() {
        return storageService;
    }

    /** Adds a storage of {@code type} (dir, btrfs) at {@code path} holding every content type. */
    public TestLxc addStorage(String id, String type, Path path) {
        storagePaths.put(id, path);
        storageService.updateConfig(cfg -> cfg.with(new StorageConfig(type, id, Map.of("path", path.toString(),
                "content", "images,rootdir,vztmpl,backup,iso,snippets"))));
        return this;
    }

    /** Puts the busybox template into a storage's vztmpl directory as {@code STORAGE:vztmpl/busybox.tar.gz}. */
    public TestLxc withBusyboxTemplate(String storage) throws IOException {
        Files.copy(Fixtures.busyboxTemplate(), Files.createDirectories(this.storage.templateDirectory(storage)).resolve("busybox.tar.gz"));
        return this;
    }

    /** Every guest volume and snapshot left in any storage's {@code images} directory: what must be empty after a delete. */
    public List<Path> allVolumes() throws IOException {
        List<Path> out = new java.util.ArrayList<>();
        for (Path root : storagePaths.values()) {
            Path images = root.resolve("images");
            if (java.nio.file.Files.isDirectory(images)) {
                try (var walk = java.nio.file.Files.walk(images, 2)) {
                    walk.filter(p -> !p.equals(images)).forEach(out::add);
                }
            }
        }
        return out;
    }

    public LxcService service() {
        return service;
    }

    public void grant(String user, String path, Privilege... privileges) {
        grants.computeIfAbsent(user, u -> new ConcurrentHashMap<>()).merge(path, Set.of(privileges), (a, b) -> {
            Set<Privilege> all = EnumSet.copyOf(a);
            all.addAll(b);
            return all;
        });
    }

    public Object call(HttpVerb verb, String path, Map<String, String> params) throws Exception {
        return dispatcher.dispatch(verb, path, params, ROOT);
    }

    public Object call(AuthContext auth, HttpVerb verb, String path, Map<String, String> params) throws Exception {
        return dispatcher.dispatch(verb, path, params, auth);
    }

    /** Calls a method that answers a UPID and waits for the task; fails with the task's exit status unless it ended OK. */
    public TaskStatus run(HttpVerb verb, String path, Map<String, String> params) throws Exception {
        String upid = (String) call(verb, path, params);
        TaskStatus status = await(upid);
        if (!status.exitstatus().orElse("").equals("OK") && !status.exitstatus().orElse("").startsWith("WARNINGS")) {
            throw new AssertionError("task " + upid + " ended with '" + status.exitstatus().orElse("running") + "'; log:\n"
                    + String.join("\n", log(upid)));
        }
        return status;
    }

    public TaskStatus await(String upid) {
        return tasks.awaitCompletion(Upid.parse(upid), Duration.ofMinutes(3));
    }

    public List<String> log(String upid) {
        return tasks.log(Upid.parse(upid), 0, 0).lines().stream().map(LogLine::t).toList();
    }

    public String ct(int vmid) {
        return "/nodes/" + node.name() + "/lxc/" + vmid;
    }

    public String configPath(int vmid) {
        return "nodes/" + node.name() + "/lxc/" + vmid + ".conf";
    }

    /** Stops and forgets every container this node knows; tests call it in finally. */
    public void destroyAll() {
        for (int vmid : service.configs().list()) {
            try {
                service.driver().stop(vmid);
            } catch (RuntimeException e) {
                // already gone
            }
        }
        for (int vmid : service.driver().running()) {
            service.driver().stop(vmid);
        }
    }

    @Override
    public void close() throws IOException {
        destroyAll();
        tasks.close();
    }
}
