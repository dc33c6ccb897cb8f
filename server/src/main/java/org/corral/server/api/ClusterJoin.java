package org.corral.server.api;

import static java.util.Objects.requireNonNull;


import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;



import java.time.Duration;
import java.util.ArrayList;

import java.util.LinkedHashMap;
import java.util.List;

import java.util.Map;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;





import org.corral.cluster.ClusterConfig;
import org.corral.cluster.ClusterMember;
import org.corral.cluster.ClusterMembership;
import org.corral.cluster.ClusterStore;
import org.corral.cluster.EmbeddedZooKeeper;
import org.corral.cluster.JoinTokens;
import org.corral.cluster.StoreCredentials;
import org.corral.cluster.StoreTls;
import org.corral.cluster.tls.PinnedCertificate;
import org.corral.cluster.ZkConfigStore;
import org.corral.core.config.ConfigStore;
import org.corral.core.error.ApiException;
import org.corral.core.error.ParameterError;
import org.corral.core.json.Json;
import org.corral.core.node.Node;
import org.corral.core.task.TaskContext;
import org.corral.core.task.TaskManager;
import org.corral.core.task.Upid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The joining node's side of {@code POST /cluster/config/join}: a {@code clusterjoin} task that
 * talks to a member over HTTPS pinned to the given fingerprint, gets a one-time token (or uses
 * the one given), asks the member to admit this node ({@code join-request}, which refuses a taken
 * name or a VMID clash before anything changes), then replaces this node's ZooKeeper member with
 * one of the cluster's ensemble, adds it by reconfig, records the node in cluster.cfg and copies
 * this node's own files ({@code nodes/NAME/...}) into the cluster store. The daemon then restarts
 * in-process on the new store (see {@code DaemonRunner}), which also issues this node a
 * certificate from the cluster CA, as any node gets on its first start in a store.
 */
public final class ClusterJoin {
    private static final Logger log = LoggerFactory.getLogger(ClusterJoin.class);
    private static final int DEFAULT_PORT = 8006;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String JOIN_LOCK = "cluster-join";
    /** Members beyond this many voters join as observers; promotion is a later step. */

    private final Node node;
    private final ClusterStore cluster;
    private final ClusterMembership membership;
    private final TaskManager tasks;
    private final IntSupplier apiPort;
    private final Runnable restart;

