import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.time.Clock;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.node.Node;
import org.corral.core.process.ProcessRunner;
import org.corral.firewall.FirewallService;
import org.corral.firewall.Alias;
import org.corral.firewall.FwConfig;
import org.corral.firewall.FwKind;
import org.corral.firewall.FwParser;
import org.corral.firewall.nft.FirewallEnforcer;
import org.corral.firewall.nft.FirewallInputs;
import org.corral.firewall.nft.Guest;
import org.corral.firewall.nft.GuestNics;
import org.corral.firewall.nft.NftApplier;
import org.corral.firewall.nft.NftCompiler;
import org.corral.firewall.nft.Services;

/**
 * Firewall apply time (issue 15): 10,000 rules over 100 guests parsed, compiled and loaded with
 * {@code nft -j -f -}, next to {@code nft -f} of the same ruleset as text, and the time of a
 * one-rule edit through the node's enforcer (store write to delta of that guest's chains loaded). Runs nft in a network namespace of its
 * own, removed at the end. Medians of several runs. Not part of the test suite.
 */
public final class FirewallBench {
    private static final int GUESTS = 100;
    private static final int RULES_PER_GUEST = 100;
    private static final int RUNS = 7;
    private static final String CLUSTER_FW = "[OPTIONS]\nenable: 1\n\n[IPSET management]\n192.0.2.10\n\n[IPSET blacklist]\n203.0.113.0/24\n";
    private static final String HOST_FW = "[RULES]\nIN SSH(ACCEPT)\n";

