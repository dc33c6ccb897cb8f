package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.corral.cluster.ClusterConfig;
import org.corral.cluster.ClusterMember;
import org.corral.cluster.ClusterMembership;
import org.corral.cluster.JoinTokens;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.config.Digest;
import org.corral.core.error.ApiException;
import org.corral.core.error.ParameterError;
import org.corral.core.node.Node;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.core.task.TaskManager;
import org.corral.core.task.Upid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /cluster/config}: create the cluster, list its members, what a joining node needs to
 * know, and one-time join tokens. The member list lives in {@link ClusterConfig#PATH} instead of
 * corosync.conf.
 */
public final class ClusterConfigApi implements ApiModule {
    private static final Logger log = LoggerFactory.getLogger(ClusterConfigApi.class);

    private final Node node;
    private final ClusterMembership membership;
    private final JoinTokens tokens;
    private final Supplier<Set<String>> online;
    private final Supplier<Boolean> quorate;
    private final TaskManager tasks;

    public ClusterConfigApi(Node node, ClusterMembership membership, JoinTokens tokens, Supplier<Set<String>> online,
            Supplier<Boolean> quorate, TaskManager tasks) {
        this.node = requireNonNull(node, "node is null");
        this.membership = requireNonNull(membership, "membership is null");
        this.tokens = requireNonNull(tokens, "tokens is null");
        this.online = requireNonNull(online, "online is null");
        this.quorate = requireNonNull(quorate, "quorate is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/cluster/config")
                        .name("index")
                        .description("Directory index.")
                        .permission(Check.path("/", Privilege.SYS_AUDIT))
                        .directoryIndex("name"),
                ApiMethod.post("/cluster/config")
                        .name("create")
                        .description("Generate new cluster configuration. This node forms the cluster alone until others join.")
                        .permission(Check.rootOnly())
                        .parameter("clustername", Schema.string().format(Formats.PVE_NODE).maxLength(15)
                                .description("The name of the cluster."))
                        .parameter("nodeid", Schema.integer().minimum(1).optional()
                                .description("Node id for this node (only 1 is possible: the node's store member is server 1)."))
                        .parameter("votes", Schema.integer().minimum(1).optional().description("Number of votes for this node (1)."))
                        .returns(Schema.string().format(Formats.UPID))
                        .handler(this::create),
                ApiMethod.get("/cluster/config/apiversion")
                        .name("join_api_version")
                        .description("Return the version of the cluster join API available on this node.")
                        .permission(Check.path("/", Privilege.SYS_AUDIT))
                        .returns(Schema.integer().minimum(0))
                        .handler(r -> 1),
                ApiMethod.get("/cluster/config/nodes")
                        .name("nodes")
                        .description("Corosync node list.")
                        .permission(Check.path("/", Privilege.SYS_AUDIT))
                        .returns(Schema.array(Schema.object()
                                .property("node", Schema.string())
                                .property("name", Schema.string())
                                .property("nodeid", Schema.integer())
                                .property("quorum_votes", Schema.integer())
                                .property("ring0_addr", Schema.string())))
                        .handler(r -> nodes()),
                ApiMethod.get("/cluster/config/join")
                        .name("join_info")
                        .description("Get information needed to join this cluster over the connected node.")
                        .permission(Check.path("/", Privilege.SYS_AUDIT))
                        .parameter("node", Schema.string().format(Formats.PVE_NODE).optional()
                                .description("The node for which the joinee gets the nodeinfo."))
                        .returns(Schema.object()
                                .property("config_digest", Schema.string())
                                .property("nodelist", Schema.array(Schema.object()))
                                .property("preferred_node", Schema.string())
                                .property("totem", Schema.object()))
                        .handler(this::joinInfo),
                ApiMethod.get("/cluster/config/totem")
                        .name("totem")
                        .description("Get the cluster's settings (corosync's totem section; Corral keeps them in cluster.cfg).")
                        .permission(Check.path("/", Privilege.SYS_AUDIT))
                        .returns(Schema.object())
                        .handler(r -> totem(named())),
                ApiMethod.post("/cluster/config/join-token")
                        .name("join_token")
                        .description("Create a one-time token another node can join this cluster with instead of root's password."
                                + " It expires after one hour.")
                        .extension()
                        .permission(Check.or(Check.rootOnly(), Check.path("/", Privilege.SYS_MODIFY)))
                        .returns(Schema.object()
                                .property("token", Schema.string())
                                .property("expire", Schema.integer()))
                        .handler(this::joinToken));
    }

    private String create(ApiRequest r) {
        String name = r.string("clustername");
        if (r.optionalInt("nodeid").filter(id -> id != 1).isPresent()) {
            throw new ParameterError("nodeid", "this node's id is 1 while it forms the cluster alone");
        }
        if (r.optionalInt("votes").filter(v -> v != 1).isPresent()) {
            throw new ParameterError("votes", "each node has one vote");
        }
        ClusterConfig current = membership.read();
        if (current.name().isPresent()) {
            throw new ApiException(500, "cluster config '" + ClusterConfig.PATH + "' already exists");
        }
        Upid upid = tasks.start("clustercreate", name, r.auth().authid(), ctx -> {
            ctx.log("creating cluster '%s' on node %s", name, node.name());
            membership.create(name);
            log.info("Node {} formed cluster {}", node.name(), name);
            ctx.log("cluster '%s' created", name);
        });
        return upid.format();
    }

    private ClusterConfig named() {
        ClusterConfig config = membership.read();
        if (config.name().isEmpty()) {
            throw new ApiException(500, "unable to read cluster config - this node is not part of a cluster");
        }
        return config;
    }

    private List<Map<String, Object>> nodes() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ClusterMember m : membership.read().members()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("node", m.name());
            entry.put("name", m.name());
            entry.put("nodeid", m.nodeId());
            entry.put("quorum_votes", m.votes());
            entry.put("ring0_addr", m.address());
            out.add(entry);
        }
        return out;
    }

    private Map<String, Object> joinInfo(ApiRequest r) {
        ClusterConfig config = named();
        String preferred = r.optionalString("node").orElse(node.name());
        if (config.member(preferred).isEmpty()) {
            throw new ParameterError("node", "no such cluster node '" + preferred + "'");
        }
        List<Map<String, Object>> list = new ArrayList<>();
        for (ClusterMember m : config.members()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", m.name());
            entry.put("nodeid", m.nodeId());
            entry.put("pve_addr", m.address());
            entry.put("pve_fp", m.fingerprint());
            entry.put("quorum_votes", m.votes());
            entry.put("ring0_addr", m.address());
            list.add(entry);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("nodelist", list);
        out.put("preferred_node", preferred);
        out.put("config_digest", Digest.sha1Hex(config.text()));
        out.put("totem", totem(config));
        return out;
    }

    private static Map<String, Object> totem(ClusterConfig config) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("cluster_name", config.name().orElseThrow());
        out.put("config_version", Integer.toString(config.version()));
        out.put("version", "2");
        return out;
    }

    private Map<String, Object> joinToken(ApiRequest r) {
        named();
        JoinTokens.Issued issued = tokens.create();
        log.info("{} created a cluster join token valid until {}", r.auth().authid(), issued.expires());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("token", issued.token());
        out.put("expire", issued.expires().getEpochSecond());
        return out;
    }

    /** {@code /cluster/status}: the cluster entry and every member with whether its daemon is connected now. */
    public List<Map<String, Object>> status() {
        ClusterConfig config = membership.read();
        Set<String> up = online.get();
        Map<String, Object> cluster = new LinkedHashMap<>();
        cluster.put("type", "cluster");
        cluster.put("id", "cluster");
        cluster.put("name", config.name().orElse(ClusterApi.CLUSTER_NAME));
        cluster.put("nodes", Math.max(1, config.members().size()));
        cluster.put("quorate", quorate.get() ? 1 : 0);
        cluster.put("version", Math.max(1, config.version()));
        List<Map<String, Object>> out = new ArrayList<>(List.of(cluster));
        List<ClusterMember> members = config.members();
        if (members.isEmpty()) {
            // a node whose first start has not registered it yet
            members = List.of(new ClusterMember(node.name(), 1, node.bind(), node.apiPort(), "", 1, node.zooKeeper(), false));
        }
        for (ClusterMember m : members) {
            boolean local = m.name().equals(node.name());
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("type", "node");
            entry.put("id", "node/" + m.name());
            entry.put("name", m.name());
            entry.put("nodeid", m.nodeId());
            entry.put("ip", m.address());
            entry.put("local", local ? 1 : 0);
            entry.put("online", local || up.contains(m.name()) ? 1 : 0);
            entry.put("level", "");
            out.add(entry);
        }
        return out;
    }
}
