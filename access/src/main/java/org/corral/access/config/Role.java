package org.corral.access.config;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.corral.core.access.Privilege;

/** A role: a named set of privileges. Custom roles are {@code role:} lines; built-in ones are not stored. */
public record Role(String roleid, Set<Privilege> privileges) {
    public Role {
        requireNonNull(roleid, "roleid is null");
        EnumSet<Privilege> copy = EnumSet.noneOf(Privilege.class);
        copy.addAll(privileges);
        privileges = Collections.unmodifiableSet(copy);
    }
}
