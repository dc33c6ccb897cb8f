package org.corral.access.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.corral.core.access.AuthContext;

/**
 * The parsed user.cfg: users with their tokens, groups, custom roles, pools and ACL entries.
 * Immutable; every change makes a new instance, so a parsed snapshot can be shared by all threads.
 * root@pam is always there, as Proxmox adds it when it is missing.
 */
public final class UserConfig {
    private final SortedMap<String, User> users;
    private final SortedMap<String, Group> groups;
    private final SortedMap<String, Role> roles;
    private final SortedMap<String, Pool> pools;
    private final List<AclEntry> acl;
    private final Map<String, SortedSet<String>> groupsOfUser;
    private final Map<Integer, String> poolOfVm;

    public UserConfig(Map<String, User> users, Map<String, Group> groups, Map<String, Role> roles,
            Map<String, Pool> pools, Collection<AclEntry> acl) {
        TreeMap<String, User> userCopy = new TreeMap<>(ProxmoxText.BYTE_ORDER);
        userCopy.putAll(users);
        userCopy.putIfAbsent(AuthContext.ROOT, User.of(AuthContext.ROOT));
        this.users = Collections.unmodifiableSortedMap(userCopy);
        this.groups = sortedCopy(groups);
        TreeMap<String, Role> roleCopy = new TreeMap<>(ProxmoxText.BYTE_ORDER);
        roles.forEach((id, role) -> {
            if (!BuiltinRoles.isBuiltin(id)) {
                roleCopy.put(id, role);
            }
        });
        this.roles = Collections.unmodifiableSortedMap(roleCopy);
        this.pools = sortedCopy(pools);
        List<AclEntry> aclCopy = new ArrayList<>();
        for (AclEntry entry : acl) {
            aclCopy.removeIf(entry::sameGrant);
            aclCopy.add(entry);
        }
        aclCopy.sort(AclEntry.ORDER);
        this.acl = List.copyOf(aclCopy);
        Map<String, SortedSet<String>> memberships = new HashMap<>();
        this.groups.values().forEach(group -> group.members().forEach(member ->
                memberships.computeIfAbsent(member, m -> new TreeSet<>(ProxmoxText.BYTE_ORDER)).add(group.groupid())));
        memberships.replaceAll((member, set) -> Collections.unmodifiableSortedSet(set));
        this.groupsOfUser = Map.copyOf(memberships);
        Map<Integer, String> vmPools = new HashMap<>();
        this.pools.values().forEach(pool -> pool.vms().forEach(vmid -> vmPools.putIfAbsent(vmid, pool.poolid())));
        this.poolOfVm = Map.copyOf(vmPools);
    }

    /** user.cfg with root@pam only. */
    public static UserConfig empty() {
        return new UserConfig(Map.of(), Map.of(), Map.of(), Map.of(), List.of());
    }

    private static <T> SortedMap<String, T> sortedCopy(Map<String, T> map) {
        TreeMap<String, T> copy = new TreeMap<>(ProxmoxText.BYTE_ORDER);
        copy.putAll(map);
        return Collections.unmodifiableSortedMap(copy);
    }

    public SortedMap<String, User> users() {
        return users;
    }

    public SortedMap<String, Group> groups() {
        return groups;
    }

    /** Custom roles only; see {@link #role} and {@link #allRoles} for the built-in ones too. */
    public SortedMap<String, Role> customRoles() {
        return roles;
    }

    public SortedMap<String, Pool> pools() {
        return pools;
    }

    public List<AclEntry> acl() {
        return acl;
    }

    public Optional<User> user(String userid) {
        return Optional.ofNullable(users.get(userid));
    }

    public Optional<Group> group(String groupid) {
        return Optional.ofNullable(groups.get(groupid));
    }

    public Optional<Pool> pool(String poolid) {
        return Optional.ofNullable(pools.get(poolid));
    }

    /** A built-in or custom role. */
    public Optional<Role> role(String roleid) {
        return BuiltinRoles.get(roleid).or(() -> Optional.ofNullable(roles.get(roleid)));
    }

    /** Built-in roles, then custom ones. */
    public Map<String, Role> allRoles() {
        Map<String, Role> all = new LinkedHashMap<>(BuiltinRoles.all());
        all.putAll(roles);
        return all;
    }

    public Optional<ApiToken> token(String userid, String name) {
        return user(userid).map(u -> u.tokens().get(name));
    }

    /** The groups {@code userid} is a member of. */
    public SortedSet<String> groupsOf(String userid) {
        return groupsOfUser.getOrDefault(userid, Collections.emptySortedSet());
    }

    public Optional<String> poolOfVm(int vmid) {
        return Optional.ofNullable(poolOfVm.get(vmid));
    }

