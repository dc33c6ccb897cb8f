package org.corral.firewall.nft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.node.Node;
import org.corral.firewall.FirewallService;
import org.corral.firewall.nft.NftSimulator.Endpoint;
import org.corral.firewall.nft.NftSimulator.Kind;
import org.corral.firewall.nft.NftSimulator.Probe;
import org.corral.firewall.nft.NftSimulator.Result;
import org.corral.firewall.nft.NftSimulator.Verdict;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulator against real packets, over {@link NetnsTopology}: random rulesets (all three
 * tiers, security groups, IP sets with nomatch, aliases, ipfilter, macros, REJECT) are applied to
 * the host namespace, and for each, random packets (TCP, UDP, ICMP echo; IPv4 between host,
 * outside, the VM and the container, from their own and from spoofed addresses; IPv6 between the
 * guests on the bridge) are both simulated on the applied model and sent for real, all at once
 * with a short timeout. Every real outcome must be the simulator's: answered when it says the
 * packet and its reply get through, refused when it says REJECT, nothing otherwise. And each
 * IPv4 TCP/UDP first packet that {@code nft monitor trace} saw must have passed the same rules
 * (by handle, in order) as the simulator says.
 */
class FirewallSimulatorIT {
    private static final int ROUNDS = 20;
    private static final int TUPLES = 26;
    private static final double TIMEOUT = 1.0;
    private static final int[] PORTS = {22, 80, 81, 82, 443, 8006};
    private static final String VM_SPOOF = "10.77.0.50";
    private static final String CT_SPOOF = "10.77.0.51";
    private static final Map<Kind, List<String>> ADDRESSES = new EnumMap<>(Map.of(
            Kind.HOST, List.of(NetnsTopology.HOST_BR, NetnsTopology.HOST_UP),
            Kind.OUTSIDE, List.of(NetnsTopology.ADMIN, NetnsTopology.BLACKLISTED),
            Kind.VM, List.of(NetnsTopology.VM_IP, VM_SPOOF),
            Kind.CT, List.of(NetnsTopology.CT_IP, CT_SPOOF)));
    /** IPv6 between the guests on the bridge: sources their first addresses, destinations either. */
    private static final Map<Kind, List<String>> ADDRESSES6 = new EnumMap<>(Map.of(
            Kind.VM, List.of("fd77::11", "fd77::50"),
            Kind.CT, List.of("fd77::12", "fd77::51")));
    private static final List<String> ALL_ADDRESSES = java.util.stream.Stream.concat(ADDRESSES.values().stream(),
            ADDRESSES6.values().stream()).flatMap(List::stream).toList();

    @TempDir
    static Path dir;
    private static NetnsTopology net;
    private static InMemoryConfigStore store;
    private static FirewallEnforcer enforcer;
    private static NftSimulator.HostNetwork hostNet;
    private static final Map<Kind, OutputStream> probers = new EnumMap<>(Kind.class);
    private static final Map<Integer, CompletableFuture<Integer>> answers = new ConcurrentHashMap<>();
    private static final java.util.concurrent.ConcurrentLinkedQueue<String> traces = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private static final java.util.concurrent.atomic.AtomicInteger slowest = new java.util.concurrent.atomic.AtomicInteger();

