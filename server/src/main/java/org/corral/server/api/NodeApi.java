package org.corral.server.api;

import static java.util.Objects.requireNonNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.ApiResult;
import org.corral.core.api.Check;
import org.corral.core.api.EncodedAnswer;
import org.corral.core.node.Node;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.corral.server.host.HostStatus;

/** {@code /version}, {@code /nodes} and a node's status, time, version and syslog. */
public final class NodeApi implements ApiModule {
    private static final Duration JOURNAL_TIMEOUT = Duration.ofSeconds(30);
    private final Node node;
    private final HostStatus host;
    private final Clock clock;
    private final String sslFingerprint;
    private volatile Sample lastSample;

    public NodeApi(Node node, HostStatus host, Clock clock, String sslFingerprint) {
        this.node = requireNonNull(node, "node is null");
        this.host = requireNonNull(host, "host is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.sslFingerprint = requireNonNull(sslFingerprint, "sslFingerprint is null");
    }

    private static Schema nodeParam() {
        return Schema.string().format(Formats.PVE_NODE).description("The cluster node name.");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/version")
                        .name("version")
                        .description("API version details. 'version' and 'release' are the Proxmox VE API level Corral implements.")
                        .permission(Check.authenticated())
                        .returns(Schema.object()
                                .property("version", Schema.string())
                                .property("release", Schema.string())
                                .property("repoid", Schema.string())
                                .property("product", Schema.string())
                                .property("corral-version", Schema.string()))
                        .handler(r -> VERSION),
                ApiMethod.get("/nodes")
                        .name("nodes")
                        .description("Cluster node index.")
                        .permission(Check.authenticated())
                        .returns(Schema.array(Schema.object()
                                .property("node", Schema.string().format(Formats.PVE_NODE))
                                .property("status", Schema.string().enumValues("unknown", "online", "offline"))))
                        // the sampled entry of /cluster/resources: listing nodes does not read /proc each time
                        .handler(r -> List.of(r.can("/nodes/" + node.name(), Privilege.SYS_AUDIT) ? resource() : nodeEntry(false))),
                ApiMethod.get("/nodes/{node}")
                        .name("index")
                        .description("Node index.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .directoryIndex("name", r -> LocalNode.require(node, r)),
                ApiMethod.get("/nodes/{node}/status")
                        .name("status")
                        .description("Read node status.")
                        .permission(Check.path("/nodes/{node}", Privilege.SYS_AUDIT))
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .returns(Schema.object())
                        .handler(r -> {
                            LocalNode.require(node, r);
                            return status();
                        }),
                ApiMethod.get("/nodes/{node}/version")
                        .name("version")
                        .description("API version details of this node.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .returns(Schema.object())
                        .handler(r -> {
                            LocalNode.require(node, r);
                            return version();
                        }),
                ApiMethod.get("/nodes/{node}/time")
                        .name("time")
                        .description("Read server time and time zone settings.")
                        .permission(Check.authenticated())
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .returns(Schema.object()
                                .property("timezone", Schema.string())
                                .property("time", Schema.integer())
                                .property("localtime", Schema.integer()))
                        .handler(r -> {
                            LocalNode.require(node, r);
                            long now = clock.millis() / 1000;
                            ZoneId zone = clock.getZone();
                            long offset = zone.getRules().getOffset(clock.instant()).getTotalSeconds();
                            return Map.of("timezone", zone.getId(), "time", now, "localtime", now + offset);
                        }),
                ApiMethod.get("/nodes/{node}/syslog")
                        .name("syslog")
                        .description("Read the system log (the systemd journal).")
                        .permission(Check.path("/nodes/{node}", Privilege.SYS_SYSLOG))
                        .proxyToNode()
                        .parameter("node", nodeParam())
                        .parameter("start", Schema.integer().minimum(0).defaultValue(0).description("Start at this line."))
                        .parameter("limit", Schema.integer().minimum(0).defaultValue(50).description("Number of lines."))
                        .parameter("since", Schema.string().pattern("\\d{4}-\\d{2}-\\d{2}( \\d{2}:\\d{2}(:\\d{2})?)?").optional()
                                .description("Display all log since this date-time string."))
                        .parameter("until", Schema.string().pattern("\\d{4}-\\d{2}-\\d{2}( \\d{2}:\\d{2}(:\\d{2})?)?").optional()
                                .description("Display all log until this date-time string."))
                        .parameter("service", Schema.string().pattern("[A-Za-z0-9@._\\-]+").maxLength(128).optional()
                                .description("Service ID"))
                        .returns(Schema.array(Schema.object().property("n", Schema.integer()).property("t", Schema.string())))
                        .handler(this::syslog));
    }

    /** The answer of {@code /version}, which never changes while the daemon runs: encoded once. */
    private static final EncodedAnswer VERSION = EncodedAnswer.of(version());

    private static Map<String, Object> version() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("version", Versions.PVE_VERSION);
        out.put("release", Versions.PVE_RELEASE);
        out.put("repoid", "corral-" + Versions.CORRAL_VERSION);
        out.put("product", Versions.PRODUCT);
        out.put("corral-version", Versions.CORRAL_VERSION);
        return out;
    }

    private Map<String, Object> nodeEntry(boolean details) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("node", node.name());
        out.put("id", "node/" + node.name());
        out.put("type", "node");
        out.put("status", "online");
        out.put("level", "");
        out.put("ssl_fingerprint", sslFingerprint);
        if (details) {
            Map<String, Long> mem = host.memory();
            Map<String, Long> disk = host.rootfs();
            out.put("cpu", host.cpu());
            out.put("maxcpu", host.cpus());
            out.put("mem", mem.get("used"));
            out.put("maxmem", mem.get("total"));
            out.put("disk", disk.get("used"));
            out.put("maxdisk", disk.get("total"));
            out.put("uptime", host.uptime());
        }
        return out;
    }

