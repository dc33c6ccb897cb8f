package org.corral.cluster;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.function.UnaryOperator;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.StaleVersionException;
import org.corral.core.error.Conflict;
import org.corral.core.node.Node;

/** The cluster's name and member list in {@link ClusterConfig#PATH}, changed by compare-and-set. */
public final class ClusterMembership {
    private static final int ATTEMPTS = 50;

    private final ConfigStore store;

    public ClusterMembership(ConfigStore store) {
        this.store = requireNonNull(store, "store is null");
    }

    public ClusterConfig read() {
        return store.read(ClusterConfig.PATH).map(f -> ClusterConfig.parse(f.text())).orElse(ClusterConfig.empty());
    }

    /**
     * Records this node (ZooKeeper server id {@code serverId}) with the address, API port and
     * certificate it serves now; a member already listed keeps its id, votes and role.
     */
    public ClusterConfig register(Node node, long serverId, String address, int apiPort, String fingerprint) {
        return update(config -> {
            Optional<ClusterMember> known = config.member(node.name());
            if (known.isPresent()) {
                ClusterMember updated = known.get().withApi(address, apiPort, fingerprint);
                return updated.equals(known.get()) ? config : config.with(updated);
            }
            ClusterMember self = new ClusterMember(node.name(), Math.toIntExact(serverId), address, apiPort, fingerprint, 1,
                    node.zooKeeper(), false);
            // before the cluster is named the file carries no version
            ClusterConfig added = config.with(self);
            return config.name().isEmpty() ? new ClusterConfig(Optional.empty(), 0, added.members()) : added;
        });
    }

    /** Names the cluster this node forms alone; refused when it has a name or other members already. */
    public ClusterConfig create(String clusterName) {
        return update(config -> {
            if (config.name().isPresent()) {
                throw new Conflict("cluster config '" + ClusterConfig.PATH + "' already exists (cluster '" + config.name().get() + "')");
            }
            if (config.members().size() > 1) {
                throw new Conflict("this node already shares its store with other nodes");
            }
            return config.named(clusterName);
        });
    }

    /** Applies {@code change} with compare-and-set, retrying when another node wrote in between. */
    public ClusterConfig update(UnaryOperator<ClusterConfig> change) {
        for (int attempt = 0; ; attempt++) {
            Optional<ConfigFile> current = store.read(ClusterConfig.PATH);
            ClusterConfig before = current.map(f -> ClusterConfig.parse(f.text())).orElse(ClusterConfig.empty());
            ClusterConfig after = change.apply(before);
            if (after.equals(before)) {
                return before;
            }
            try {
                store.write(ClusterConfig.PATH, after.text(), current.map(ConfigFile::version).orElse(ConfigStore.NEW));
                return after;
            } catch (StaleVersionException e) {
                if (attempt >= ATTEMPTS) {
                    throw e;
                }
            }
        }
    }
}