    @BeforeAll
    static void topology() throws IOException {
        net = NetnsTopology.create(dir);
        NetnsTopology.sh("ip", "-n", net.vm, "addr", "add", VM_SPOOF + "/24", "dev", "eth0");
        NetnsTopology.sh("ip", "-n", net.ct, "addr", "add", CT_SPOOF + "/24", "dev", "eth0");
        NetnsTopology.sh("ip", "-n", net.host, "addr", "add", "fd77::1/64", "dev", "br0", "nodad");
        for (String address : ADDRESSES6.get(Kind.VM)) {
            NetnsTopology.sh("ip", "-n", net.vm, "addr", "add", address + "/64", "dev", "eth0", "nodad");
        }
        for (String address : ADDRESSES6.get(Kind.CT)) {
            NetnsTopology.sh("ip", "-n", net.ct, "addr", "add", address + "/64", "dev", "eth0", "nodad");
        }
        for (String ns : net.namespaces()) {
            // REJECT's ICMP errors come quickly one after another here; the kernel would rate-limit them
            NetnsTopology.sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.icmp_ratemask=0");
            NetnsTopology.sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.icmp.ratelimit=0");
            // ARP asks with the interface's own address, not a packet's spoofed one: else one spoofed packet's failed
            // resolution of the gateway would hold up the other packets queued behind it (which ipfilter lets through)
            NetnsTopology.sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.arp_announce=2");
            net.serve(ns, PORTS);
        }
        for (Kind kind : Kind.values()) {
            Process prober = net.peer(namespace(kind), "probe");
            BufferedReader lines = new BufferedReader(new InputStreamReader(prober.getInputStream(), UTF_8));
            assertEquals("ready", lines.readLine(), "prober in " + kind);
            probers.put(kind, prober.getOutputStream());
            Thread.ofVirtual().start(() -> {
                try {
                    for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                        String[] words = line.split(" ");
                        if (words.length == 3 && words[0].matches("\\d+")) {
                            answers.computeIfAbsent(Integer.parseInt(words[0]), k -> new CompletableFuture<>())
                                    .complete(Integer.parseInt(words[1]));
                            if (!words[1].equals("3")) {
                                slowest.accumulateAndGet(Integer.parseInt(words[2]), Math::max);
                            }
                        } else {
                            System.err.println("prober in " + kind + ": " + line);
                        }
                    }
                } catch (IOException e) {
                    // the prober was stopped
                }
            });
        }
        // nft's own trace of every probe's first packet (TCP and UDP probes use source ports from 20000), in tables of
        // their own that run before Corral's; the enforcer replaces only Corral's tables
        NftApplier.inNamespace(net.host).apply("""
                {"nftables":[{"add":{"table":{"family":"inet","name":"probetrace"}}},
                {"add":{"table":{"family":"bridge","name":"probetrace"}}}
                %s]}""".formatted(traceRules()));
        Process monitor = net.peerless(net.host, "nft", "monitor", "trace");
        BufferedReader traceLines = new BufferedReader(new InputStreamReader(monitor.getInputStream(), UTF_8));
        Thread.ofVirtual().start(() -> {
            try {
                for (String line = traceLines.readLine(); line != null; line = traceLines.readLine()) {
                    traces.add(line);
                }
            } catch (IOException e) {
                // the monitor was stopped
            }
        });
        store = new InMemoryConfigStore();
        store.overwrite("nodes/pve1/qemu-server/100.conf", NetnsTopology.VM_CONF);
        store.overwrite("nodes/pve1/lxc/101.conf", NetnsTopology.CT_CONF);
        Node node = new Node("pve1", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 8006, new Node.ZooKeeperPorts(0, 0, 0));
        NftApplier applier = NftApplier.inNamespace(net.host);
        enforcer = new FirewallEnforcer(new FirewallService(node, store), applier, new NftCompiler(Services.system()), Clock.systemUTC());
        // the test's routes do not change: ask the host namespace once per address
        Map<InetAddress, String> routes = new ConcurrentHashMap<>();
        hostNet = new NftSimulator.HostNetwork() {
            @Override
            public String routeDevice(InetAddress address) {
                return routes.computeIfAbsent(address, applier::routeDevice);
            }

            @Override
            public boolean bridgeCallsInet(int version) {
                return applier.bridgeCallsInet(version);
            }
        };
    }

    @AfterAll
    static void cleanUp() {
        if (enforcer != null) {
            enforcer.close();
        }
        if (net != null) {
            net.close();
        }
    }

    private static String traceRules() {
        StringBuilder rules = new StringBuilder();
        // every hook: a packet bridged up to the host's own stack loses its trace flag on the way
        for (String[] hook : new String[][] {{"inet", "prerouting"}, {"inet", "input"}, {"inet", "forward"}, {"inet", "output"},
                {"bridge", "prerouting"}, {"bridge", "forward"}, {"bridge", "output"}}) {
            rules.append(",{\"add\":{\"chain\":{\"family\":\"").append(hook[0]).append("\",\"table\":\"probetrace\",\"name\":\"")
                    .append(hook[1]).append("\",\"type\":\"filter\",\"hook\":\"").append(hook[1])
                    .append("\",\"prio\":-400,\"policy\":\"accept\"}}}");
            for (String protocol : List.of("tcp", "udp")) {
                rules.append(",{\"add\":{\"rule\":{\"family\":\"").append(hook[0]).append("\",\"table\":\"probetrace\",\"chain\":\"")
                        .append(hook[1]).append("\",\"expr\":[{\"match\":{\"op\":\"==\",\"left\":{\"payload\":{\"protocol\":\"")
                        .append(protocol).append("\",\"field\":\"sport\"}},\"right\":{\"range\":[20000,29999]}}},")
                        .append("{\"mangle\":{\"key\":{\"meta\":{\"key\":\"nftrace\"}},\"value\":1}}]}}}");
            }
        }
        return rules.toString();
    }

    private static final Pattern TRACE = Pattern.compile("trace id (\\S+) (inet|bridge) (\\S+) (\\S+) (.*)");
    private static final Pattern TRACE_SPORT = Pattern.compile("packet: .*(?:tcp|udp) sport (\\d+) .*");
    private static final Pattern TRACE_IP_ID = Pattern.compile("packet: .* ip id (\\d+) .*");
    private static final Pattern TRACE_RULE = Pattern.compile(".*handle (\\d+) \\(verdict .*");

    /** One line of {@code nft monitor trace}. */
    private record TraceLine(String id, String family, String table, String chain, String rest) {}

    private static List<TraceLine> kernelTraces() {
        List<TraceLine> out = new ArrayList<>();
        for (String line = traces.poll(); line != null; line = traces.poll()) {
            Matcher m = TRACE.matcher(line.strip());
            if (m.matches()) {
                out.add(new TraceLine(m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)));
            }
        }
        return out;
    }

    /**
     * Corral's rules as nft's trace saw a probe's first packet: "family chain handle" or "family
     * chain policy V". A packet starts where its path starts (the trace table's chain of its first
     * hook prints it); later packets of the connection, with the same source port, start there again.
     */
    private static Optional<List<String>> kernelTrace(List<TraceLine> lines, Probe probe) {
        String startFamily = probe.from().kind() == Kind.VM || probe.from().kind() == Kind.CT ? "bridge" : "inet";
        String startChain = probe.from().kind() == Kind.HOST ? "output" : "prerouting";
        // the kernel may trace one packet under several ids (a new one where it enters the host's own stack): follow
        // its source port and IP id from the trace table's "packet:" lines
        java.util.Set<String> ids = new java.util.HashSet<>();
        String ipId = null;
        List<String> out = new ArrayList<>();
        for (TraceLine line : lines) {
            if (line.table().equals("probetrace") && line.rest().startsWith("packet: ")) {
                Matcher sport = TRACE_SPORT.matcher(line.rest());
                Matcher ip = TRACE_IP_ID.matcher(line.rest());
                boolean ours = sport.matches() && Integer.parseInt(sport.group(1)) == probe.sport() && ip.matches();
                boolean start = line.family().equals(startFamily) && line.chain().equals(startChain);
                if (!ours) {
                    ids.remove(line.id());
                } else if (ipId == null && start) {
                    ipId = ip.group(1);
                    ids.add(line.id());
                } else if (ipId != null && start) {
                    break;
                } else if (ipId != null && ip.group(1).equals(ipId)) {
                    ids.add(line.id());
                }
                continue;
            }
            if (ipId == null || !ids.contains(line.id()) || !line.table().equals(NftCompiler.TABLE)) {
                continue;
            }
            Matcher rule = TRACE_RULE.matcher(line.rest());
            if (rule.matches()) {
                out.add(line.family() + " " + line.chain() + " " + rule.group(1));
            } else if (line.rest().startsWith("policy ")) {
                out.add(line.family() + " " + line.chain() + " policy " + line.rest().split(" ")[1]);
            }
        }
        return ipId == null ? Optional.empty() : Optional.of(out);
    }

    /** The simulator's steps for the first packet in the same terms, rule positions turned into the handles nft gave them. */
    private static List<String> simulatedTrace(Result result, Map<String, List<Integer>> handles) {
        List<String> out = new ArrayList<>();
        for (NftSimulator.Step step : result.trace()) {
            if (!step.packet().equals("request")) {
                continue;
            }
            String chain = step.family() + " " + step.chain();
            out.add(step.rule() < 0 ? chain + " " + step.action() : chain + " " + handles.get(chain).get(step.rule()));
        }
        return out;
    }

    /** The handles of Corral's rules, by "family chain", in chain order. */
    private static Map<String, List<Integer>> handles() {
        Map<String, List<Integer>> out = new java.util.HashMap<>();
        for (String family : List.of("inet", "bridge")) {
            String json = NftApplier.inNamespace(net.host).nft("-a", "-j", "list", "table", family, NftCompiler.TABLE);
            for (tools.jackson.databind.JsonNode item : org.corral.core.json.Json.mapper().readTree(json).get("nftables")) {
                if (item.has("rule")) {
                    tools.jackson.databind.JsonNode rule = item.get("rule");
                    out.computeIfAbsent(family + " " + rule.get("chain").asString(), k -> new ArrayList<>()).add(rule.get("handle").asInt());
                }
            }
        }
        return out;
    }

    private static String namespace(Kind kind) {
        return switch (kind) {
            case HOST -> net.host;
            case OUTSIDE -> net.out;
            case VM -> net.vm;
            case CT -> net.ct;
        };
    }

    /** What a real probe gives when the simulator is right: answered, refused, or nothing. */
    private static int expected(Result result) {
        if (result.connects()) {
            return 0;
        }
        return result.verdict() == Verdict.REJECT ? 2 : 3;
    }

    @Test
    void simulatorVerdictEqualsRealDeliveryForGeneratedRulesetsAndPackets() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        long started = System.nanoTime();
        int id = 20000;
        int probes = 0;
        int tracedPackets = 0;
        List<String> traceMismatches = new ArrayList<>();
        Map<Integer, Integer> outcomes = new java.util.TreeMap<>();
        List<String> mismatches = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            Rulesets.Files files = Rulesets.random(random);
            store.overwrite(FirewallService.CLUSTER_FILE, files.cluster());
            store.overwrite(FirewallService.hostFile("pve1"), files.host());
            store.overwrite(FirewallService.guestFile(100), files.vm());
            store.overwrite(FirewallService.guestFile(101), files.ct());
            store.overwrite("nodes/pve1/qemu-server/100.conf", files.vmFirewall() ? NetnsTopology.VM_CONF
                    : NetnsTopology.VM_CONF.replace("firewall=1", "firewall=0"));
            FirewallEnforcer.Status status = enforcer.applyNow();
            assertTrue(status.state() == FirewallEnforcer.State.APPLIED || status.state() == FirewallEnforcer.State.DISABLED,
                    status.message());
            // the simulator resolves addresses as from a cold start; a neighbor learnt under an earlier ruleset would skip that
            for (String ns : net.namespaces()) {
                NetnsTopology.sh("ip", "-n", ns, "neigh", "flush", "all");
            }
            NftSimulator.Model model = enforcer.model();
            Map<String, List<Integer>> handles = model.compiled().enabled() ? handles() : Map.of();
            traces.clear();
            assertTrue(model.applied(), "the model is the applied ruleset");
            List<Probe> batch = new ArrayList<>();
            List<Result> predicted = new ArrayList<>();
            List<Integer> ids = new ArrayList<>();
            for (int t = 0; t < TUPLES; t++) {
                Probe probe = tuple(random, id);
                batch.add(probe);
                predicted.add(NftSimulator.simulate(model, probe, hostNet));
                ids.add(id);
                answers.put(id, new CompletableFuture<>());
                id++;
            }
            for (int i = 0; i < batch.size(); i++) {
                send(ids.get(i), batch.get(i));
            }
            for (int i = 0; i < batch.size(); i++) {
                int real = answers.get(ids.get(i)).get(10, TimeUnit.SECONDS);
                int want = expected(predicted.get(i));
                outcomes.merge(real, 1, Integer::sum);
                probes++;
                if (real != want) {
                    mismatches.add("seed " + seed + " round " + round + ": " + describe(batch.get(i)) + " real " + real + ", simulated "
                            + predicted.get(i).verdict() + "/" + predicted.get(i).reply() + " (expected " + want + ")\n  trace: "
                            + predicted.get(i).trace().stream().map(s -> s.packet() + " " + s.family() + " " + s.chain() + "#" + s.rule()
                                    + " " + s.action() + s.comment().map(c -> " [" + c + "]").orElse("")).toList()
                            + "\n" + files);
                }
            }
            if (model.compiled().enabled()) {
                // the kernel's trace lines of the round's last packets may still be on their way
                Thread.sleep(200);
                List<TraceLine> kernel = kernelTraces();
                for (int i = 0; i < batch.size(); i++) {
                    if (batch.get(i).protocol().equals("icmp")) {
                        continue;
                    }
                    Optional<List<String>> traced = kernelTrace(kernel, batch.get(i));
                    if (traced.isEmpty()) {
                        continue;
                    }
                    List<String> seen = traced.get();
                    tracedPackets++;
                    List<String> simulated = simulatedTrace(predicted.get(i), handles);
                    if (!seen.equals(simulated)) {
                        traceMismatches.add("round " + round + ": " + describe(batch.get(i)) + "\n  kernel:    " + seen
                                + "\n  simulated: " + simulated);
                    }
                }
            }
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.println("nft monitor trace: " + tracedPackets + " first packets traced by the kernel, through the same rules as"
                + " simulated: " + (tracedPackets - traceMismatches.size()) + "; differing: " + traceMismatches.size());
        traceMismatches.forEach(m -> System.out.println("TRACE MISMATCH " + m));
        System.out.println("Simulator against real delivery: " + probes + " packets over " + ROUNDS + " random rulesets in " + millis
                + " ms; real outcomes (0 answered, 2 refused, 3 nothing): " + outcomes + "; mismatches: " + mismatches.size()
                + " (seed " + seed + "); slowest answer " + slowest.get() + " ms");
        mismatches.forEach(m -> System.out.println("MISMATCH " + m.substring(0, m.indexOf("\n---"))));
        assertTrue(mismatches.isEmpty(), mismatches.size() + " mismatches, first: " + (mismatches.isEmpty() ? "" : mismatches.getFirst()));
        assertTrue(probes >= 500, "probes: " + probes);
        assertTrue(traceMismatches.isEmpty(), traceMismatches.size() + " trace mismatches, first: "
                + (traceMismatches.isEmpty() ? "" : traceMismatches.getFirst()));
        assertTrue(tracedPackets >= 100, "traced: " + tracedPackets);
        // every kind of outcome came up, so the comparison means something
        assertEquals(3, outcomes.size(), "outcomes " + outcomes);
    }

    private static String describe(Probe p) {
        return p.from() + " -> " + p.to() + " " + p.protocol() + " " + p.source().getHostAddress() + ":" + p.sport() + " -> "
                + p.dest().getHostAddress() + (p.protocol().equals("icmp") ? " type " + p.icmpType() : ":" + p.dport());
    }

    private static void send(int id, Probe p) throws IOException {
        String line = p.protocol().equals("icmp")
                ? id + " icmp " + p.source().getHostAddress() + " " + p.dest().getHostAddress() + " " + (id & 0xffff) + " " + p.icmpType()
                        + " " + TIMEOUT
                : id + " " + p.protocol() + " " + p.source().getHostAddress() + " " + p.dest().getHostAddress() + " " + p.sport() + " "
                        + p.dport() + " " + TIMEOUT;
        OutputStream prober = probers.get(p.from().kind());
        synchronized (prober) {
            prober.write((line + "\n").getBytes(UTF_8));
            prober.flush();
        }
    }

    private static Probe tuple(Random random, int id) throws IOException {
        Kind[] kinds = Kind.values();
        Kind from;
        Kind to;
        do {
            from = kinds[random.nextInt(kinds.length)];
            to = kinds[random.nextInt(kinds.length)];
        } while (from == to && from != Kind.HOST);
        List<String> sources = ADDRESSES.get(from);
        List<String> dests = ADDRESSES.get(to);
        if (random.nextInt(4) == 0) {
            // IPv6 on the bridge; the sender's own address, as another one's failed neighbor solicitation would hold it up
            from = random.nextBoolean() ? Kind.VM : Kind.CT;
            to = from == Kind.VM ? Kind.CT : Kind.VM;
            sources = ADDRESSES6.get(from).subList(0, 1);
            dests = ADDRESSES6.get(to);
        }
        String source = sources.get(random.nextInt(sources.size()));
        String dest = dests.get(random.nextInt(dests.size()));
        int pick = random.nextInt(10);
        String protocol = pick < 5 ? "tcp" : pick < 8 ? "udp" : "icmp";
        InetAddress s = InetAddress.getByName(source);
        InetAddress d = InetAddress.getByName(dest);
        if (protocol.equals("icmp")) {
            return new Probe(endpoint(from), endpoint(to), protocol, s, d, 0, 0, source.contains(":") ? 128 : 8, -1);
        }
        return new Probe(endpoint(from), endpoint(to), protocol, s, d, id, PORTS[random.nextInt(PORTS.length)], -1, -1);
    }

    private static Endpoint endpoint(Kind kind) {
        return new Endpoint(kind, kind == Kind.VM ? 100 : kind == Kind.CT ? 101 : 0);
    }

    /** Random {@code .fw} files over the topology's addresses and ports. */
    static final class Rulesets {
        record Files(String cluster, String host, String vm, String ct, boolean vmFirewall) {
            @Override
            public String toString() {
                return "--- cluster.fw\n" + cluster + "--- host.fw\n" + host + "--- 100.fw (firewall=" + (vmFirewall ? 1 : 0) + ")\n" + vm
                        + "--- 101.fw\n" + ct;
            }
        }

        private static final String[] DPORTS = {"80", "81", "22", "80:82", "443,8006", "ssh", "81,82,443", "8006"};
        private static final String[] SPORTS = {"20000:20299", "20300:65535", "1:19999", "20100:20400"};
        private static final String[] ICMP_TYPES = {"echo-request", "echo-reply", "timestamp-request", "8", "destination-unreachable"};
        private static final String[] MACROS = {"HTTP", "SSH", "Ping", "Web", "DNS"};
        private static final String[] ADDRESS_REFS = {"10.77.0.0/24", "10.78.0.0/24", "+trusted", "lan", "admin", "10.77.0.10-10.77.0.20",
                "10.77.0.11,10.78.0.2", "10.77.0.48/28", "fd77::/64", "lan6", "fd77::10-fd77::20", "fd77::11,fd77::51"};

        private Rulesets() {}

        static Files random(Random r) {
            StringBuilder cluster = new StringBuilder("[OPTIONS]\nenable: ").append(r.nextInt(20) == 0 ? 0 : 1).append('\n');
            cluster.append("policy_in: ").append(pick(r, "DROP", "ACCEPT", "REJECT")).append('\n');
            cluster.append("policy_out: ").append(pick(r, "ACCEPT", "ACCEPT", "DROP", "REJECT")).append('\n');
            cluster.append("policy_forward: ").append(pick(r, "ACCEPT", "ACCEPT", "DROP")).append('\n');
            cluster.append("\n[ALIASES]\nlocal_network 10.99.99.0/24\nlan 10.77.0.0/24\nlan6 fd77::/64\nadmin ").append(NetnsTopology.ADMIN).append('\n');
            cluster.append("\n[IPSET management]\n").append(r.nextBoolean() ? NetnsTopology.ADMIN + "\n" : "");
            cluster.append("\n[IPSET blacklist]\n").append(r.nextInt(3) == 0 ? NetnsTopology.BLACKLISTED + "\n" : "");
            cluster.append("\n[IPSET trusted]\n10.77.0.0/24\n");
            if (r.nextBoolean()) {
                cluster.append("fd77::/64\n");
            }
            if (r.nextBoolean()) {
                cluster.append("!fd77::50\n");
            }
            if (r.nextBoolean()) {
                cluster.append("!").append(VM_SPOOF).append('\n');
            }
            if (r.nextBoolean()) {
                cluster.append(NetnsTopology.ADMIN).append('\n');
            }
            cluster.append("\n[group g1]\n");
            for (int i = r.nextInt(4); i > 0; i--) {
                cluster.append(rule(r, new String[] {"IN", "OUT"}, false)).append('\n');
            }
            cluster.append("\n[RULES]\n");
            for (int i = r.nextInt(3); i > 0; i--) {
                cluster.append(rule(r, new String[] {"IN", "OUT"}, true)).append('\n');
            }
            StringBuilder host = new StringBuilder("[OPTIONS]\nenable: ").append(r.nextInt(10) == 0 ? 0 : 1).append('\n');
            host.append("tcpflags: ").append(r.nextInt(2)).append('\n');
            host.append("\n[RULES]\n");
            for (int i = r.nextInt(6); i > 0; i--) {
                host.append(rule(r, new String[] {"IN", "IN", "OUT", "FORWARD"}, true)).append('\n');
            }
            return new Files(cluster.toString(), host.toString(), guest(r, true), guest(r, false), r.nextInt(8) != 0);
        }

        private static String guest(Random r, boolean vm) {
            StringBuilder fw = new StringBuilder("[OPTIONS]\nenable: ").append(r.nextInt(8) == 0 ? 0 : 1).append('\n');
            fw.append("policy_in: ").append(pick(r, "DROP", "ACCEPT", "REJECT")).append('\n');
            fw.append("policy_out: ").append(pick(r, "ACCEPT", "ACCEPT", "DROP", "REJECT")).append('\n');
            boolean ipfilter = r.nextInt(3) == 0;
            fw.append("ipfilter: ").append(ipfilter ? 1 : 0).append('\n');
            if (vm && (ipfilter ? r.nextInt(4) != 0 : r.nextInt(4) == 0)) {
                fw.append("\n[IPSET ipfilter-net0]\n").append(NetnsTopology.VM_IP).append('\n');
            }
            fw.append("\n[RULES]\n");
            if (r.nextInt(3) == 0) {
                fw.append("GROUP g1").append(r.nextInt(4) == 0 ? " -i net0" : "").append('\n');
            }
            for (int i = r.nextInt(7); i > 0; i--) {
                fw.append(rule(r, new String[] {"IN", "IN", "OUT"}, false)).append('\n');
            }
            return fw.toString();
        }

        private static String rule(Random r, String[] directions, boolean hostIface) {
            StringBuilder line = new StringBuilder();
            if (r.nextInt(20) == 0) {
                line.append('|');
            }
            String direction = pick(r, directions);
            line.append(direction).append(' ');
            String action = pick(r, "ACCEPT", "ACCEPT", "DROP", "REJECT");
            if (direction.equals("FORWARD") && action.equals("REJECT")) {
                action = "DROP";
            }
            if (r.nextInt(7) == 0) {
                line.append(pick(r, MACROS)).append('(').append(action).append(')');
            } else {
                line.append(action);
                int p = r.nextInt(10);
                if (p < 4) {
                    l4(r, line, "tcp");
                } else if (p < 6) {
                    l4(r, line, "udp");
                } else if (p < 8) {
                    if (r.nextInt(3) == 0) {
                        line.append(" -p ").append(pick(r, "icmpv6", "ipv6-icmp"));
                        if (r.nextBoolean()) {
                            line.append(" -icmp-type ").append(pick(r, "echo-request", "echo-reply", "destination-unreachable"));
                        }
                    } else {
                        line.append(" -p icmp");
                        if (r.nextBoolean()) {
                            line.append(" -icmp-type ").append(pick(r, ICMP_TYPES));
                        }
                    }
                }
            }
            if (hostIface && r.nextInt(6) == 0) {
                line.append(" -i ").append(pick(r, "br0", "up0"));
            }
            if (r.nextInt(3) == 0) {
                line.append(" -source ").append(address(r));
            }
            if (r.nextInt(4) == 0) {
                line.append(" -dest ").append(address(r));
            }
            if (r.nextInt(10) == 0) {
                line.append(" -log info");
            }
            if (r.nextInt(10) == 0) {
                line.append(" # generated");
            }
            return line.toString();
        }

        private static void l4(Random r, StringBuilder line, String proto) {
            line.append(" -p ").append(proto);
            if (r.nextInt(5) < 3) {
                line.append(" -dport ").append(pick(r, DPORTS));
            }
            if (r.nextInt(6) == 0) {
                line.append(" -sport ").append(pick(r, SPORTS));
            }
        }

        private static String address(Random r) {
            return r.nextBoolean() ? pick(r, ALL_ADDRESSES.toArray(String[]::new)) : pick(r, ADDRESS_REFS);
        }

        private static String pick(Random r, String... values) {
            return values[r.nextInt(values.length)];
        }
    }
}
