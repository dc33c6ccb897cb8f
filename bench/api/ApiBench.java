import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.corral.core.json.Json;
import org.corral.server.CorralDaemon;
import org.corral.cluster.tls.CertificateAuthority;
import org.corral.cluster.tls.CertifiedKey;
import org.corral.server.tls.NodeTls;
import org.corral.cluster.tls.SubjectAltNames;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.VirtualThreadPool;
import tools.jackson.databind.JsonNode;

/**
 * API throughput: GET /api2/json/version with an API token and with a ticket cookie, and
 * /cluster/resources with 1,000 and 10,000 guest configs (as admin, gzipped, and as a user who may
 * see 100 of them through a pool), measured with wrk (TLS, keep-alive) on loopback. The baseline, measured in the same run,
 * is a bare Jetty HTTPS handler with the same TLS settings answering a constant /version body.
 * Run: bench/api/run [DURATION] [PART...], PART one of version, resources, tasks, content, users (listings: all three),
 * startup (default: all).
 */
public final class ApiBench {
    /** One wrk run; {@code cpuMicros}: this JVM's CPU time per answered request, which other load on the host moves less than req/s. */
    record Result(String name, double rps, double p99ms, double cpuMicros) {}

    public static void main(String[] args) throws Exception {
        String duration = args.length > 0 ? args[0] : "10s";
        java.util.Set<String> parts = args.length > 1 ? java.util.Arrays.stream(args).skip(1)
                .flatMap(a -> a.equals("listings") ? java.util.stream.Stream.of("tasks", "content", "users") : java.util.stream.Stream.of(a))
                .collect(java.util.stream.Collectors.toSet())
                : java.util.Set.of("version", "resources", "tasks", "content", "users", "startup");
        Path dir = Files.createTempDirectory("corral-bench");
        List<Result> results = new ArrayList<>();
        String tokenHeader;
        if (parts.contains("tasks")) {
            writeTaskIndex(dir.resolve("local/tasks"), 100_000);
        }
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options("benchnode", dir, "127.0.0.1", 0, Optional.of("bench-pass-1")))) {
            HttpClient http = insecureClient();
            String base = "https://127.0.0.1:" + daemon.port() + "/api2/json";
            System.out.println("serving " + base);
            JsonNode login = post(http, base + "/access/ticket", "username=admin%40pve&password=bench-pass-1", null, null);
            String ticket = login.path("data").path("ticket").asString();
            String csrf = login.path("data").path("CSRFPreventionToken").asString();
            JsonNode token = post(http, base + "/access/users/admin%40pve/token/bench", "privsep=0", ticket, csrf);
            String header = "PVEAPIToken=admin@pve!bench=" + token.path("data").path("value").asString();
            tokenHeader = header;
            // a user who may see 100 guests: PVEAuditor on a pool of 100 guests
            post(http, base + "/access/users", "userid=viewer%40pve", ticket, csrf);
            post(http, base + "/pools", "poolid=p100", ticket, csrf);
            send(http, "PUT", base + "/access/acl", "path=%2Fpool%2Fp100&roles=PVEAuditor&users=viewer%40pve", ticket, csrf);
            JsonNode viewerToken = post(http, base + "/access/users/viewer%40pve/token/bench", "privsep=0", ticket, csrf);
            String viewer = "PVEAPIToken=viewer@pve!bench=" + viewerToken.path("data").path("value").asString();

            Path lua = dir.resolve("auth.lua");
            Files.writeString(lua, "wrk.headers[\"Authorization\"] = \"" + header + "\"\n");
            Path gzip = dir.resolve("gzip.lua");
            Files.writeString(gzip, "wrk.headers[\"Authorization\"] = \"" + header + "\"\nwrk.headers[\"Accept-Encoding\"] = \"gzip\"\n");
            Path viewerLua = dir.resolve("viewer.lua");
            Files.writeString(viewerLua, "wrk.headers[\"Authorization\"] = \"" + viewer + "\"\n");
            Path cookie = dir.resolve("ticket.lua");
            Files.writeString(cookie, "wrk.headers[\"Cookie\"] = \"PVEAuthCookie=" + URLEncoder.encode(ticket, StandardCharsets.UTF_8) + "\"\n");

            results.add(baseline(duration));
            if (parts.contains("version")) {
                // the node has just started: let the JIT settle on the request path before the first figure
                wrk("warm-up", base + "/version", lua, duration);
                results.add(wrk("corral /version (API token)", base + "/version", lua, duration));
                results.add(wrk("corral /version (ticket cookie)", base + "/version", cookie, duration));
            }
            if (parts.contains("tasks") || parts.contains("content") || parts.contains("users")) {
                listings(parts, http, daemon, dir, base, lua, duration, results);
            }
            int written = 0;
            for (int size : parts.contains("resources") || parts.contains("startup") ? new int[] {1000, 10000} : new int[0]) {
                long started = System.nanoTime();
                writeGuests(daemon, written, size);
                written = size;
                if (size == 1000) {
                    StringBuilder vms = new StringBuilder();
                    for (int i = 0; i < 100; i++) {
                        vms.append(i == 0 ? "" : ",").append(1000 + i * 10);
                    }
                    send(http, "PUT", base + "/pools/p100", "vms=" + vms, ticket, csrf);
                }
                awaitListed(http, base, header, size);
                System.out.printf("%d guest configs written and listed in %.1f s%n", size, (System.nanoTime() - started) / 1e9);
                int seen = get(http, base + "/cluster/resources?type=vm", viewer).path("data").size();
                if (seen != 100) {
                    throw new IllegalStateException("expected the viewer to see 100 guests, got " + seen);
                }
                results.add(wrk("corral /cluster/resources, " + size + " guests", base + "/cluster/resources", lua, duration));
                results.add(wrk("  same, Accept-Encoding: gzip", base + "/cluster/resources", gzip, duration));
                results.add(wrk("  same, user who may see 100", base + "/cluster/resources", viewerLua, duration));
            }
        }
        // start-up: the same node again, on a store that holds 10,000 guest configs
        long restart = System.nanoTime();
        String readiness = "";
        if (parts.contains("startup")) try (CorralDaemon again = CorralDaemon.start(new CorralDaemon.Options("benchnode", dir, "127.0.0.1", 0, Optional.of("bench-pass-1")))) {
            double serving = (System.nanoTime() - restart) / 1e9;
            awaitListed(insecureClient(), "https://127.0.0.1:" + again.port() + "/api2/json", tokenHeader, 10000);
            double listed = (System.nanoTime() - restart) / 1e9;
            readiness = String.format("restart with 10,000 guest configs: serving after %.1f s, all 10,000 listed after %.1f s"
                    + " (target: ready within 10 s)", serving, listed);
        }
        Result baseline = results.get(0);
        System.out.println();
        if (!readiness.isEmpty()) {
            System.out.println(readiness);
        }
        System.out.printf("%-44s %12s %10s %14s %12s %14s%n", "benchmark (wrk -t2 -c32, TLS, keep-alive)", "req/s", "p99 ms",
                "vs baseline", "CPU us/req", "baseline/this");
        for (Result r : results) {
            System.out.printf("%-44s %12.0f %10.2f %13.2fx %12.1f %13.2fx%n", r.name(), r.rps(), r.p99ms(), r.rps() / baseline.rps(),
                    r.cpuMicros(), baseline.cpuMicros() / r.cpuMicros());
        }
        System.out.println("targets: /version >= 0.5x baseline with p99 < 20 ms; /cluster/resources >= 1000 req/s with p99 < 50 ms");
        System.exit(0);
    }

    /**
     * A task history of {@code count} ended tasks in Proxmox's index format, written before the node
     * starts (as if it had run them): every 7th failed, types and guests spread.
     */
    private static void writeTaskIndex(Path tasksDir, int count) throws Exception {
        Files.createDirectories(tasksDir);
        String[] types = {"qmstart", "qmstop", "vzdump", "vncproxy", "qmigrate", "vzstart"};
        StringBuilder index = new StringBuilder();
        long start = 1_700_000_000L;
        for (int i = 0; i < count; i++) {
            long time = start + i * 30L;
            index.append(String.format(java.util.Locale.ROOT, "UPID:benchnode:%08X:%08X:%08X:%s:%d:%s: %08X %s%n", 4000 + i % 7,
                    i, time, types[i % types.length], 1000 + i % 1000, i % 3 == 0 ? "root@pam" : "admin@pve", time + 12,
                    i % 7 == 0 ? "VM " + (1000 + i % 1000) + " not running" : "OK"));
        }
        Files.writeString(tasksDir.resolve("index"), index.toString());
    }

    /**
     * Task list with 100,000 tasks, storage content with 10,000 volumes and the user list with
     * 5,000 users and tokens: the default page and Proxmox's filters.
     */
    private static void listings(java.util.Set<String> parts, HttpClient http, CorralDaemon daemon, Path dir, String base, Path lua,
            String duration, List<Result> results) throws Exception {
        if (parts.contains("tasks")) {
            tasks(http, base, lua, duration, results);
        }
        if (parts.contains("content")) {
            content(http, dir, base, lua, duration, results);
        }
        if (parts.contains("users")) {
            users(http, daemon, base, lua, duration, results);
        }
    }

    private static void tasks(HttpClient http, String base, Path lua, String duration, List<Result> results) throws Exception {
        String tasks = base + "/nodes/benchnode/tasks";
        long began = System.nanoTime();
        int total = get(http, tasks + "?limit=1", readAuthorization(lua)).path("total").asInt();
        System.out.printf("one task list call: %.1f ms%n", (System.nanoTime() - began) / 1e6);
        if (total != 100_000) {
            throw new IllegalStateException("expected 100000 tasks, got " + total);
        }
        results.add(wrk("tasks, 100,000: first page (limit 50)", tasks, lua, duration));
        results.add(wrk("  same, start=90000", tasks + "?start=90000&limit=50", lua, duration));
        results.add(wrk("  same, vmid=1500", tasks + "?vmid=1500", lua, duration));
        results.add(wrk("  same, typefilter=vzdump", tasks + "?typefilter=vzdump", lua, duration));
        results.add(wrk("  same, since/until (1 day)", tasks + "?since=1701000000&until=1701086400", lua, duration));
        results.add(wrk("  same, errors=1", tasks + "?errors=1", lua, duration));

    }

    /** 10,000 raw volumes of 1,000 guests on the local storage. */
    private static void content(HttpClient http, Path dir, String base, Path lua, String duration, List<Result> results) throws Exception {
        Path images = dir.resolve("storage/local/images");
        for (int i = 0; i < 10_000; i++) {
            int vmid = 1000 + i % 1000;
            Path file = images.resolve(Integer.toString(vmid)).resolve("vm-" + vmid + "-disk-" + (i / 1000) + ".raw");
            Files.createDirectories(file.getParent());
            try (java.io.RandomAccessFile raw = new java.io.RandomAccessFile(file.toFile(), "rw")) {
                raw.setLength(1 << 20);
            }
        }
        String content = base + "/nodes/benchnode/storage/local/content";
        int volumes = get(http, content, readAuthorization(lua)).path("data").size();
        if (volumes != 10_000) {
            throw new IllegalStateException("expected 10000 volumes, got " + volumes);
        }
        results.add(wrk("storage content, 10,000 volumes", content, lua, duration));
        results.add(wrk("  same, vmid=1500", content + "?vmid=1500", lua, duration));

    }

    /** 5,000 users with a token each, written into user.cfg at once. */
    private static void users(HttpClient http, CorralDaemon daemon, String base, Path lua, String duration, List<Result> results)
            throws Exception {
        org.corral.core.config.ConfigFile users = daemon.store().read("user.cfg").orElseThrow();
        StringBuilder text = new StringBuilder(users.text());
        for (int i = 0; i < 5000; i++) {
            text.append("user:u").append(i).append("@pve:1:0:First").append(i).append(":Last:u").append(i).append("@example.com:::\n");
        }
        for (int i = 0; i < 5000; i++) {
            text.append("token:u").append(i).append("@pve!tok:0:1::\n");
        }
        daemon.store().write("user.cfg", text.toString(), users.version());
        String userList = base + "/access/users?full=1";
        long deadline = System.nanoTime() + 30_000_000_000L;
        int listed = 0;
        while ((listed = get(http, userList, readAuthorization(lua)).path("data").size()) < 5000 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        if (listed < 5000) {
            throw new IllegalStateException("expected 5000+ users, got " + listed);
        }
        results.add(wrk("users, 5,000 with tokens (full=1)", userList, lua, duration));
    }

    private static String readAuthorization(Path lua) throws Exception {
        Matcher m = Pattern.compile("\\] = \"(.*)\"").matcher(Files.readString(lua));
        if (!m.find()) {
            throw new IllegalStateException("no header in " + lua);
        }
        return m.group(1);
    }

    /** Guest configs {@code 1000+from} up to {@code 1000+to-1}, written straight into the store by a few writers at once. */
    private static void writeGuests(CorralDaemon daemon, int from, int to) throws Exception {
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(16)) {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int i = from; i < to; i++) {
                int vmid = 1000 + i;
                done.add(pool.submit(() -> daemon.store().overwrite("nodes/benchnode/qemu-server/" + vmid + ".conf",
                        "name: guest" + vmid + "\nmemory: 2048\ncores: 2\nscsi0: local:" + vmid + "/vm-" + vmid + "-disk-0.qcow2,size=32G\n")));
            }
            for (var f : done) {
                f.get();
            }
        }
    }

    private static void awaitListed(HttpClient http, String base, String header, int size) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        int listed = -1;
        while (System.nanoTime() < deadline) {
            listed = get(http, base + "/cluster/resources?type=vm", header).path("data").size();
            if (listed == size) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("expected " + size + " guests in /cluster/resources, got " + listed);
    }

    private static Result baseline(String duration) throws Exception {
        CertificateAuthority ca = CertificateAuthority.generate(java.time.Clock.systemUTC());
        CertifiedKey key = ca.issue("baseline", SubjectAltNames.discover("localhost"));
        Server server = new Server(new VirtualThreadPool());
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(NodeTls.secureRequestCustomizer());
        ServerConnector connector = new ServerConnector(server, NodeTls.sslContextFactory(key), new HttpConnectionFactory(config));
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        byte[] body = "{\"data\":{\"version\":\"9.0.0\",\"release\":\"9.0\",\"repoid\":\"baseline\"}}".getBytes(StandardCharsets.UTF_8);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                response.getHeaders().put("Content-Type", "application/json");
                response.write(true, java.nio.ByteBuffer.wrap(body), callback);
                return true;
            }
        });
        server.start();
        try {
            return wrk("baseline: bare Jetty TLS constant answer", "https://127.0.0.1:" + connector.getLocalPort() + "/api2/json/version",
                    null, duration);
        } finally {
            server.stop();
        }
    }

    private static Result wrk(String name, String url, Path lua, String duration) throws Exception {
        List<String> command = new ArrayList<>(List.of("wrk", "-t2", "-c32", "-d" + duration, "--timeout", "30s", "--latency"));
        if (lua != null) {
            command.addAll(List.of("-s", lua.toString()));
        }
        command.add(url);
        // warm-up so that the JIT has compiled the request path
        new ProcessBuilder(replace(command, "-d" + duration, "-d3s")).redirectErrorStream(true).start().waitFor();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpuBefore = os.getProcessCpuTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
        Matcher p99 = Pattern.compile("99%\\s+([0-9.]+)(us|ms|s)").matcher(out);
        Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(out);
        if (!rps.find() || !p99.find()) {
            throw new IllegalStateException("cannot read wrk output:\n" + out);
        }
        if (non2xx.find()) {
            throw new IllegalStateException(name + ": " + non2xx.group(1) + " error answers\n" + out);
        }
        Matcher timeouts = Pattern.compile("Socket errors: .*timeout (\\d+)").matcher(out);
        if (timeouts.find() && !timeouts.group(1).equals("0")) {
            name = name + " (" + timeouts.group(1) + " timeouts)";
        }
        double latency = Double.parseDouble(p99.group(1));
        double ms = switch (p99.group(2)) {
            case "us" -> latency / 1000;
            case "s" -> latency * 1000;
            default -> latency;
        };
        long cpu = os.getProcessCpuTime() - cpuBefore;
        Matcher count = Pattern.compile("(\\d+) requests in").matcher(out);
        double requests = count.find() ? Double.parseDouble(count.group(1)) : 0;
        return new Result(name, Double.parseDouble(rps.group(1)), ms, requests == 0 ? Double.NaN : cpu / 1000.0 / requests);
    }

    private static List<String> replace(List<String> list, String from, String to) {
        return list.stream().map(s -> s.equals(from) ? to : s).toList();
    }

    private static HttpClient insecureClient() throws Exception {
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new TrustManager[] {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] c, String a) {}

            public void checkServerTrusted(X509Certificate[] c, String a) {}

            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        SSLParameters parameters = new SSLParameters();
        parameters.setEndpointIdentificationAlgorithm("");
        return HttpClient.newBuilder().sslContext(ssl).sslParameters(parameters).build();
    }

    private static JsonNode post(HttpClient http, String url, String form, String ticket, String csrf) throws Exception {
        return send(http, "POST", url, form, ticket, csrf);
    }

    private static JsonNode send(HttpClient http, String verb, String url, String form, String ticket, String csrf) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/x-www-form-urlencoded").method(verb, HttpRequest.BodyPublishers.ofString(form));
        if (ticket != null) {
            request.header("Cookie", "PVEAuthCookie=" + URLEncoder.encode(ticket, StandardCharsets.UTF_8)).header("CSRFPreventionToken", csrf);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(url + ": " + response.statusCode() + " " + response.body());
        }
        return Json.read(response.body());
    }

    private static JsonNode get(HttpClient http, String url, String authorization) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", authorization).build(),
                HttpResponse.BodyHandlers.ofString());
        return Json.read(response.body());
    }
}
