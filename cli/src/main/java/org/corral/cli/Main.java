package org.corral.cli;

import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import org.corral.core.api.HttpVerb;
import org.corral.core.json.Json;
import org.corral.server.CorralDaemon;
import org.corral.server.DaemonRunner;
import tools.jackson.databind.JsonNode;

/**
 * The {@code corral} command. {@code up} runs a node in the foreground; {@code api} is what
 * {@code pvesh} is: any API call, with help built from the node's declared methods.
 */
public final class Main {
    private static final String USAGE = """
            usage:
              corral up [--data-dir DIR] [--port 8006] [--node NAME] [--bind ADDR] [--admin-password PW] [--firewall on|off]
              corral api get|set|create|delete PATH [--PARAM VALUE ...] [--output-format json|text]
              corral api ls PATH
              corral api usage PATH
              corral storage status|list|alloc|free|path|add|set|remove|export|import ...   (what pvesm is)
              corral template busybox|debian [--storage local]   build a container template into vztmpl storage
              corral cluster create NAME | token | join HOST[:PORT] --fingerprint FP (--token T | --password -) | status | nodes
                             | delnode NODE | expected N
              corral firewall simulate --from host|outside|vmID|ctID --to ... --protocol tcp|udp|icmp --source IP --dest IP
                             [--dport N] [--sport N] [--icmp-type T] [--node NODE] [--output-format json]
            remote use: --host HOST[:PORT] --token USER@REALM!TOKENID=SECRET [--fingerprint SHA256]
            local use (as root on the node): --data-dir DIR (default /var/lib/corral)
            """;

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help")) {
            System.out.print(USAGE);
            return;
        }
        List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
        int status = switch (args[0]) {
            case "up" -> up(options(rest, List.of("data-dir", "port", "node", "bind", "admin-password", "firewall")));
            case "api" -> api(rest, System.out, System.err);
            case "storage" -> storage(rest, System.out, System.err);
            case "cluster" -> cluster(rest, System.out, System.err);
            case "template" -> template(rest, System.out, System.err);
            case "firewall" -> firewall(rest, System.out, System.err);
            default -> {
                System.err.println("unknown command '" + args[0] + "'");
                System.err.print(USAGE);
                yield 2;
            }
        };
        System.exit(status);
    }

    private static Map<String, String> options(List<String> args, List<String> allowed) {
        Map<String, String> out = new LinkedHashMap<>();
        Iterator<String> it = args.iterator();
        while (it.hasNext()) {
            String arg = it.next();
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'");
            }
            String name = arg.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (it.hasNext()) {
                value = it.next();
            } else {
                throw new IllegalArgumentException("option --" + name + " needs a value");
            }
            if (!allowed.isEmpty() && !allowed.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name);
            }
            out.put(name, value);
        }
        return out;
    }

    /** {@code --firewall on} (the default) loads the firewall into this host's nftables; {@code off} only serves its API. */
    private static boolean firewall(String value) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("option --firewall must be 'on' or 'off', not '" + value + "'");
        };
    }

    private static int up(Map<String, String> o) throws Exception {
        String nodeName = o.getOrDefault("node", InetAddress.getLocalHost().getHostName().split("\\.")[0]);
        String bind = o.getOrDefault("bind", "0.0.0.0");
        // the runner restarts the daemon in-process when it asks to (after joining a cluster)
        DaemonRunner runner = DaemonRunner.start(new CorralDaemon.Options(nodeName,
                Path.of(o.getOrDefault("data-dir", "/var/lib/corral")), bind,
                Integer.parseInt(o.getOrDefault("port", "8006")), Optional.ofNullable(o.get("admin-password")),
                firewall(o.getOrDefault("firewall", "on"))));
        CorralDaemon daemon = runner.current();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            runner.close();
            stopped.countDown();
        }, "corral-shutdown"));
        String host = bind.equals("0.0.0.0") || bind.equals("::") ? InetAddress.getLocalHost().getHostName() : bind;
        System.out.println();
        System.out.println("Corral node '" + daemon.node().name() + "' is ready"
                + (daemon.initializedNow() ? " (new single-node cluster initialized)" : "") + ".");
        System.out.println("  URL:    https://" + host + ":" + daemon.port() + "/");
        System.out.println("  Node:   " + daemon.node().name());
        System.out.println("  Data:   " + daemon.node().dataDir());
        if (daemon.generatedAdminPassword().isPresent()) {
            System.out.println("  Login:  admin@pve  password: " + daemon.generatedAdminPassword().get()
                    + "   (generated now, shown only this once)");
        } else {
            System.out.println("  Login:  admin@pve" + (o.containsKey("admin-password") && daemon.initializedNow()
                    ? " with the password given by --admin-password" : " (password set when the node was initialized)"));
        }
        System.out.println("          root@pam with this host's root password");
        System.out.println("Press Ctrl-C to stop.");
        System.out.flush();
        stopped.await();
        return 0;
    }

    static int api(List<String> args, PrintStream out, PrintStream err) {
        // VERB and PATH are the first two words that are not options, wherever the options stand
        Words split = Words.of(args);
        List<String> words = split.words();
        List<String> options = split.options();
        if (words.size() != 2) {
            err.print(USAGE);
            return 2;
        }
        String verb = words.get(0);
        String path = words.get(1);
        Map<String, String> params;
        try {
            params = apiParameters(options);
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        }
        String format = Optional.ofNullable(params.remove("output-format")).orElse("text");
        try {
            ApiClient client = client(params);
            switch (verb) {
                case "ls" -> {
                    ls(client.openApi(), path, out);
                    return 0;
                }
                case "usage", "help" -> {
                    usage(client.openApi(), path, out);
                    return 0;
                }
                default -> { }
            }
            HttpVerb httpVerb = switch (verb) {
                case "get" -> HttpVerb.GET;
                case "set" -> HttpVerb.PUT;
                case "create" -> HttpVerb.POST;
                case "delete" -> HttpVerb.DELETE;
                default -> throw new IllegalArgumentException("unknown api verb '" + verb + "' (get, set, create, delete, ls, usage)");
            };
            JsonNode answer = client.call(httpVerb, path, params);
            print(answer.path("data"), format, out);
            return 0;
        } catch (ApiClient.ApiError e) {
            err.println(e.getMessage());
            if (e.errors != null && e.errors.isObject()) {
                e.errors.properties().forEach(p -> err.println(p.getKey() + ": " + p.getValue().asString()));
            }
            return 1;
        } catch (Exception e) {
            err.println(e.getMessage() == null ? e.toString() : e.getMessage());
            return 1;
        }
    }

    /**
     * {@code pvesm}'s verbs as calls of the storage API: {@code status}, {@code list STORAGE},
     * {@code alloc STORAGE VMID FILENAME SIZE}, {@code free VOLID}, {@code path VOLID},
     * {@code add TYPE STORAGE}, {@code set STORAGE}, {@code remove STORAGE}; other options pass through.
     */
    static int storage(List<String> args, PrintStream out, PrintStream err) {
        Words split = Words.of(args);
        if (split.words().isEmpty()) {
            err.print(USAGE);
            return 2;
        }
        List<String> words = split.words();
        List<String> options = split.options();
        String node = nodeName(options);
        String verb = words.get(0);
        List<String> call = new ArrayList<>();
        try {
            switch (verb) {
                case "status" -> call.addAll(List.of("get", "/nodes/" + node + "/storage"));
                case "list" -> call.addAll(List.of("get", "/nodes/" + node + "/storage/" + arg(words, 1, "STORAGE") + "/content"));
                case "alloc" -> {
                    call.addAll(List.of("create", "/nodes/" + node + "/storage/" + arg(words, 1, "STORAGE") + "/content",
                            "--vmid", arg(words, 2, "VMID"), "--filename", arg(words, 3, "FILENAME"), "--size", arg(words, 4, "SIZE")));
                }
                case "free" -> call.addAll(List.of("delete", volumePath(node, arg(words, 1, "VOLID"))));
                case "path" -> call.addAll(List.of("get", volumePath(node, arg(words, 1, "VOLID"))));
                case "add" -> call.addAll(List.of("create", "/storage", "--type", arg(words, 1, "TYPE"), "--storage", arg(words, 2, "STORAGE")));
                case "set" -> call.addAll(List.of("set", "/storage/" + arg(words, 1, "STORAGE")));
                case "remove" -> call.addAll(List.of("delete", "/storage/" + arg(words, 1, "STORAGE")));
                case "export", "import" -> {
                    return transfer(verb, node, arg(words, 1, "VOLID"), arg(words, 2, "FORMAT"), arg(words, 3, "FILENAME"), options, err);
                }
                default -> throw new IllegalArgumentException("unknown storage verb '" + verb
                        + "' (status, list, alloc, free, path, add, set, remove, export, import)");
            }
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        }
        call.addAll(options);
        if (!verb.equals("path")) {
            return api(call, out, err);
        }
        java.io.ByteArrayOutputStream json = new java.io.ByteArrayOutputStream();
        call.addAll(List.of("--output-format", "json"));
        int status = api(call, new PrintStream(json, true, java.nio.charset.StandardCharsets.UTF_8), err);
        if (status == 0) {
            out.println(Json.read(json.toString(java.nio.charset.StandardCharsets.UTF_8)).path("path").asString());
        }
        return status;
    }

    /**
     * {@code firewall simulate}: {@code GET /nodes/NODE/firewall/simulate} with the options as its
     * parameters, printed as the verdict and the rules the packet passed, one per line, with the
     * firewall file and line each comes from ({@code --output-format json} prints the answer as is).
     */
    static int firewall(List<String> args, PrintStream out, PrintStream err) {
        Words split = Words.of(args);
        if (split.words().size() != 1 || !split.words().getFirst().equals("simulate")) {
            err.println("unknown firewall verb '" + String.join(" ", split.words()) + "' (simulate)");
            err.print(USAGE);
            return 2;
        }
        List<String> options = new ArrayList<>(split.options());
        String node = nodeName(options);
        List<String> call = new ArrayList<>(List.of("get", "/nodes/" + node + "/firewall/simulate"));
        call.addAll(options);
        if (options.contains("--output-format")) {
            return api(call, out, err);
        }
        java.io.ByteArrayOutputStream json = new java.io.ByteArrayOutputStream();
        call.addAll(List.of("--output-format", "json"));
        int status = api(call, new PrintStream(json, true, java.nio.charset.StandardCharsets.UTF_8), err);
        if (status != 0) {
            return status;
        }
        JsonNode answer = Json.read(json.toString(java.nio.charset.StandardCharsets.UTF_8));
        out.println("verdict: " + answer.path("verdict").asString() + (answer.has("reply") ? ", reply: " + answer.path("reply").asString() : "")
                + (answer.path("connects").asInt() == 1 ? " (connects)" : " (does not connect)") + "   ruleset: "
                + answer.path("ruleset").asString());
        for (JsonNode step : answer.path("trace")) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%3d %-7s %-6s %-11s %s#%s  %s", step.path("n").asInt(),
                    step.path("packet").asString(), step.path("family").asString(), step.path("hook").asString(),
                    step.path("chain").asString(), step.path("rule").asInt() < 0 ? "policy" : step.path("rule").asString(),
                    step.path("action").asString()));
            if (step.has("file")) {
                line.append("   ").append(step.path("file").asString()).append(':').append(step.path("line").asString());
            } else if (step.has("comment")) {
                line.append("   (").append(step.path("comment").asString()).append(')');
            }
            out.println(line);
        }
        return 0;
    }

    /** A command's plain words and its {@code --option [value]} pairs, each in their order. */
    private record Words(List<String> words, List<String> options) {
        static Words of(List<String> args) {
            List<String> words = new ArrayList<>();
            List<String> options = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                if (args.get(i).startsWith("--")) {
                    options.add(args.get(i));
                    if (!args.get(i).contains("=") && i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                        options.add(args.get(++i));
                    }
                } else {
                    words.add(args.get(i));
                }
            }
            return new Words(words, options);
        }
    }

    /**
     * {@code pvecm}'s verbs as calls of the cluster API: {@code create NAME}, {@code token},
     * {@code join HOST[:PORT] --fingerprint FP (--token T | --password -)}, {@code status}, {@code nodes},
     * {@code delnode NODE}, {@code expected N}.
     * {@code --password -} reads root's password from the terminal (or one line of stdin).
     */
    static int cluster(List<String> args, PrintStream out, PrintStream err) {
        Words split = Words.of(args);
        if (split.words().isEmpty()) {
            err.print(USAGE);
            return 2;
        }
        List<String> words = split.words();
        List<String> options = split.options();
        List<String> call = new ArrayList<>();
        try {
            switch (words.get(0)) {
                case "create" -> call.addAll(List.of("create", "/cluster/config", "--clustername", arg(words, 1, "NAME")));
                case "token" -> call.addAll(List.of("create", "/cluster/config/join-token"));
                case "status" -> call.addAll(List.of("get", "/cluster/status"));
                case "nodes" -> call.addAll(List.of("get", "/cluster/config/nodes"));
                case "delnode" -> call.addAll(List.of("delete", "/cluster/config/nodes/" + arg(words, 1, "NODE")));
                case "expected" -> call.addAll(List.of("create", "/cluster/config/expected", "--expected", arg(words, 1, "N")));
                case "join" -> {
                    call.addAll(List.of("create", "/cluster/config/join", "--hostname", arg(words, 1, "HOST[:PORT]")));
                    String secret = takeOption(options, "token").or(() -> takeOption(options, "password").map(Main::readPassword))
                            .orElseThrow(() -> new IllegalArgumentException("join needs --token T or --password -"));
                    call.addAll(List.of("--password", secret));
                }
                default -> throw new IllegalArgumentException("unknown cluster verb '" + words.get(0)
                        + "' (create, token, join, status, nodes, delnode, expected)");
            }
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        }
        call.addAll(options);
        return api(call, out, err);
    }

    /** Removes {@code --name VALUE} from {@code options} and answers VALUE. */
    private static Optional<String> takeOption(List<String> options, String name) {
        int at = options.indexOf("--" + name);
        if (at < 0 || at + 1 >= options.size()) {
            return Optional.empty();
        }
        String value = options.remove(at + 1);
        options.remove(at);
        return Optional.of(value);
    }

    private static String readPassword(String given) {
        if (!given.equals("-")) {
            throw new IllegalArgumentException("give the password as '--password -' and type it, never on the command line");
        }
        java.io.Console console = System.console();
        if (console != null) {
            return new String(console.readPassword("root@pam password of the member: "));
        }
        try {
            return new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8)).readLine();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("can't read the password: " + e.getMessage());
        }
    }

    /** {@code export VOLID FORMAT FILE|-} and {@code import VOLID FORMAT FILE|-}, streamed both ways. */
    private static int transfer(String verb, String node, String volid, String format, String file, List<String> options,
            PrintStream err) {
        try {
            Map<String, String> params = apiParameters(options);
            ApiClient client = client(params);
            String storage = volid.substring(0, Math.max(0, volid.indexOf(':')));
            if (storage.isEmpty()) {
                throw new IllegalArgumentException("'" + volid + "' is not a volume id (STORAGE:VOLUME)");
            }
            params.put("format", format);
            params.put("volume", volid);
            if (verb.equals("export")) {
                try (java.io.OutputStream out = file.equals("-") ? System.out : Files.newOutputStream(Path.of(file))) {
                    client.download("/nodes/" + node + "/storage/" + storage + "/export", params, out);
                }
            } else {
                try (java.io.InputStream in = file.equals("-") ? System.in : Files.newInputStream(Path.of(file))) {
                    System.out.println(client.upload("/nodes/" + node + "/storage/" + storage + "/import", params, "file",
                            "stream", in).path("data").asString());
                }
            }
            return 0;
        } catch (ApiClient.ApiError e) {
            err.println(e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println(e.getMessage() == null ? e.toString() : e.getMessage());
            return 1;
        }
    }

    /**
     * Builds a container template on this node into a storage's template cache: {@code busybox}
     * (small, from busybox-static) or {@code debian} (Debian 12 with debootstrap).
     */
    static int template(List<String> args, PrintStream out, PrintStream err) {
        List<String> words = new ArrayList<>();
        List<String> options = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).startsWith("--")) {
                options.add(args.get(i));
                if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                    options.add(args.get(++i));
                }
            } else {
                words.add(args.get(i));
            }
        }
        if (words.size() != 1 || !List.of("busybox", "debian").contains(words.get(0))) {
            err.println("usage: corral template busybox|debian [--storage local]");
            return 2;
        }
        try {
            Map<String, String> params = apiParameters(options);
            String storage = Optional.ofNullable(params.remove("storage")).orElse("local");
            ApiClient client = client(params);
            JsonNode config = client.call(HttpVerb.GET, "/storage/" + storage, Map.of()).path("data");
            String path = config.path("path").asString("");
            if (path.isEmpty() || !config.path("content").asString("").contains("vztmpl")) {
                throw new IllegalArgumentException("storage '" + storage + "' is not a file storage with content vztmpl");
            }
            Path dir = Path.of(path, "template", "cache");
            Files.createDirectories(dir);
            Path built = words.get(0).equals("busybox")
                    ? new org.corral.lxc.template.BusyboxTemplate().build(dir)
                    : new org.corral.lxc.template.DebianTemplate(org.corral.lxc.template.DebianTemplate.Spec.bookworm(),
                            java.time.Duration.ofMinutes(30)).build(dir);
            out.println(storage + ":vztmpl/" + built.getFileName());
            return 0;
        } catch (ApiClient.ApiError e) {
            err.println(e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println(e.getMessage() == null ? e.toString() : e.getMessage());
            return 1;
        }
    }

    private static String arg(List<String> words, int index, String name) {
        if (words.size() <= index) {
            throw new IllegalArgumentException("missing " + name);
        }
        return words.get(index);
    }

    private static String volumePath(String node, String volid) {
        int colon = volid.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("'" + volid + "' is not a volume id (STORAGE:VOLUME)");
        }
        return "/nodes/" + node + "/storage/" + volid.substring(0, colon) + "/content/"
                + java.net.URLEncoder.encode(volid, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The node to address: --node, else the local node's name. */
    private static String nodeName(List<String> options) {
        int at = options.indexOf("--node");
        if (at >= 0 && at + 1 < options.size()) {
            String name = options.get(at + 1);
            options.remove(at + 1);
            options.remove(at);
            return name;
        }
        int dir = options.indexOf("--data-dir");
        Path dataDir = Path.of(dir >= 0 && dir + 1 < options.size() ? options.get(dir + 1) : "/var/lib/corral");
        try {
            return Json.read(Files.readString(CorralDaemon.localAccessFile(dataDir))).path("node").asString();
        } catch (java.io.IOException e) {
            return InetAddress.getLoopbackAddress().getHostName();
        }
    }

    private static Map<String, String> apiParameters(List<String> args) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "' (parameters are --name value)");
            }
            String name = arg.substring(2);
            int eq = name.indexOf('=');
            if (eq >= 0) {
                out.merge(name.substring(0, eq), name.substring(eq + 1), (a, b) -> a + "," + b);
            } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                out.merge(name, args.get(++i), (a, b) -> a + "," + b);
            } else {
                out.put(name, "1");
            }
        }
        return out;
    }

    private static ApiClient client(Map<String, String> params) throws Exception {
        String host = params.remove("host");
        String token = Optional.ofNullable(params.remove("token")).orElse(System.getenv("CORRAL_API_TOKEN"));
        // --fingerprint pins a remote node's certificate; on the local node it stays a parameter (cluster join's)
        Optional<String> fingerprint = host != null ? Optional.ofNullable(params.remove("fingerprint")) : Optional.empty();
        Path dataDir = Path.of(Optional.ofNullable(params.remove("data-dir")).orElse("/var/lib/corral"));
        if (host != null) {
            if (token == null) {
                throw new IllegalArgumentException("--host needs --token USER@REALM!TOKENID=SECRET (or CORRAL_API_TOKEN)");
            }
            return new ApiClient(host.contains(":") ? host : host + ":8006", "PVEAPIToken=" + token, fingerprint);
        }
        Path local = CorralDaemon.localAccessFile(dataDir);
        if (!Files.isReadable(local)) {
            throw new IllegalStateException("no running Corral node found under " + dataDir
                    + " (is `corral up` running, and are you root?); for a remote node use --host and --token");
        }
        JsonNode access = Json.read(Files.readString(local));
        return new ApiClient("127.0.0.1:" + access.path("port").asInt(), "CorralLocal " + access.path("secret").asString(),
                Optional.of(access.path("fingerprint").asString()));
    }

    private static void print(JsonNode data, String format, PrintStream out) {
        switch (format) {
            case "json" -> out.println(Json.write(data));
            case "json-pretty" -> out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(data));
            case "text" -> {
                if (data.isObject()) {
                    new TreeSet<>(data.propertyNames()).forEach(k -> out.println(k + ": " + scalar(data.get(k))));
                } else if (data.isArray()) {
                    data.forEach(item -> out.println(item.isObject() ? row(item) : scalar(item)));
                } else if (!data.isNull()) {
                    out.println(scalar(data));
                }
            }
            default -> throw new IllegalArgumentException("unknown --output-format '" + format + "' (json, json-pretty, text)");
        }
    }

    private static String row(JsonNode item) {
        List<String> cells = new ArrayList<>();
        new TreeSet<>(item.propertyNames()).forEach(k -> cells.add(k + "=" + scalar(item.get(k))));
        return String.join(" ", cells);
    }

    private static String scalar(JsonNode v) {
        return v.isValueNode() ? v.asString() : Json.write(v);
    }

    /** Child paths below {@code path}, with the verbs each has, as {@code pvesh ls} prints them. */
    static void ls(JsonNode openApi, String path, PrintStream out) {
        String prefix = path.equals("/") ? "" : path.replaceAll("/+$", "");
        String[] want = prefix.isEmpty() ? new String[0] : prefix.substring(1).split("/");
        Map<String, TreeSet<String>> children = new java.util.TreeMap<>();
        openApi.path("paths").properties().forEach(p -> {
            String[] parts = p.getKey().substring(1).split("/");
            if (parts.length <= want.length) {
                return;
            }
            for (int i = 0; i < want.length; i++) {
                if (!parts[i].startsWith("{") && !parts[i].equals(want[i])) {
                    return;
                }
            }
            String child = parts[want.length];
            TreeSet<String> verbs = children.computeIfAbsent(child, c -> new TreeSet<>());
            if (parts.length == want.length + 1) {
                p.getValue().propertyNames().forEach(v -> verbs.add(v.toUpperCase(Locale.ROOT)));
            } else {
                verbs.add("DIR");
            }
        });
        children.forEach((child, verbs) -> out.printf("%s%s%s%s%s        %s%n", verbs.contains("DIR") ? "D" : "-",
                verbs.contains("GET") ? "r" : "-", verbs.contains("PUT") ? "w" : "-",
                verbs.contains("POST") ? "c" : "-", verbs.contains("DELETE") ? "d" : "-", child));
    }

    /** Each verb of {@code path} with its parameters, from the declarations. */
    static void usage(JsonNode openApi, String path, PrintStream out) {
        JsonNode item = null;
        for (var entry : openApi.path("paths").properties()) {
            if (entry.getKey().replaceAll("\\{[^}]+}", "*").equals(path.replaceAll("[^/]+", "*"))
                    || entry.getKey().equals(path)) {
                item = entry.getValue();
                if (entry.getKey().equals(path)) {
                    break;
                }
            }
        }
        if (item == null) {
            out.println("no API method at " + path);
            return;
        }
        item.properties().forEach(op -> {
            String verb = switch (op.getKey()) {
                case "get" -> "get";
                case "put" -> "set";
                case "post" -> "create";
                default -> "delete";
            };
            JsonNode o = op.getValue();
            out.println("USAGE: corral api " + verb + " " + path);
            out.println("  " + o.path("summary").asString());
            o.path("parameters").forEach(p -> {
                if (!p.path("in").asString().equals("path")) {
                    out.println(param(p.path("name").asString(), p.path("schema"), p.path("required").asBoolean()));
                }
            });
            JsonNode body = o.path("requestBody").path("content").path("application/x-www-form-urlencoded").path("schema");
            List<String> required = new ArrayList<>();
            body.path("required").forEach(r -> required.add(r.asString()));
            body.path("properties").properties().forEach(p ->
                    out.println(param(p.getKey(), p.getValue(), required.contains(p.getKey()))));
            out.println();
        });
    }

    private static String param(String name, JsonNode schema, boolean required) {
        String type = schema.has("enum") ? "<" + String.join(" | ", schema.path("enum").valueStream().map(JsonNode::asString).toList()) + ">"
                : schema.has("x-property-string") ? schema.path("x-property-string").asString()
                : "<" + schema.path("format").asString(schema.path("type").asString("string")) + ">";
        return String.format("  --%-20s %s%s%n        %s", name, type, required ? "" : " (optional)",
                schema.path("description").asString(""));
    }
}
