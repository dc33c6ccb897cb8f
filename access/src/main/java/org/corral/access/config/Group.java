package org.corral.access.config;

import static java.util.Objects.requireNonNull;

import java.util.Collection;
import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;

/** One {@code group:} line of user.cfg: the group's members are kept here, not on the users. */
public record Group(String groupid, String comment, SortedSet<String> members) {
    public Group {
        requireNonNull(groupid, "groupid is null");
        requireNonNull(comment, "comment is null");
        TreeSet<String> copy = new TreeSet<>(ProxmoxText.BYTE_ORDER);
        copy.addAll(members);
        members = Collections.unmodifiableSortedSet(copy);
    }

    public static Group of(String groupid) {
        return new Group(groupid, "", new TreeSet<>());
    }

    public Group withComment(String value) {
        return new Group(groupid, value, members);
    }

    public Group withMembers(Collection<String> value) {
        return new Group(groupid, comment, new TreeSet<>(value));
    }
}