    public UserConfig withUser(User user) {
        Map<String, User> copy = new TreeMap<>(users);
        copy.put(user.userid(), user);
        return new UserConfig(copy, groups, roles, pools, acl);
    }

    /** Removes a user with its tokens, its group memberships and every ACL entry of it or its tokens. */
    public UserConfig withoutUser(String userid) {
        Map<String, User> userCopy = new TreeMap<>(users);
        userCopy.remove(userid);
        Map<String, Group> groupCopy = new TreeMap<>(groups);
        groupCopy.replaceAll((id, group) -> group.members().contains(userid)
                ? group.withMembers(group.members().stream().filter(m -> !m.equals(userid)).toList()) : group);
        String tokenPrefix = userid + "!";
        return new UserConfig(userCopy, groupCopy, roles, pools, filterAcl(e ->
                !(e.kind() == AclEntry.Kind.USER && e.ugid().equals(userid)
                        || e.kind() == AclEntry.Kind.TOKEN && e.ugid().startsWith(tokenPrefix))));
    }

    /** Makes {@code userid} a member of exactly {@code groupids}. */
    public UserConfig withMemberships(String userid, Collection<String> groupids) {
        Map<String, Group> groupCopy = new TreeMap<>(groups);
        groupCopy.replaceAll((id, group) -> {
            boolean wanted = groupids.contains(id);
            if (wanted == group.members().contains(userid)) {
                return group;
            }
            List<String> members = new ArrayList<>(group.members());
            if (wanted) {
                members.add(userid);
            } else {
                members.remove(userid);
            }
            return group.withMembers(members);
        });
        return new UserConfig(users, groupCopy, roles, pools, acl);
    }

    public UserConfig withGroup(Group group) {
        Map<String, Group> copy = new TreeMap<>(groups);
        copy.put(group.groupid(), group);
        return new UserConfig(users, copy, roles, pools, acl);
    }

    /** Removes a group and its ACL entries. */
    public UserConfig withoutGroup(String groupid) {
        Map<String, Group> copy = new TreeMap<>(groups);
        copy.remove(groupid);
        return new UserConfig(users, copy, roles, pools,
                filterAcl(e -> !(e.kind() == AclEntry.Kind.GROUP && e.ugid().equals(groupid))));
    }

    public UserConfig withRole(Role role) {
        Map<String, Role> copy = new TreeMap<>(roles);
        copy.put(role.roleid(), role);
        return new UserConfig(users, groups, copy, pools, acl);
    }

    /** Removes a custom role and the ACL entries that grant it. */
    public UserConfig withoutRole(String roleid) {
        Map<String, Role> copy = new TreeMap<>(roles);
        copy.remove(roleid);
        return new UserConfig(users, groups, copy, pools, filterAcl(e -> !e.roleid().equals(roleid)));
    }

    public UserConfig withPool(Pool pool) {
        Map<String, Pool> copy = new TreeMap<>(pools);
        copy.put(pool.poolid(), pool);
        return new UserConfig(users, groups, roles, copy, acl);
    }

    /** Removes a pool and the ACL entries on its path and below. */
    public UserConfig withoutPool(String poolid) {
        Map<String, Pool> copy = new TreeMap<>(pools);
        copy.remove(poolid);
        String path = "/pool/" + poolid;
        return new UserConfig(users, groups, roles, copy,
                filterAcl(e -> !(e.path().equals(path) || e.path().startsWith(path + "/"))));
    }

    public UserConfig withToken(String userid, ApiToken token) {
        User user = user(userid).orElseThrow(() -> new IllegalArgumentException("no such user ('" + userid + "')"));
        return withUser(user.withToken(token));
    }

    /** Removes a token and its ACL entries. */
    public UserConfig withoutToken(String userid, String name) {
        User user = user(userid).orElseThrow(() -> new IllegalArgumentException("no such user ('" + userid + "')"));
        String fullId = userid + "!" + name;
        Map<String, User> copy = new TreeMap<>(users);
        copy.put(userid, user.withoutToken(name));
        return new UserConfig(copy, groups, roles, pools,
                filterAcl(e -> !(e.kind() == AclEntry.Kind.TOKEN && e.ugid().equals(fullId))));
    }

    public UserConfig withAcl(Collection<AclEntry> entries) {
        return new UserConfig(users, groups, roles, pools, entries);
    }

    private List<AclEntry> filterAcl(Predicate<AclEntry> keep) {
        return acl.stream().filter(keep).toList();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UserConfig other && users.equals(other.users) && groups.equals(other.groups)
                && roles.equals(other.roles) && pools.equals(other.pools) && acl.equals(other.acl);
    }

    @Override
    public int hashCode() {
        return Objects.hash(users, groups, roles, pools, acl);
    }

    @Override
    public String toString() {
        return UserConfigCodec.write(this);
    }
}
