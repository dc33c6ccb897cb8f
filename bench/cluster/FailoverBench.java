import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.corral.cluster.StoreTls;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 11: kill -9 of the node whose store member leads, under a steady write load, and the time
 * until the next write succeeds. Three `corral up` processes on loopback form a cluster with
 * `corral cluster`; a writer changes datacenter.cfg through a node that survives, as fast as it
 * is answered. Each run finds the leader (ZooKeeper's `srvr` over the store's TLS), kills its
 * node with SIGKILL, waits for the first write started after the kill to succeed, then restarts
 * the node and waits for all three to be online again.
 */
public class FailoverBench {
    private static final String PASSWORD = "failover-bench-1";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int basePort = args.length > 1 ? Integer.parseInt(args[1]) : 18_006;
        Path dir = Files.createTempDirectory("corral-failover-bench");
        Process[] nodes = new Process[3];
        try {
            for (int i = 0; i < 3; i++) {
                nodes[i] = up(dir, i, basePort);
            }
            for (int i = 0; i < 3; i++) {
                awaitReady(dir, i, nodes[i]);
            }
            String create = cli(dir, 0, "cluster", "create", "bench");
            awaitTask(dir, 0, upid(create));
            String fingerprint = access(dir, 0).path("fingerprint").asString();
            for (int i = 1; i < 3; i++) {
                String token = Pattern.compile("corral-join-[A-Za-z0-9_-]+").matcher(cli(dir, 0, "cluster", "token")).results()
                        .findFirst().orElseThrow().group();
                String join = cli(dir, i, "cluster", "join", "127.0.0.1:" + (basePort), "--fingerprint", fingerprint, "--token", token);
                awaitTask(dir, i, upid(join));
            }
            awaitOnline(dir, 0, basePort);
            System.out.printf("cluster of 3 formed; %d runs%n", runs);

            List<Double> seconds = new ArrayList<>();
            for (int run = 1; run <= runs; run++) {
                int leader = leader(dir, basePort);
                int writerNode = (leader + 1) % 3;
                Writer writer = new Writer(dir, writerNode, basePort + writerNode);
                Thread thread = Thread.ofPlatform().start(writer);
                writer.awaitFirstSuccess();
                long killed = System.nanoTime();
                nodes[leader].destroyForcibly();
                writer.killedAt.set(killed);
                double took = writer.awaitSuccessAfterKill() / 1e9;
                writer.stop.set(true);
                thread.join();
                seconds.add(took);
                System.out.printf("run %2d: killed pve%d (leader), writes through pve%d: next write after %.3f s (%d writes failed)%n",
                        run, leader + 1, writerNode + 1, took, writer.failures.get());
                nodes[leader].waitFor(30, TimeUnit.SECONDS);
                nodes[leader] = up(dir, leader, basePort);
                awaitReady(dir, leader, nodes[leader]);
                awaitOnline(dir, writerNode, basePort);
            }
            double[] sorted = seconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf("time until the next write after kill -9 of the leader's node, %d runs: p50 %.3f s, p95 %.3f s, max %.3f s%n",
                    sorted.length, percentile(sorted, 50), percentile(sorted, 95), sorted[sorted.length - 1]);
        } finally {
            for (Process node : nodes) {
                if (node != null) {
                    node.destroyForcibly();
                    node.waitFor(30, TimeUnit.SECONDS);
                }
            }
            try (var all = Files.walk(dir)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Writes datacenter.cfg through one node as fast as it answers, recording successes. */
    static final class Writer implements Runnable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong killedAt = new AtomicLong(Long.MAX_VALUE);
        final AtomicLong firstAfterKill = new AtomicLong(-1);
        final AtomicLong successes = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        private final HttpClient http;
        private final URI uri;
        private final String secret;

        Writer(Path dir, int node, int port) throws Exception {
            this.http = HttpClient.newBuilder().sslContext(trustAll()).connectTimeout(Duration.ofSeconds(5)).build();
            this.uri = URI.create("https://127.0.0.1:" + port + "/api2/json/cluster/options");
            this.secret = access(dir, node).path("secret").asString();
        }

        @Override
        public void run() {
            long n = 0;
            while (!stop.get()) {
                long started = System.nanoTime();
                boolean ok;
                try {
                    HttpResponse<String> answer = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                            .header("Authorization", "CorralLocal " + secret)
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .PUT(HttpRequest.BodyPublishers.ofString("description=write-" + (n++))).build(), HttpResponse.BodyHandlers.ofString());
                    ok = answer.statusCode() == 200;
                } catch (Exception e) {
                    ok = false;
                }
                if (ok) {
                    successes.incrementAndGet();
                    if (started > killedAt.get() && firstAfterKill.get() < 0) {
                        firstAfterKill.set(System.nanoTime() - killedAt.get());
                    }
                } else {
                    failures.incrementAndGet();
                    sleep(20);
                }
            }
        }

        void awaitFirstSuccess() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (successes.get() == 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no write succeeded before the kill");
                }
                sleep(10);
            }
        }

        long awaitSuccessAfterKill() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (firstAfterKill.get() < 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no write succeeded within 120 s of the kill");
                }
                sleep(5);
            }
            return firstAfterKill.get();
        }
    }

    /** The node whose member leads, asked with ZooKeeper's `srvr` over each member's TLS client port. */
    static int leader(Path dir, int basePort) throws Exception {
        for (int attempt = 0; attempt < 600; attempt++) {
            for (int i = 0; i < 3; i++) {
                StoreTls tls = StoreTls.loadOrCreate(dataDir(dir, i).resolve("local/zookeeper/tls"), "pve" + (i + 1));
                try (SSLSocket socket = (SSLSocket) tls.sslContext().getSocketFactory().createSocket("127.0.0.1", basePort + i + 10_000)) {
                    socket.setSoTimeout(2000);
                    OutputStream out = socket.getOutputStream();
                    out.write("srvr".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                    if (answer.contains("Mode: leader")) {
                        return i;
                    }
                } catch (Exception notServing) {
                    // restarting or not a leader
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no member says it leads");
    }

    static Process up(Path dir, int i, int basePort) throws Exception {
        Path data = Files.createDirectories(dataDir(dir, i));
        // a node killed with SIGKILL leaves its file behind: awaitReady waits for the new one
        Files.deleteIfExists(org.corral.server.CorralDaemon.localAccessFile(data));
        String java = ProcessHandle.current().info().command().orElseThrow();
        return new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Djdk.tls.client.enableCAExtension=true",
                "-cp", System.getProperty("java.class.path"), "org.corral.cli.Main", "up", "--data-dir", data.toString(),
                "--port", Integer.toString(basePort + i), "--bind", "127.0.0.1", "--node", "pve" + (i + 1),
                "--admin-password", PASSWORD, "--firewall", "off")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("pve" + (i + 1) + ".log").toFile()))
                .start();
    }

    static Path dataDir(Path dir, int i) {
        return dir.resolve("pve" + (i + 1));
    }

    static JsonNode access(Path dir, int i) throws Exception {
        return JSON.readTree(Files.readString(org.corral.server.CorralDaemon.localAccessFile(dataDir(dir, i))));
    }

    static void awaitReady(Path dir, int i, Process process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!Files.exists(org.corral.server.CorralDaemon.localAccessFile(dataDir(dir, i)))) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("pve" + (i + 1) + " did not start; see " + dir.resolve("pve" + (i + 1) + ".log"));
            }
            Thread.sleep(200);
        }
    }

    /** Until the node answers /cluster/status with 3 members online and a quorum. */
    static void awaitOnline(Path dir, int i, int basePort) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            try {
                JsonNode status = JSON.readTree(cli(dir, i, "api", "get", "/cluster/status", "--output-format", "json").replaceFirst("(?s)^[^\\[]*", ""));
                long online = status.valueStream().filter(e -> e.path("type").asString().equals("node") && e.path("online").asInt() == 1).count();
                if (online == 3 && status.get(0).path("quorate").asInt() == 1) {
                    return;
                }
            } catch (Exception restarting) {
                // the node is starting
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the cluster did not have 3 nodes online within 180 s");
    }

    static String cli(Path dir, int i, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), "org.corral.cli.Main"));
        command.addAll(Arrays.asList(args));
        command.addAll(List.of("--data-dir", dataDir(dir, i).toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            out = String.join("\n", reader.lines().toList());
        }
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", args) + " failed: " + out);
        }
        return out;
    }

    static String upid(String output) {
        return Pattern.compile("UPID:[^\\s\"]+").matcher(output).results().findFirst()
                .orElseThrow(() -> new IllegalStateException("no UPID in: " + output)).group();
    }

    static void awaitTask(Path dir, int i, String upid) throws Exception {
        String node = upid.split(":")[1];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            try {
                String out = cli(dir, i, "api", "get", "/nodes/" + node + "/tasks/" + upid + "/status", "--output-format", "json");
                JsonNode status = JSON.readTree(out.substring(out.indexOf('{')));
                if (status.path("status").asString().equals("stopped")) {
                    if (!status.path("exitstatus").asString().equals("OK")) {
                        throw new IllegalStateException("task " + upid + ": " + status.path("exitstatus").asString());
                    }
                    return;
                }
            } catch (IllegalStateException e) {
                if (e.getMessage().startsWith("task ")) {
                    throw e;
                }
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("task " + upid + " did not end");
    }

    static double percentile(double[] sorted, int p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static SSLContext trustAll() throws Exception {
        // a benchmark on loopback against nodes it started itself
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String auth) {}
            public void checkServerTrusted(X509Certificate[] chain, String auth) {}
            public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        }}, null);
        return context;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
