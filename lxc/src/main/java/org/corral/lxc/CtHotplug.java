package org.corral.lxc;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.corral.core.error.ApiException;
import org.corral.core.process.ProcessRunner;
import org.corral.lxc.config.NetConfig;

/**
 * NICs of a running container added, changed and removed at once, as pct's hotplug_net and
 * update_net do: a veth pair whose host end joins the bridge and whose peer moves into the
 * container's network namespace under its name, with its static addresses.
 */
final class CtHotplug {
    /** NIC properties a running container takes at once: the host end moves, the link goes up or down. */
    static final Set<String> LIVE = Set.of("bridge", "tag", "rate", "link_down");
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final LxcDriver driver;

    CtHotplug(LxcDriver driver) {
        this.driver = requireNonNull(driver, "driver is null");
    }

    /** Why a NIC change can't reach a running container at once; empty when it can. */
    static Optional<String> refusal(Optional<NetConfig> before, Optional<NetConfig> after) {
        if (after.isPresent() && after.get().bridge().isEmpty()) {
            return Optional.of("only NICs on a bridge are hot-plugged");
        }
        if (after.isPresent() && after.get().firewall()) {
            return Optional.of("firewall=1 is set up at start");
        }
        if (before.isPresent() && after.isPresent()) {
            Set<String> keys = new TreeSet<>(before.get().values().keySet());
            keys.addAll(after.get().values().keySet());
            keys.removeIf(k -> LIVE.contains(k) || Objects.equals(before.get().get(k), after.get().get(k)));
            if (!keys.isEmpty()) {
                return Optional.of("changing " + String.join(", ", keys) + " of a running NIC needs a restart");
            }
        }
        return Optional.empty();
    }

    /** Creates the veth pair, puts the host end on its bridge and the peer into the container. */
    void plug(int vmid, NetConfig net, Consumer<String> warn) {
        long pid = pid(vmid);
        String host = net.hostInterface(vmid);
        String peer = host + "p";
        run("ip", "link", "add", host, "type", "veth", "peer", "name", peer);
        try {
            net.hwaddr().ifPresent(mac -> run("ip", "link", "set", "dev", peer, "address", mac));
            net.mtu().ifPresent(mtu -> {
                run("ip", "link", "set", "dev", host, "mtu", Integer.toString(mtu));
                run("ip", "link", "set", "dev", peer, "mtu", Integer.toString(mtu));
            });
            joinBridge(vmid, net, warn);
            run("ip", "link", "set", "dev", peer, "netns", Long.toString(pid));
            inside(pid, "ip", "link", "set", "dev", peer, "name", net.name());
            if (!net.linkDown()) {
                inside(pid, "ip", "link", "set", "dev", net.name(), "up");
            }
            net.ip().filter(ip -> ip.contains("/")).ifPresent(ip -> inside(pid, "ip", "addr", "add", ip, "dev", net.name()));
            net.ip6().filter(ip -> ip.contains("/")).ifPresent(ip -> inside(pid, "ip", "-6", "addr", "add", ip, "dev", net.name()));
            if (!net.linkDown()) {
                net.gw().ifPresent(gw -> inside(pid, "ip", "route", "replace", "default", "via", gw, "dev", net.name()));
                net.gw6().ifPresent(gw -> inside(pid, "ip", "-6", "route", "replace", "default", "via", gw, "dev", net.name()));
            }
        } catch (RuntimeException e) {
            ProcessRunner.of("ip", "link", "del", host).timeout(TIMEOUT).run();
            throw e;
        }
    }

    /** Removes the veth pair; its peer leaves the container with it. */
    void unplug(int vmid, NetConfig net) {
        run("ip", "link", "del", net.hostInterface(vmid));
    }

    /** Moves the host end to its new bridge, VLAN and rate, and sets the link inside up or down. */
    void change(int vmid, NetConfig before, NetConfig after, Consumer<String> warn) {
        if (!Objects.equals(before.bridge(), after.bridge()) || !Objects.equals(before.get("tag"), after.get("tag"))
                || !Objects.equals(before.get("rate"), after.get("rate"))) {
            String host = after.hostInterface(vmid);
            run("ip", "link", "set", "dev", host, "nomaster");
            // the old limits go with the old bridge
            ProcessRunner.of("tc", "qdisc", "del", "dev", host, "root").timeout(TIMEOUT).run();
            ProcessRunner.of("tc", "qdisc", "del", "dev", host, "ingress").timeout(TIMEOUT).run();
            joinBridge(vmid, after, warn);
        }
        if (before.linkDown() != after.linkDown()) {
            inside(pid(vmid), "ip", "link", "set", "dev", after.name(), after.linkDown() ? "down" : "up");
        }
    }

    private void joinBridge(int vmid, NetConfig net, Consumer<String> warn) {
        List<String> problems = driver.network().problems(List.of(net));
        if (!problems.isEmpty()) {
            throw new ApiException(500, String.join("; ", problems));
        }
        String host = net.hostInterface(vmid);
        run("ip", "link", "set", "dev", host, "master", net.bridge().orElseThrow());
        run("ip", "link", "set", "dev", host, "up");
        driver.network().afterStart(vmid, List.of(net)).forEach(warn);
    }

    private long pid(int vmid) {
        return driver.info(vmid).pid().orElseThrow(() -> new ApiException(500, "CT " + vmid + " not running"));
    }

    private static void inside(long pid, String... command) {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Long.toString(pid), "-n"));
        cmd.addAll(List.of(command));
        ProcessRunner.of(cmd).timeout(TIMEOUT).run().check();
    }

    private static void run(String... command) {
        ProcessRunner.of(command).timeout(TIMEOUT).run().check();
    }
}