    /**
     * A node's entry in {@code /cluster/resources}, measured at most once a second (Proxmox's
     * pvestatd samples every 10 s) so that frequent listings do not re-read /proc each time.
     */
    Map<String, Object> resource() {
        Sample sample = lastSample;
        long now = clock.millis();
        if (sample == null || now - sample.takenAt() >= 1000) {
            sample = new Sample(now, java.util.Collections.unmodifiableMap(nodeEntry(true)));
            lastSample = sample;
        }
        return sample.entry();
    }

    private record Sample(long takenAt, Map<String, Object> entry) {}

    private Map<String, Object> status() {
        Map<String, Object> out = new LinkedHashMap<>();
        host.cpuShares().ifPresent(shares -> {
            out.put("cpu", shares.cpu());
            out.put("wait", shares.iowait());
            out.put("idle", shares.idle());
        });
        out.put("uptime", host.uptime());
        out.put("loadavg", host.loadavg());
        out.put("kversion", host.kernelVersion());
        out.put("pveversion", "corral/" + Versions.CORRAL_VERSION);
        out.put("cpuinfo", host.cpuInfo());
        out.put("memory", host.memory());
        out.put("swap", host.swap());
        out.put("rootfs", host.rootfs());
        host.ksmShared().ifPresent(shared -> out.put("ksm", Map.of("shared", shared)));
        out.put("boot-info", Map.of("mode", Files.isDirectory(Path.of("/sys/firmware/efi")) ? "efi" : "legacy-bios"));
        out.put("current-kernel", Map.of("sysname", System.getProperty("os.name"), "release", System.getProperty("os.version"),
                "machine", System.getProperty("os.arch")));
        return out;
    }

    private Object syslog(ApiRequest r) {
        LocalNode.require(node, r);
        List<String> command = new ArrayList<>(List.of("journalctl", "--no-pager", "--quiet", "-o", "short-iso"));
        r.optionalString("since").ifPresent(s -> command.addAll(List.of("--since", s)));
        r.optionalString("until").ifPresent(s -> command.addAll(List.of("--until", s)));
        r.optionalString("service").ifPresent(s -> command.addAll(List.of("--unit", s)));
        List<String> lines = run(command);
        if (lines.isEmpty()) {
            lines = List.of("-- No entries --");
        }
        int start = (int) Math.min(r.integer("start"), lines.size());
        int end = (int) Math.min(lines.size(), start + r.integer("limit"));
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = start; i < end; i++) {
            out.add(Map.of("n", i + 1, "t", lines.get(i)));
        }
        return new ApiResult(out, Map.of("total", lines.size()));
    }

    private static List<String> run(List<String> command) {
        if (!ProcessRunner.available(command.getFirst())) {
            return List.of(command.getFirst() + " is not available on this host");
        }
        ProcessResult result = ProcessRunner.of(command).timeout(JOURNAL_TIMEOUT).run();
        String text = result.stdout().isBlank() ? result.stderr() : result.stdout();
        return text.lines().filter(l -> !l.isBlank()).toList();
    }
}