    public static void main(String[] args) throws Exception {
        String ns = "fwbench" + ProcessHandle.current().pid();
        sh("ip", "netns", "add", ns);
        Path dir = Files.createTempDirectory("corral-fw-bench");
        try {
            NftApplier nft = NftApplier.inNamespace(ns);
            NftCompiler compiler = new NftCompiler(Services.system());
            List<String> guestFiles = new ArrayList<>();
            for (int g = 0; g < GUESTS; g++) {
                guestFiles.add(guestFile(g, 0));
            }
            long cold0 = System.nanoTime();
            FirewallInputs first = inputs(guestFiles);
            NftCompiler.Compiled warm = compiler.compile(first);
            long cold = System.nanoTime() - cold0;
            if (args.length > 0) {
                // bench/firewall/run FILE: write the batch there and stop
                Files.writeString(Path.of(args[0]), warm.json());
                return;
            }
            nft.apply(warm.json());

            long[] compile = new long[RUNS];
            long[] load = new long[RUNS];
            long[] total = new long[RUNS];
            NftCompiler.Compiled compiled = warm;
            for (int i = 0; i < RUNS; i++) {
                long t0 = System.nanoTime();
                compiled = compiler.compile(inputs(guestFiles));
                long t1 = System.nanoTime();
                nft.apply(compiled.json());
                long t2 = System.nanoTime();
                compile[i] = t1 - t0;
                load[i] = t2 - t1;
                total[i] = t2 - t0;
            }

            // the same ruleset as nft's own text, loaded with nft -f after removing our tables
            String text = nft.nft("list", "table", "inet", NftCompiler.TABLE) + nft.nft("list", "table", "bridge", NftCompiler.TABLE);
            Path file = dir.resolve("ruleset.nft");
            Files.writeString(file, "table inet corral\ndelete table inet corral\ntable bridge corral\ndelete table bridge corral\n"
                    + text);
            long[] plain = new long[RUNS];
            for (int i = 0; i < RUNS; i++) {
                long t0 = System.nanoTime();
                nft.nft("-f", file.toString());
                plain[i] = System.nanoTime() - t0;
            }
            nft.apply(compiled.json());

            // one-rule edits through the node's enforcer: config-store write, watch, parse of the changed
            // file, compile, delta load of that guest's chains; timed until the apply has returned
            long[] edit = new long[RUNS];
            InMemoryConfigStore store = new InMemoryConfigStore();
            store.overwrite(FirewallService.CLUSTER_FILE, CLUSTER_FW);
            store.overwrite(FirewallService.hostFile("bench"), HOST_FW);
            for (int g = 0; g < GUESTS; g++) {
                store.overwrite(FirewallService.guestFile(1000 + g), guestFiles.get(g));
                store.overwrite("nodes/bench/qemu-server/" + (1000 + g) + ".conf", "net0: virtio=" + mac(g) + ",bridge=vmbr0,firewall=1\n");
            }
            Node node = new Node("bench", dir.resolve("data"), dir.resolve("run"), "127.0.0.1", 8006, new Node.ZooKeeperPorts(0, 0, 0));
            long editDelta;
            try (FirewallEnforcer enforcer = new FirewallEnforcer(new FirewallService(node, store), nft, new NftCompiler(Services.system()),
                    Clock.systemUTC())) {
                enforcer.start();
                await(enforcer, 1);
                for (int i = 0; i < RUNS; i++) {
                    long generation = enforcer.status().generation();
                    long t0 = System.nanoTime();
                    store.overwrite(FirewallService.guestFile(1042), guestFile(42, i + 1));
                    await(enforcer, generation + 1);
                    edit[i] = System.nanoTime() - t0;
                    if (enforcer.status().state() != FirewallEnforcer.State.APPLIED) {
                        throw new IllegalStateException(enforcer.status().message());
                    }
                }
            }

            System.out.printf("ruleset: %d guests x %d rules = %d rules in the .fw files; %d nft rules (short port lists"
                    + " become one rule per port), %d KiB of JSON%n", GUESTS, RULES_PER_GUEST, GUESTS * RULES_PER_GUEST, compiled.rules(),
                    compiled.json().length() / 1024);
            System.out.printf("parse+compile, first       %7.1f ms (cold JVM, nothing to reuse)%n", cold / 1e6);
            System.out.printf("parse+compile              %7.1f ms (unchanged guests' chains reused)%n", median(compile));
            System.out.printf("nft -j -f - (load)         %7.1f ms%n", median(load));
            System.out.printf("compile+apply (total)      %7.1f ms%n", median(total));
            System.out.printf("nft -f same ruleset (text) %7.1f ms%n", median(plain));
            System.out.printf("one-rule edit (write to in force, via the enforcer) %7.1f ms%n", median(edit));
        } finally {
            ProcessRunner.of("ip", "netns", "del", ns).run();
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    /** Guest g's file: IN and OUT rules over ports, sources and macros; {@code variant} changes one rule. */
    static String guestFile(int g, int variant) {
        StringBuilder fw = new StringBuilder("[OPTIONS]\nenable: 1\npolicy_in: DROP\n\n[IPSET trusted]\n10." + g + ".0.0/16\n!10." + g
                + ".9.0/24\n\n[RULES]\n");
        for (int r = 0; r < RULES_PER_GUEST; r++) {
            if (r == 0) {
                fw.append("IN ACCEPT -p tcp -dport ").append(10000 + variant).append(" # edited\n");
            } else if (r % 10 == 1) {
                fw.append("IN HTTPS(ACCEPT) -source +trusted\n");
            } else if (r % 3 == 0) {
                fw.append("OUT DROP -p udp -dport ").append(20000 + r).append(" -dest 192.0.2.").append(r).append('\n');
            } else {
                fw.append("IN ACCEPT -p tcp -dport ").append(1000 + r).append(',').append(3000 + r)
                        .append(" -source 198.51.").append(g).append('.').append(r).append('\n');
            }
        }
        return fw.toString();
    }

    static FirewallInputs inputs(List<String> guestFiles) {
        FwConfig cluster = FwParser.parse("cluster.fw", CLUSTER_FW, FwKind.CLUSTER).config();
        FwConfig host = FwParser.parse("host.fw", HOST_FW, FwKind.HOST).config();
        List<Guest> guests = new ArrayList<>();
        for (int g = 0; g < guestFiles.size(); g++) {
            int vmid = 1000 + g;
            FwConfig fw = FwParser.parse(vmid + ".fw", guestFiles.get(g), FwKind.GUEST).config();
            guests.add(new Guest(vmid, false, fw, GuestNics.parse(vmid, false, "net0: virtio=" + mac(g) + ",bridge=vmbr0,firewall=1\n")));
        }
        return new FirewallInputs(cluster, List.of(new Alias("local_network", "192.168.0.0/24", Optional.empty())), host, guests,
                List.of(8006, 22, 3128));
    }

    static String mac(int g) {
        return String.format("BC:24:11:00:%02X:%02X", g / 256, g % 256);
    }

    static void await(FirewallEnforcer enforcer, long generation) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (enforcer.status().generation() < generation) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no apply within 60 s");
            }
            Thread.sleep(1);
        }
    }

    static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2] / 1e6;
    }

    static void sh(String... command) {
        ProcessRunner.of(command).run().check();
    }
}
