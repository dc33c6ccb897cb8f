package org.corral.firewall;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/** A cluster-wide security group ({@code [group name] # comment}): rules that other rule lists jump to. */
public record SecurityGroup(String name, Optional<String> comment, List<FwRule> rules) {
    public SecurityGroup {
        requireNonNull(name, "name is null");
        requireNonNull(comment, "comment is null");
        rules = List.copyOf(rules);
    }
}
