package org.corral.firewall;

import java.util.EnumSet;
import java.util.Set;

/** Where a rule list lives, which decides the rule types and options it may use (Proxmox's rule_env). */
public enum RuleEnv {
    CLUSTER(EnumSet.of(RuleType.IN, RuleType.OUT, RuleType.FORWARD, RuleType.GROUP), true),
    HOST(EnumSet.of(RuleType.IN, RuleType.OUT, RuleType.FORWARD, RuleType.GROUP), true),
    VM(EnumSet.of(RuleType.IN, RuleType.OUT, RuleType.GROUP), true),
    CT(EnumSet.of(RuleType.IN, RuleType.OUT, RuleType.GROUP), true),
    VNET(EnumSet.of(RuleType.FORWARD, RuleType.GROUP), false),
    /** The rules inside a security group. */
    GROUP(EnumSet.of(RuleType.IN, RuleType.OUT, RuleType.FORWARD), false);

    private final Set<RuleType> types;
    private final boolean iface;

    RuleEnv(Set<RuleType> types, boolean iface) {
        this.types = types;
        this.iface = iface;
    }

    public boolean allows(RuleType type) {
        return types.contains(type);
    }

    /** Whether {@code -i} may be given. */
    public boolean allowsIface() {
        return iface;
    }

    /** Guest rules name the guest's NIC ({@code net0}), not a host interface. */
    public boolean guest() {
        return this == VM || this == CT;
    }
}
