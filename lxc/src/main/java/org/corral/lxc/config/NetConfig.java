package org.corral.lxc.config;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/** One network interface {@code netN}: a veth pair whose host end ({@code vethVMIDiN}) joins a bridge. */
public record NetConfig(String key, Map<String, String> values) {
    public NetConfig {
        requireNonNull(key, "key is null");
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public static NetConfig parse(String key, String text) {
        return new NetConfig(key, PropertyValues.parse(CtOptions.NET, text));
    }

    public int index() {
        return CtOptions.index(key);
    }

    public String name() {
        return values.get("name");
    }

    public Optional<String> bridge() {
        return get("bridge");
    }

    public Optional<String> hwaddr() {
        return get("hwaddr");
    }

    public Optional<String> ip() {
        return get("ip");
    }

    public Optional<String> gw() {
        return get("gw");
    }

    public Optional<String> ip6() {
        return get("ip6");
    }

    public Optional<String> gw6() {
        return get("gw6");
    }

    public OptionalInt tag() {
        return get("tag").map(t -> OptionalInt.of(Integer.parseInt(t))).orElse(OptionalInt.empty());
    }

    public OptionalInt mtu() {
        return get("mtu").map(t -> OptionalInt.of(Integer.parseInt(t))).orElse(OptionalInt.empty());
    }

    /** Rate limit in MB/s (Proxmox's unit for {@code rate}). */
    public Optional<Double> rate() {
        return get("rate").map(Double::parseDouble);
    }

    public Optional<String> trunks() {
        return get("trunks");
    }

    public boolean firewall() {
        return get("firewall").map("1"::equals).orElse(false);
    }

    public boolean linkDown() {
        return get("link_down").map("1"::equals).orElse(false);
    }

    public Optional<String> get(String name) {
        return Optional.ofNullable(values.get(name));
    }

    public NetConfig with(String name, String value) {
        Map<String, String> next = new LinkedHashMap<>(values);
        if (value == null) {
            next.remove(name);
        } else {
            next.put(name, value);
        }
        return new NetConfig(key, next);
    }

    /** The host side of the veth pair, as Proxmox names it. */
    public String hostInterface(int vmid) {
        return "veth" + vmid + "i" + index();
    }

    /** What the schema patterns can't check: IPv6 values and gateways that need an address. */
    public void validate() {
        ip6().ifPresent(v -> {
            if (!v.equals("auto") && !v.equals("dhcp") && !v.equals("manual") && !CtOptions.isIpv6Cidr(v)) {
                throw new IllegalArgumentException("ip6: value does not look like a valid ipv6 network configuration");
            }
        });
        gw6().ifPresent(v -> {
            if (!CtOptions.isIpv6(v)) {
                throw new IllegalArgumentException("gw6: value does not look like a valid IPv6 address");
            }
        });
        if (name().contains("/") || name().length() > 15) {
            throw new IllegalArgumentException("name: invalid interface name '" + name() + "'");
        }
    }

    public String format() {
        return PropertyValues.format(CtOptions.NET, values);
    }

    @Override
    public String toString() {
        return key + ": " + format();
    }
}
