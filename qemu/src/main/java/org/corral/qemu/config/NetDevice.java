package org.corral.qemu.config;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A NIC option ({@code net0: virtio=BC:24:11:12:34:56,bridge=vmbr0,firewall=1}). Proxmox writes
 * the model as a key holding the MAC address; {@code model=virtio,macaddr=...} is read too.
 */
public record NetDevice(String key, int index, Map<String, String> properties) {
    private static final Set<String> MODELS = new TreeSet<>(Arrays.asList(VmOptions.NIC_MODELS));

    public NetDevice {
        requireNonNull(key, "key is null");
        properties = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    public static NetDevice parse(String key, String value) {
        if (!key.matches("net\\d+")) {
            throw new IllegalArgumentException("'" + key + "' is not a network device key");
        }
        List<String> parts = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq > 0 && MODELS.contains(part.substring(0, eq))) {
                parts.add("model=" + part.substring(0, eq));
                parts.add("macaddr=" + part.substring(eq + 1));
            } else {
                parts.add(part);
            }
        }
        Map<String, String> properties = PropertyStrings.parse(VmOptions.NET, String.join(",", parts));
        if (!properties.containsKey("model")) {
            throw new IllegalArgumentException("model: property is missing and it is not optional");
        }
        if (properties.containsKey("macaddr")) {
            String mac = properties.get("macaddr");
            if (!MacAddresses.isValidUnicast(mac)) {
                throw new IllegalArgumentException("macaddr: '" + mac + "' is not a valid unicast MAC address");
            }
        }
        return new NetDevice(key, Integer.parseInt(key.substring(3)), properties);
    }

    public String model() {
        return properties.get("model");
    }

    public Optional<String> mac() {
        return get("macaddr");
    }

    public Optional<String> bridge() {
        return get("bridge");
    }

    public Optional<String> get(String property) {
        return Optional.ofNullable(properties.get(property));
    }

    public boolean flag(String property) {
        return get(property).map(VmConfig::isTrue).orElse(false);
    }

    public NetDevice with(String property, String value) {
        Map<String, String> next = new LinkedHashMap<>(properties);
        next.put(property, value);
        return new NetDevice(key, index, next);
    }

    /** The tap device QEMU creates for this NIC: {@code tap<vmid>i<index>}. */
    public String tapName(int vmid) {
        return "tap" + vmid + "i" + index;
    }

    public String print() {
        Map<String, String> rest = new LinkedHashMap<>(properties);
        String model = rest.remove("model");
        String mac = rest.remove("macaddr");
        Optional<String> leading = Optional.of(mac == null ? model : model + "=" + mac);
        return PropertyStrings.print(VmOptions.NET, rest, leading);
    }
}
