package org.corral.firewall;

import static java.util.Objects.requireNonNull;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.corral.core.api.ApiModule;
import org.corral.core.config.ConfigFile;
import org.corral.core.config.ConfigStore;
import org.corral.core.node.Node;
import org.corral.firewall.api.FirewallApi;
import org.corral.firewall.api.SimulateApi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The firewall's files in the config store, where Proxmox keeps them under /etc/pve: read with
 * their warnings, changed by compare-and-set so concurrent edits are never lost.
 */
public final class FirewallService {
    private static final Logger log = LoggerFactory.getLogger(FirewallService.class);

    public static final String CLUSTER_FILE = "firewall/cluster.fw";

    private final Node node;
    private final ConfigStore store;

    public FirewallService(Node node, ConfigStore store) {
        this.node = requireNonNull(node, "node is null");
        this.store = requireNonNull(store, "store is null");
    }

    public static String hostFile(String nodeName) {
        return "nodes/" + nodeName + "/host.fw";
    }

    public static String guestFile(int vmid) {
        return "firewall/" + vmid + ".fw";
    }

    public static String vnetFile(String vnet) {
        return "sdn/firewall/" + vnet + ".fw";
    }

    public Node node() {
        return node;
    }

    public ConfigStore store() {
        return store;
    }

    /** A file parsed (empty when missing); skipped lines are in the warnings and logged. */
    public FwParser.Parsed read(String path, FwKind kind) {
        FwParser.Parsed parsed = FwParser.parse(path, store.read(path).map(ConfigFile::text).orElse(""), kind);
        parsed.warnings().forEach(w -> log.warn("Skipped firewall line: {}", w));
        return parsed;
    }

    public FwConfig cluster() {
        return read(CLUSTER_FILE, FwKind.CLUSTER).config();
    }

    /** Applies {@code change} to the file's current content and writes it if nothing changed it meanwhile (else again). */
    public FwConfig update(String path, FwKind kind, UnaryOperator<FwConfig> change) {
        FwConfig[] written = new FwConfig[1];
        store.update(path, text -> {
            written[0] = change.apply(FwParser.parse(path, text, kind).config());
            return FwWriter.write(written[0], kind);
        });
        return written[0];
    }

    /**
     * The {@code local_network} alias: the network of the interface holding the node's address
     * (its bind address, or the first non-loopback IPv4 address when it binds all or loopback), as
     * Proxmox derives it from the node's IP; {@code 127.0.0.0/8} when none is found.
     */
    public String localNetwork() {
        try {
            InetAddress bind = InetAddress.getByName(node.bind());
            // a node that listens on all addresses, or only on loopback, is reached through its first real one
            boolean wildcard = bind.isAnyLocalAddress() || bind.isLoopbackAddress();
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp()) {
                    continue;
                }
                for (InterfaceAddress address : nic.getInterfaceAddresses()) {
                    InetAddress ip = address.getAddress();
                    boolean any = wildcard && ip instanceof Inet4Address && !ip.isLoopbackAddress() && !ip.isLinkLocalAddress();
                    if (any || !wildcard && ip.equals(bind)) {
                        return network(ip, address.getNetworkPrefixLength());
                    }
                }
            }
        } catch (SocketException | UnknownHostException e) {
            log.warn("Cannot find the local network: {}", e.getMessage());
        }
        return "127.0.0.0/8";
    }

    static String network(InetAddress ip, int prefix) throws UnknownHostException {
        byte[] bytes = ip.getAddress();
        for (int bit = prefix; bit < bytes.length * 8; bit++) {
            bytes[bit / 8] &= (byte) ~(0x80 >> (bit % 8));
        }
        return InetAddress.getByAddress(bytes).getHostAddress() + "/" + prefix;
    }

    /** The cluster's aliases as rules see them: {@code local_network} is implicit unless defined. */
    public List<Alias> effectiveClusterAliases(FwConfig cluster) {
        if (cluster.alias(IpSets.LOCAL_NETWORK).isPresent()) {
            return cluster.aliases();
        }
        List<Alias> all = new java.util.ArrayList<>(cluster.aliases());
        all.add(new Alias(IpSets.LOCAL_NETWORK, localNetwork(), Optional.empty()));
        return List.copyOf(all);
    }

    /** The firewall API, with a simulator over a ruleset compiled from the files (nothing enforced). */
    public List<ApiModule> apiModules() {
        return apiModules(org.corral.firewall.nft.FirewallEnforcer.local(this));
    }

    /** The firewall API, with the simulator over what {@code enforcer} applied (and the routes of this host) and its log. */
    public List<ApiModule> apiModules(org.corral.firewall.nft.FirewallEnforcer enforcer) {
        return List.of(new FirewallApi(this), new SimulateApi(enforcer, org.corral.firewall.nft.NftApplier.local()),
                new org.corral.firewall.api.LogApi(this, enforcer));
    }
}