    public ClusterJoin(Node node, ClusterStore cluster, ClusterMembership membership, TaskManager tasks, IntSupplier apiPort,
            Runnable restart) {
        this.node = requireNonNull(node, "node is null");
        this.cluster = requireNonNull(cluster, "cluster is null");
        this.membership = requireNonNull(membership, "membership is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
        this.apiPort = requireNonNull(apiPort, "apiPort is null");
        this.restart = requireNonNull(restart, "restart is null");
    }

    /** Checks what can be checked locally and starts the {@code clusterjoin} task. */
    public Upid start(String hostname, String fingerprint, String password, String user) {
        Target target = Target.parse(hostname);
        ClusterConfig config = membership.read();
        if (config.name().isPresent() || config.members().size() > 1) {
            throw new ApiException(500, "this node is already part of cluster '" + config.name().orElse("?")
                    + "' - remove it from there first");
        }
        return tasks.start("clusterjoin", "", user, ctx -> join(ctx, target, fingerprint, password));
    }

    private void join(TaskContext ctx, Target target, String fingerprint, String password) throws Exception {
        Member member = new Member(target, fingerprint);
        ctx.log("connecting to %s:%d", target.host(), target.port());
        String token = password;
        if (!JoinTokens.isToken(password)) {
            ctx.log("logging in as root@pam on the member");
            token = member.tokenWithPassword(password);
        }
        ConfigStore local = cluster.store();
        List<Integer> vmids = ownVmids(local);
        Map<String, String> params = new LinkedHashMap<>();
        params.put("token", token);
        params.put("node", node.name());
        params.put("address", node.bind());
        params.put("port", Integer.toString(apiPort.getAsInt()));
        params.put("zookeeper", node.zooKeeper().client() + ":" + node.zooKeeper().quorum() + ":" + node.zooKeeper().election());
        if (!vmids.isEmpty()) {
            params.put("vmids", vmids.stream().map(String::valueOf).collect(Collectors.joining(",")));
        }
        JsonNode admitted = member.call("POST", "/cluster/config/join-request", params, Optional.empty());
        String clusterName = admitted.path("cluster").asString();
        List<String> ensemble = admitted.path("ensemble").asString().lines().toList();
        StoreCredentials credentials = new StoreCredentials(StoreCredentials.USER, admitted.path("secret").asString());
        StoreTls tls = EmbeddedZooKeeper.joiningTls(node, admitted.path("store-ca").asString(), admitted.path("store-ca-key").asString());
        ctx.log("admitted to cluster '%s'", clusterName);

        Map<String, String> own = new LinkedHashMap<>();
        collect(local, "nodes/" + node.name(), own);
        // the certificate issued by this node's own CA is replaced by one from the cluster CA on restart
        own.remove(CertificateApi.issuedCert(node.name()));
        own.remove(CertificateApi.issuedKey(node.name()));

        // one join at a time: the lock holds from the last check until cluster.cfg records this node
        try (ZkConfigStore remote = ZkConfigStore.connect(EmbeddedZooKeeper.connectString(ensemble), credentials, tls);
                ConfigStore.Lock lock = remote.lock(JOIN_LOCK, TIMEOUT)) {
            ClusterConfig current = new ClusterMembership(remote).read();
            if (current.member(node.name()).isPresent()) {
                throw new ParameterError("node", "node name '" + node.name() + "' is already used in the cluster");
            }
            // decided under the lock, so two nodes joining at once never get one id
            int nodeId = ClusterJoin.freeId(current, ensemble);
            boolean observer = current.voters() >= ClusterConfig.wantedVoters(current.members().size() + 1);
            ctx.log("this node becomes node %d%s", nodeId, observer ? " (observer)" : "");
            ctx.log("stopping this node's config store member");
            cluster.close();
            try {
                EmbeddedZooKeeper.prepareJoin(node, nodeId, ensemble, observer, credentials, tls);
                ctx.log("starting a new member of the cluster's ensemble");
                try (ClusterStore joined = ClusterStore.start(node)) {
                    List<String> now = joined.addMember(EmbeddedZooKeeper.serverLine(node, nodeId, observer));
                    ctx.log("ensemble is now: %s", String.join(" ", now));
                    new ClusterMembership(joined.store()).update(c -> c.with(
                            new ClusterMember(node.name(), nodeId, node.bind(), apiPort.getAsInt(), "", 1, node.zooKeeper(), observer)));
                    for (String promoted : joined.promoteObservers()) {
                        ctx.log("node %s votes now", promoted);
                    }
                    for (Map.Entry<String, String> file : own.entrySet()) {
                        joined.store().overwrite(file.getKey(), file.getValue());
                    }
                    ctx.log("copied %d of this node's files into the cluster store", own.size());
                }
            } catch (Exception | Error e) {
                ctx.log("join failed, restoring this node's own store: %s", e.getMessage());
                EmbeddedZooKeeper.undoJoin(node);
                restartWhenDone(ctx.upid());
                throw e;
            }
            ctx.log("joined cluster '%s'; the node restarts its services on the cluster store", clusterName);
            log.info("Node {} joined cluster {} as node {}", node.name(), clusterName, nodeId);
        }
        EmbeddedZooKeeper.discardJoiningTls(node);
        restartWhenDone(ctx.upid());
    }

    /**
     * {@code pvecm expected N} for a cluster that lost its quorum for good: the voters this node
     * reaches (itself included) must number {@code expected}; they become the only voters and the
     * others observe. Runs as a {@code clusterexpected} task, after which the node restarts its services.
     */
    public Upid expected(int expected, String user) {
        ClusterConfig config = membership.read();
        if (config.name().isEmpty()) {
            throw new ApiException(500, "unable to read cluster config - this node is not part of a cluster");
        }
        if (cluster.store().quorate()) {
            throw new ApiException(500, "the cluster is quorate - 'expected' is only for a cluster that lost its quorum");
        }
        List<ClusterMember> reached = config.members().stream()
                .filter(m -> !m.observer() && (m.name().equals(node.name()) || reachable(m))).toList();
        if (reached.size() != expected) {
            throw new ParameterError("expected", "this node reaches " + reached.size() + " of the cluster's " + config.voters()
                    + " voters (" + reached.stream().map(ClusterMember::name).collect(Collectors.joining(", ")) + ")"
                    + (expected > reached.size() ? ": bring the others back instead" : ": set expected to " + reached.size()));
        }
        java.util.Set<String> voters = reached.stream().map(ClusterMember::name).collect(Collectors.toSet());
        return tasks.start("clusterexpected", "", user, ctx -> {
            String warning = String.format("expected votes set to %d by %s: only %s vote from now on; the other members observe"
                    + " when they come back", expected, user, String.join(", ", new java.util.TreeSet<>(voters)));
            ctx.log("WARNING: %s", warning);
            log.warn("Cluster {}: {}", config.name().orElseThrow(), warning);
            ctx.log("stopping this node's config store member");
            cluster.close();
            try (ClusterStore forced = ClusterStore.forceQuorum(node, config, voters, Duration.ofMinutes(2))) {
                ctx.log("the config store is quorate again; ensemble: %s", String.join(" ", forced.ensemble()));
            } finally {
                restartWhenDone(ctx.upid());
            }
        });
    }

    /** Whether the member's election port answers: its store member is up. */
    private static boolean reachable(ClusterMember member) {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress(member.address(), member.zooKeeper().election()), 1000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The lowest node id neither a member nor a server of the ensemble has. */
    static int freeId(ClusterConfig config, List<String> ensemble) {
        java.util.Set<Integer> ids = new java.util.TreeSet<>();
        config.members().forEach(m -> ids.add(m.nodeId()));
        ensemble.stream().filter(line -> line.startsWith("server.") && line.contains("="))
                .forEach(line -> ids.add(Integer.parseInt(line.substring("server.".length(), line.indexOf('=')))));
        int id = 1;
        while (ids.contains(id)) {
            id++;
        }
        return id;
    }

    /** The daemon restarts once the task has ended, so the task's end is recorded first. */
    private void restartWhenDone(Upid upid) {
        Thread.ofVirtual().name("clusterjoin-restart").start(() -> {
            tasks.awaitCompletion(upid, TIMEOUT);
            restart.run();
        });
    }

    private List<Integer> ownVmids(ConfigStore store) {
        List<Integer> out = new ArrayList<>();
        for (String type : List.of("qemu-server", "lxc")) {
            for (String file : store.list("nodes/" + node.name() + "/" + type)) {
                if (file.matches("\\d+\\.conf")) {
                    out.add(Integer.parseInt(file.substring(0, file.length() - ".conf".length())));
                }
            }
        }
        return out;
    }

    private static void collect(ConfigStore store, String path, Map<String, String> out) {
        List<String> children = store.list(path);
        if (children.isEmpty()) {
            store.read(path).ifPresent(f -> out.put(path, f.text()));
            return;
        }
        store.read(path).filter(f -> !f.text().isEmpty()).ifPresent(f -> out.put(path, f.text()));
        for (String child : children) {
            collect(store, path + "/" + child, out);
        }
    }

    /** {@code HOST} or {@code HOST:PORT} ({@code [v6]:PORT} for IPv6). */
    record Target(String host, int port) {
        static Target parse(String value) {
            String host = value;
            int port = DEFAULT_PORT;
            int colon = value.lastIndexOf(':');
            if (value.startsWith("[")) {
                int close = value.indexOf(']');
                if (close < 0) {
                    throw new ParameterError("hostname", "invalid address '" + value + "'");
                }
                host = value.substring(1, close);
                if (close + 1 < value.length()) {
                    port = port(value.substring(close + 2));
                }
            } else if (colon >= 0 && value.indexOf(':') == colon) {
                host = value.substring(0, colon);
                port = port(value.substring(colon + 1));
            }
            if (host.isEmpty() || !host.matches("[A-Za-z0-9.:-]+")) {
                throw new ParameterError("hostname", "invalid host '" + host + "'");
            }
            return new Target(host, port);
        }

        private static int port(String text) {
            try {
                int port = Integer.parseInt(text);
                if (port >= 1 && port <= 65535) {
                    return port;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new ParameterError("hostname", "invalid port '" + text + "'");
        }

        String base() {
            return "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/api2/json";
        }
    }

    /** The member's API over HTTPS, trusted only if its certificate has the pinned SHA-256 fingerprint. */
    private static final class Member {
        private final Target target;
        private final HttpClient http;

        Member(Target target, String fingerprint) throws Exception {
            this.target = target;
            // the pinned fingerprint is the trust: the member may be reached by any name or address
            this.http = PinnedCertificate.httpClient(fingerprint, TIMEOUT);
        }

        String tokenWithPassword(String password) throws Exception {
            JsonNode ticket = call("POST", "/access/ticket", Map.of("username", "root@pam", "password", password), Optional.empty());
            JsonNode token = call("POST", "/cluster/config/join-token", Map.of(),
                    Optional.of(new String[] {ticket.path("ticket").asString(), ticket.path("CSRFPreventionToken").asString()}));
            return token.path("token").asString();
        }

        JsonNode call(String verb, String path, Map<String, String> params, Optional<String[]> ticket) throws Exception {
            String form = params.entrySet().stream()
                    .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                    .collect(Collectors.joining("&"));
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(target.base() + path)).timeout(TIMEOUT)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .method(verb, HttpRequest.BodyPublishers.ofString(form));
            ticket.ifPresent(t -> request.header("Cookie", "PVEAuthCookie=" + URLEncoder.encode(t[0], StandardCharsets.UTF_8))
                    .header("CSRFPreventionToken", t[1]));
            HttpResponse<String> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            } catch (javax.net.ssl.SSLHandshakeException e) {
                throw new ApiException(500, "refusing to join: the certificate of " + target.host() + ":" + target.port()
                        + " does not have the given fingerprint");
            }
            JsonNode body = response.body().isBlank() ? Json.object() : Json.read(response.body());
            if (response.statusCode() != 200) {
                String message = body.path("message").asString("").strip();
                if (body.path("errors").isObject()) {
                    message += " " + Json.write(body.path("errors"));
                }
                throw new ApiException(500, "member refused " + path + ": " + response.statusCode() + " " + message);
            }
            return body.path("data");
        }
    }
}
