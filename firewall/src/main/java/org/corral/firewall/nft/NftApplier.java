package org.corral.firewall.nft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.corral.core.process.ProcessResult;
import org.corral.core.process.ProcessRunner;

/**
 * Loads a compiled batch with {@code nft -j -f -}. nft commits a batch in one kernel transaction,
 * so a refused batch changes nothing and the previous ruleset stays in force. The command prefix
 * lets tests run nft inside their own network namespace ({@code ip netns exec NAME}); the node
 * daemon uses none and so touches only its own namespace.
 */
public final class NftApplier implements NftSimulator.HostNetwork {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final List<String> prefix;

    public NftApplier(List<String> prefix) {
        this.prefix = List.copyOf(requireNonNull(prefix, "prefix is null"));
    }

    /** nft in the daemon's own namespace. */
    public static NftApplier local() {
        return new NftApplier(List.of());
    }

    /** nft in the named network namespace (for tests and benchmarks). */
    public static NftApplier inNamespace(String netns) {
        return new NftApplier(List.of("ip", "netns", "exec", netns));
    }

    /** The network namespace nft works in ({@code ip netns exec NAME}); empty for the daemon's own. */
    public java.util.Optional<String> namespace() {
        return prefix.size() == 4 && prefix.get(0).equals("ip") && prefix.get(1).equals("netns")
                ? java.util.Optional.of(prefix.get(3)) : java.util.Optional.empty();
    }

    /** The interfaces of that namespace by index ({@code ip -j link show}); empty when ip fails. */
    public java.util.Map<Integer, String> interfaces() {
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of("ip", "-j", "link", "show"));
        ProcessResult result = ProcessRunner.of(argv).timeout(TIMEOUT).run();
        java.util.Map<Integer, String> out = new java.util.HashMap<>();
        if (result.ok()) {
            for (tools.jackson.databind.JsonNode link : org.corral.core.json.Json.mapper().readTree(result.stdout())) {
                out.put(link.path("ifindex").asInt(), link.path("ifname").asString());
            }
        }
        return out;
    }

    /** Whether nft (and the prefix's program) is installed. */
    public boolean available() {
        return ProcessRunner.available("nft") && (prefix.isEmpty() || ProcessRunner.available(prefix.getFirst()));
    }

    /** Applies the batch; a refusal throws {@link NftException} with nft's error text. */
    public void apply(String json) {
        ProcessResult result = run(List.of("-j", "-f", "-"), json);
        if (!result.ok()) {
            throw new NftException("nft refused the ruleset: " + result.describeFailure());
        }
    }

    /** nft with arguments, e.g. {@code list table inet corral}; answers its output or throws {@link NftException}. */
    public String nft(String... args) {
        ProcessResult result = run(List.of(args), null);
        if (!result.ok()) {
            throw new NftException("nft " + String.join(" ", args) + " failed: " + result.describeFailure());
        }
        return result.stdout();
    }

    /**
     * Sets a sysctl in the same namespace nft works in ({@code sysctl -qw key=value}); a failure
     * throws {@link NftException} with its error text.
     */
    public void sysctl(String key, String value) {
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of("sysctl", "-qw", key + "=" + value));
        ProcessResult result = ProcessRunner.of(argv).timeout(TIMEOUT).run();
        if (!result.ok()) {
            throw new NftException("sysctl " + key + "=" + value + " failed: " + result.describeFailure());
        }
    }

    /** {@code ip -j route get ADDRESS} in the same namespace: the device it leaves by; an unroutable one is an {@link IllegalArgumentException}. */
    @Override
    public String routeDevice(java.net.InetAddress address) {
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of("ip", "-j", "route", "get", address.getHostAddress()));
        ProcessResult result = ProcessRunner.of(argv).timeout(TIMEOUT).run();
        if (!result.ok()) {
            throw new IllegalArgumentException("the host has no route to " + address.getHostAddress() + ": "
                    + result.stderr().strip());
        }
        tools.jackson.databind.JsonNode routes = org.corral.core.json.Json.mapper().readTree(result.stdout());
        if (routes.isEmpty() || !routes.get(0).has("dev")) {
            throw new IllegalArgumentException("the host has no route to " + address.getHostAddress());
        }
        return routes.get(0).get("dev").asString();
    }

    /** Reads {@code net.bridge.bridge-nf-call-ip(6)tables} in the same namespace; absent (no br_netfilter) is off. */
    @Override
    public boolean bridgeCallsInet(int version) {
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of("sysctl", "-n", "net.bridge.bridge-nf-call-ip" + (version == 4 ? "" : "6") + "tables"));
        ProcessResult result = ProcessRunner.of(argv).timeout(TIMEOUT).run();
        return result.ok() && result.stdout().strip().equals("1");
    }

    private ProcessResult run(List<String> args, String stdin) {
        List<String> argv = new ArrayList<>(prefix);
        argv.add("nft");
        argv.addAll(args);
        ProcessRunner runner = ProcessRunner.of(argv).timeout(TIMEOUT);
        if (stdin != null) {
            runner.stdin(stdin.getBytes(UTF_8));
        }
        return runner.run();
    }

    /** nft refused a batch or command. */
    public static final class NftException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public NftException(String message) {
            super(message);
        }
    }
}
