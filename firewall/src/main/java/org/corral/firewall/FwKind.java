package org.corral.firewall;

import java.util.EnumSet;
import java.util.Set;

/** The four kinds of {@code .fw} file: which sections each may hold, its rules' environment and its options. */
public enum FwKind {
    CLUSTER(EnumSet.allOf(Section.class), RuleEnv.CLUSTER),
    HOST(EnumSet.of(Section.OPTIONS, Section.RULES), RuleEnv.HOST),
    GUEST(EnumSet.of(Section.OPTIONS, Section.ALIASES, Section.IPSET, Section.RULES), RuleEnv.VM),
    VNET(EnumSet.of(Section.OPTIONS, Section.RULES), RuleEnv.VNET);

    /** A section of a {@code .fw} file. */
    public enum Section { OPTIONS, ALIASES, IPSET, RULES, GROUP }

    private final Set<Section> sections;
    private final RuleEnv env;

    FwKind(Set<Section> sections, RuleEnv env) {
        this.sections = sections;
        this.env = env;
    }

    public boolean allows(Section section) {
        return sections.contains(section);
    }

    /** The environment of the file's {@code [RULES]}; a container's file is read as a VM's, their rules being the same. */
    public RuleEnv env() {
        return env;
    }

    public FwOptions options() {
        return switch (this) {
            case CLUSTER -> FwOptions.CLUSTER;
            case HOST -> FwOptions.HOST;
            case GUEST -> FwOptions.GUEST;
            case VNET -> FwOptions.VNET;
        };
    }
}
