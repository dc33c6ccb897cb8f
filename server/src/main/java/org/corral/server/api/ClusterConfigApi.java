package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.Arrays;
import org.corral.cluster.ClusterConfig;
import org.corral.cluster.ClusterMember;
import org.corral.cluster.ClusterMembership;
import org.corral.cluster.ClusterStore;
import org.corral.cluster.JoinTokens;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.config.Digest;
import org.corral.core.error.ApiException;
import org.corral.core.error.ParameterError;
import org.corral.core.error.Unauthorized;
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
    private static final String FINGERPRINT = "([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}";

    private final Node node;
    private final ClusterStore cluster;
    private final ClusterMembership membership;
    private final JoinTokens tokens;
    private final GuestIndex guests;
    private final TaskManager tasks;
    private final ClusterJoin join;

    public ClusterConfigApi(Node node, ClusterStore cluster, ClusterMembership membership, JoinTokens tokens, GuestIndex guests,
            TaskManager tasks, ClusterJoin join) {
        this.node = requireNonNull(node, "node is null");
        this.cluster = requireNonNull(cluster, "cluster is null");
        this.membership = requireNonNull(membership, "membership is null");
        this.tokens = requireNonNull(tokens, "tokens is null");
        this.guests = requireNonNull(guests, "guests is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
        this.join = requireNonNull(join, "join is null");
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
                ApiMethod.delete("/cluster/config/nodes/{node}")
                        .name("delnode")
                        .description("Removes a node from the cluster configuration. The node must be off (its daemon stopped);"
                                + " its guests' configs stay under nodes/<node>/, as Proxmox leaves them. An online observer takes the"
                                + " place of a removed voter.")
                        .permission(Check.path("/", Privilege.SYS_MODIFY))
                        .parameter("node", Schema.string().format(Formats.PVE_NODE).description("The cluster node name."))
                        .handler(this::delnode),
                ApiMethod.post("/cluster/config/expected")
                        .name("expected")
                        .description("As 'pvecm expected': tells a cluster that lost its quorum for good how many votes to"
                                + " expect. The voters this node reaches (itself included) must number 'expected'; they become the"
                                + " only voters, and the other members observe when they come back. The node restarts its services.")
                        .extension()
                        .permission(Check.rootOnly())
                        .worksWithoutQuorum()
                        .parameter("expected", Schema.integer().minimum(1).description("Expected votes."))
                        .returns(Schema.string().format(Formats.UPID))
                        .handler(r -> join.expected(Math.toIntExact(r.integer("expected")), r.auth().authid()).format()),
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
                        .handler(this::joinToken),
                ApiMethod.post("/cluster/config/join")
                        .name("join")
                        .description("Joins this node into an existing cluster. The node's own guests (if their VMIDs are free in"
                                + " the cluster) come along; its users, ACLs and storage definitions are replaced by the cluster's.")
                        .permission(Check.rootOnly())
                        .parameter("hostname", Schema.string().maxLength(255)
                                .description("Hostname (or IP) of an existing cluster member, optionally with ':PORT'."))
                        .parameter("fingerprint", Schema.string().pattern(FINGERPRINT)
                                .description("Certificate SHA 256 fingerprint of the member's API."))
                        .parameter("password", Schema.string().maxLength(128)
                                .description("Superuser (root) password of the member, or a join token it created."))
                        .parameter("force", Schema.bool().optional().description("Not supported: a node in a cluster can't join another."))
                        .parameter("nodeid", Schema.integer().minimum(1).optional().description("Not supported: the member assigns the id."))
                        .parameter("votes", Schema.integer().minimum(0).optional().description("Not supported: every voter has one vote."))
                        .returns(Schema.string().format(Formats.UPID))
                        .handler(this::join),
                ApiMethod.post("/cluster/config/join-request")
                        .name("join_request")
                        .description("What a joining node asks a member with a join token: checks that its name and VMIDs are free"
                                + " and answers the ensemble to join and the store's credentials. Uses the token up.")
                        .extension()
                        .permission(Check.anonymous())
                        .parameter("token", Schema.string().maxLength(128).description("A join token from join-token."))
                        .parameter("node", Schema.string().format(Formats.PVE_NODE).description("The joining node's name."))
                        .parameter("address", Schema.string().maxLength(255).description("Address the joining node's store member listens on."))
                        .parameter("port", Schema.integer().minimum(1).maximum(65535).description("The joining node's API port."))
                        .parameter("zookeeper", Schema.string().pattern("\\d{1,5}:\\d{1,5}:\\d{1,5}")
                                .description("The joining node's ZooKeeper client, quorum and election ports."))
                        .parameter("vmids", Schema.string().pattern("\\d+(,\\d+)*").maxLength(64 * 1024).optional()
                                .description("VMIDs of the guests the joining node brings along."))
                        .returns(Schema.object()
                                .property("cluster", Schema.string())
                                .property("nodeid", Schema.integer())
                                .property("observer", Schema.bool())
                                .property("ensemble", Schema.string())
                                .property("secret", Schema.string()))
                        .handler(this::joinRequest));
    }

    private String join(ApiRequest r) {
        for (String unsupported : List.of("force", "nodeid", "votes")) {
            if (r.has(unsupported)) {
                throw new ParameterError(unsupported, "not supported by Corral");
            }
        }
        return join.start(r.string("hostname"), r.string("fingerprint"), r.string("password"), r.auth().authid()).format();
    }

    private Map<String, Object> joinRequest(ApiRequest r) {
        String token = r.string("token");
        String name = r.string("node");
        if (!JoinTokens.isToken(token) || !tokens.valid(token)) {
            throw new Unauthorized("authentication failure - invalid or used join token");
        }
        ClusterConfig config = named();
        if (config.member(name).isPresent()) {
            throw new ParameterError("node", "node name '" + name + "' is already used in the cluster");
        }
        if (!r.string("address").matches("[A-Za-z0-9.:\\[\\]-]+")) {
            throw new ParameterError("address", "invalid address");
        }
        Set<Integer> taken = new TreeSet<>();
        for (GuestIndex.Guest guest : guests.all()) {
            taken.add(guest.vmid());
        }
        List<Integer> clashes = r.optionalString("vmids").map(v -> Arrays.stream(v.split(",")).map(Integer::valueOf)
                .filter(taken::contains).sorted().toList()).orElse(List.of());
        if (!clashes.isEmpty()) {
            throw new ParameterError("vmids", "VMIDs already used in the cluster: "
                    + clashes.stream().map(String::valueOf).collect(Collectors.joining(",")));
        }
        List<String> ensemble = cluster.ensemble();
        int nodeId = ClusterJoin.freeId(config, ensemble);
        if (!tokens.consume(token)) {
            throw new Unauthorized("authentication failure - invalid or used join token");
        }
        log.info("Admitting node {} into cluster {} as node {}", name, config.name().orElseThrow(), nodeId);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("cluster", config.name().orElseThrow());
        out.put("nodeid", nodeId);
        // 3 voters up to 4 members, 5 from 5 members on; the others observe (the joiner decides again under the join lock)
        out.put("observer", config.voters() >= ClusterConfig.wantedVoters(config.members().size() + 1));
        out.put("ensemble", String.join("\n", ensemble));
        out.put("secret", cluster.zooKeeper().credentials().secret());
        // the store CA: the joining node makes its own member certificate from it
        out.put("store-ca", cluster.zooKeeper().tls().caPem());
        out.put("store-ca-key", cluster.zooKeeper().tls().caKeyPem());
        return out;
    }

    private Object delnode(ApiRequest r) {
        String name = r.string("node");
        ClusterConfig config = named();
        ClusterMember member = config.member(name)
                .orElseThrow(() -> new ApiException(500, "Node/IP: " + name + " is not a known host of the cluster."));
        if (name.equals(node.name())) {
            throw new ApiException(500, "Cannot delete myself from cluster!");
        }
        if (cluster.store().online().contains(name)) {
            throw new ApiException(500, "node '" + name + "' is online - stop it before removing it from the cluster");
        }
        if (!member.observer() && config.voters() <= 1) {
            throw new ApiException(500, "node '" + name + "' is the cluster's last voter");
        }
        List<String> ensemble = cluster.removeMember(member.nodeId());
        log.info("Removed node {} (ZooKeeper server {}) from cluster {}; ensemble now {}", name, member.nodeId(),
                config.name().orElseThrow(), ensemble);
        membership.update(c -> c.without(name));
        for (String promoted : cluster.promoteObservers()) {
            log.info("Node {} votes now, in place of {}", promoted, name);
        }
        return null;
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
        Set<String> up = Set.copyOf(cluster.store().online());
        Map<String, Object> entry0 = new LinkedHashMap<>();
        entry0.put("type", "cluster");
        entry0.put("id", "cluster");
        entry0.put("name", config.name().orElse(ClusterApi.CLUSTER_NAME));
        entry0.put("nodes", Math.max(1, config.members().size()));
        entry0.put("quorate", cluster.store().quorate() ? 1 : 0);
        entry0.put("version", Math.max(1, config.version()));
        List<Map<String, Object>> out = new ArrayList<>(List.of(entry0));
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
