package org.corral.cluster;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.corral.core.config.ConfigWriter;
import org.corral.core.node.Node;

/**
 * What Proxmox keeps in corosync.conf, in Corral's own small file {@code cluster.cfg} in the
 * config store: the cluster's name, a config version counted up on every membership change and
 * one {@code node:} section per member. There is no corosync: ZooKeeper carries membership and
 * quorum, so the file records ZooKeeper ports where corosync.conf records rings.
 * <pre>
 * cluster: prod
 * 	config_version 3
 *
 * node: pve1
 * 	nodeid 1
 * 	address 192.0.2.1
 * 	port 8006
 * 	fingerprint AB:CD:...
 * 	quorum_votes 1
 * 	zookeeper 2181:2888:3888
 * 	role participant
 * </pre>
 * Before the cluster is named the file holds only the node itself and no version.
 */
public record ClusterConfig(Optional<String> name, int version, List<ClusterMember> members) {
    public static final String PATH = "cluster.cfg";

    public ClusterConfig {
        requireNonNull(name, "name is null");
        members = members.stream().sorted(Comparator.comparingInt(ClusterMember::nodeId)).toList();
    }

    public static ClusterConfig empty() {
        return new ClusterConfig(Optional.empty(), 0, List.of());
    }

    public Optional<ClusterMember> member(String nodeName) {
        return members.stream().filter(m -> m.name().equals(nodeName)).findFirst();
    }

    /** The lowest node id not in use. */
    public int nextNodeId() {
        int id = 1;
        for (ClusterMember m : members) {
            if (m.nodeId() == id) {
                id++;
            }
        }
        return id;
    }

    /**
     * How many of a cluster's {@code members} vote: every member up to 3, then 3 until there are 5,
     * then 5 (the ensembles that survive one and two failures); the others observe.
     */
    public static int wantedVoters(int members) {
        return members >= 5 ? 5 : Math.min(3, members);
    }

    public long voters() {
        return members.stream().filter(m -> !m.observer()).count();
    }

    /** This config with {@code member} added or replacing the member of that name, one version on. */
    public ClusterConfig with(ClusterMember member) {
        List<ClusterMember> next = new ArrayList<>(members.stream().filter(m -> !m.name().equals(member.name())).toList());
        next.add(member);
        return new ClusterConfig(name, version + 1, next);
    }

    /** This config without the member {@code nodeName}, one version on. */
    public ClusterConfig without(String nodeName) {
        return new ClusterConfig(name, version + 1, members.stream().filter(m -> !m.name().equals(nodeName)).toList());
    }

    public ClusterConfig named(String clusterName) {
        return new ClusterConfig(Optional.of(clusterName), version + 1, members);
    }

    public String text() {
        ConfigWriter out = new ConfigWriter();
        if (name.isPresent()) {
            out.sectionHeader("cluster", "clustername", name.get()).option("config_version", Integer.toString(version)).blank();
        }
        for (ClusterMember m : members) {
            Node.ZooKeeperPorts zk = m.zooKeeper();
            out.sectionHeader("node", "node", m.name())
                    .option("nodeid", Integer.toString(m.nodeId()))
                    .option("address", m.address())
                    .option("port", Integer.toString(m.apiPort()))
                    .option("fingerprint", m.fingerprint().isEmpty() ? "-" : m.fingerprint())
                    .option("quorum_votes", Integer.toString(m.votes()))
                    .option("zookeeper", zk.client() + ":" + zk.quorum() + ":" + zk.election())
                    .option("role", m.observer() ? "observer" : "participant")
                    .blank();
        }
        return out.text();
    }

    /** Reads {@link #text()}'s format; throws {@link IllegalArgumentException} naming the bad line. */
    public static ClusterConfig parse(String text) {
        Optional<String> name = Optional.empty();
        int version = 0;
        List<ClusterMember> members = new ArrayList<>();
        Section section = null;
        for (String raw : (text + "\n\n").split("\n", -1)) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                if (section != null && line.isEmpty()) {
                    if (section.type.equals("cluster")) {
                        name = Optional.of(section.id);
                        version = Integer.parseInt(section.get("config_version", "0"));
                    } else {
                        members.add(section.member());
                    }
                    section = null;
                }
                continue;
            }
            if (!raw.startsWith("\t") && !raw.startsWith(" ")) {
                int colon = line.indexOf(':');
                if (colon < 0 || section != null) {
                    throw new IllegalArgumentException("cluster.cfg: unexpected line '" + line + "'");
                }
                section = new Section(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
                if (!section.type.equals("cluster") && !section.type.equals("node")) {
                    throw new IllegalArgumentException("cluster.cfg: unknown section type '" + section.type + "'");
                }
            } else if (section == null) {
                throw new IllegalArgumentException("cluster.cfg: option outside a section '" + line + "'");
            } else {
                int space = line.indexOf(' ');
                section.options.add(space < 0 ? new String[] {line, ""} : new String[] {line.substring(0, space), line.substring(space + 1).strip()});
            }
        }
        return new ClusterConfig(name, version, members);
    }

    private static final class Section {
        final String type;
        final String id;
        final List<String[]> options = new ArrayList<>();

        Section(String type, String id) {
            this.type = type;
            this.id = id;
        }

        String get(String key, String fallback) {
            return options.stream().filter(o -> o[0].equals(key)).map(o -> o[1]).reduce((a, b) -> b).orElse(fallback);
        }

        ClusterMember member() {
            String[] zk = get("zookeeper", "").split(":");
            if (zk.length != 3) {
                throw new IllegalArgumentException("cluster.cfg: node " + id + " has no valid zookeeper ports");
            }
            String fingerprint = get("fingerprint", "-");
            return new ClusterMember(id, Integer.parseInt(get("nodeid", "0")), get("address", ""),
                    Integer.parseInt(get("port", "8006")), fingerprint.equals("-") ? "" : fingerprint,
                    Integer.parseInt(get("quorum_votes", "1")),
                    new Node.ZooKeeperPorts(Integer.parseInt(zk[0]), Integer.parseInt(zk[1]), Integer.parseInt(zk[2])),
                    get("role", "participant").equals("observer"));
        }
    }
}
