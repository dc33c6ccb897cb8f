package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.corral.access.config.AclEntry;
import org.corral.access.config.AclPaths;
import org.corral.access.config.ApiToken;
import org.corral.access.config.Pool;
import org.corral.access.config.Role;
import org.corral.access.config.UserConfig;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionView;
import org.corral.core.access.Privilege;

/**
 * Proxmox VE's permission rules over one parsed user.cfg. Walking from {@code /} to the path, the
 * entries of each level apply when the level is the path itself or the entry propagates; a user's
 * (or token's) own entries win over its groups' entries on the same level; a level with entries
 * replaces what came from above; NoAccess clears everything. Roles on {@code /pool/NAME} also apply
 * to the pool's guests ({@code /vms/ID}) and storages ({@code /storage/ID}) unless their own path
 * says NoAccess. A privilege-separated token gets what both it and its user have; any other token
 * gets its user's privileges; root@pam has all of them. Results are cached per caller and path
 * for the life of this snapshot. Account state (disabled, expired) is checked by the caller.
 */
public final class AclEvaluator {
    /** The privileges on one path, each with whether it propagates to the paths below. */
    public record Privileges(Map<Privilege, Boolean> flags, Set<Privilege> set) {
        public static final Privileges NONE = new Privileges(Map.of(), Set.of());

        static Privileges of(EnumMap<Privilege, Boolean> flags) {
            if (flags.isEmpty()) {
                return NONE;
            }
            return new Privileges(Collections.unmodifiableMap(flags), Collections.unmodifiableSet(EnumSet.copyOf(flags.keySet())));
        }
    }

    private static final int MAX_CACHED = 100_000;
    private static final String NO_ACCESS = "NoAccess";
    private static final Privileges ALL;

    static {
        EnumMap<Privilege, Boolean> all = new EnumMap<>(Privilege.class);
        for (Privilege privilege : Privilege.values()) {
            all.put(privilege, true);
        }
        ALL = Privileges.of(all);
    }

    private final UserConfig config;
    private final Map<String, PathEntries> byPath = new HashMap<>();
    private final Map<String, Role> roles;
    private final ConcurrentHashMap<String, Caller> callers = new ConcurrentHashMap<>();
    private final AtomicInteger cached = new AtomicInteger();
    private volatile int[] guestsWithOwnRules;

    public AclEvaluator(UserConfig config) {
        this.config = requireNonNull(config, "config is null");
        this.roles = config.allRoles();
        for (AclEntry entry : config.acl()) {
            PathEntries entries = byPath.computeIfAbsent(entry.path(), p -> new PathEntries());
            Map<String, Map<String, Boolean>> subjects = switch (entry.kind()) {
                case USER -> entries.users;
                case GROUP -> entries.groups;
                case TOKEN -> entries.tokens;
            };
            subjects.computeIfAbsent(entry.ugid(), u -> new HashMap<>()).put(entry.roleid(), entry.propagate());
        }
    }

    public UserConfig config() {
        return config;
    }

    /** The privileges of a user or full token id on a path; nothing for a token that does not exist. */
    public Privileges privileges(String authid, String path) {
        if (authid.equals(AuthContext.ROOT)) {
            return ALL;
        }
        Caller caller = callers.computeIfAbsent(authid, a -> new Caller());
        Privileges known = caller.byPath.get(path);
        if (known != null) {
            return known;
        }
        Privileges computed = AclPaths.normalize(path).map(p -> compute(authid, p)).orElse(Privileges.NONE);
        // bounds memory when callers ask for many different paths
        if (cached.incrementAndGet() > MAX_CACHED) {
            callers.values().forEach(c -> c.byPath.clear());
            cached.set(0);
        }
        caller.byPath.put(path, computed);
        return computed;
    }

    private Privileges compute(String authid, String path) {
        if (authid.indexOf('!') >= 0) {
            Optional<Ids.TokenId> tokenid = Ids.token(authid);
            Optional<ApiToken> token = tokenid.flatMap(t -> config.token(t.userid(), t.name()));
            if (token.isEmpty()) {
                return Privileges.NONE;
            }
            Privileges user = privileges(tokenid.get().userid(), path);
            if (!token.get().privsep()) {
                return user;
            }
            Privileges own = fromRoles(rolesWithPools(authid, path));
            EnumMap<Privilege, Boolean> both = new EnumMap<>(Privilege.class);
            own.flags().forEach((privilege, propagate) -> {
                Boolean userPropagate = user.flags().get(privilege);
                if (userPropagate != null) {
                    both.put(privilege, userPropagate && propagate);
                }
            });
            return Privileges.of(both);
        }
        if (!Ids.isUser(authid)) {
            return Privileges.NONE;
        }
        return fromRoles(rolesWithPools(authid, path));
    }

    private Privileges fromRoles(Map<String, Boolean> granted) {
        EnumMap<Privilege, Boolean> flags = new EnumMap<>(Privilege.class);
        granted.forEach((roleid, propagate) -> {
            Role role = roles.get(roleid);
            if (role != null) {
                role.privileges().forEach(p -> flags.merge(p, propagate, Boolean::logicalOr));
            }
        });
        return Privileges.of(flags);
    }

    /** The roles granted on the path by the ACL tree, plus those inherited from a pool of the object. */
    private Map<String, Boolean> rolesWithPools(String authid, String path) {
        Map<String, Boolean> granted = roles(authid, path);
        Map<String, Boolean> fromPool = callers.get(authid).poolRoles(this, authid).get(path);
        if (fromPool != null && !granted.containsKey(NO_ACCESS)) {
            if (fromPool.containsKey(NO_ACCESS)) {
                // a pool's NoAccess wins over the object's own ACL entries
                return Map.of(NO_ACCESS, false);
            }
            Map<String, Boolean> merged = new HashMap<>(granted);
            // roles from a pool never propagate further
            fromPool.keySet().forEach(role -> merged.putIfAbsent(role, false));
            return merged;
        }
        return granted;
    }

    /**
     * The privileges of a user or full token id on every guest ({@code /vms/ID}), made once per
     * caller and user.cfg: a guest with neither ACL entries on its own path nor a pool gets what
     * every such guest gets, so only the guests named by ACL paths or pools are evaluated one by one.
     */
    public PermissionView view(String authid) {
        Caller caller = callers.computeIfAbsent(authid, a -> new Caller());
        View known = caller.view;
        if (known == null) {
            known = computeView(authid);
            caller.view = known;
        }
        return known;
    }

    private View computeView(String authid) {
        int[] named = guestsWithOwnRules();
        // a guest id that no ACL path and no pool names stands for all such guests
        int unnamed = 100;
        for (int id : named) {
            if (id == unnamed) {
                unnamed++;
            } else if (id > unnamed) {
                break;
            }
        }
        Set<Privilege> others = privileges(authid, "/vms/" + unnamed).set();
        Map<Integer, Set<Privilege>> exceptions = new HashMap<>();
        for (int id : named) {
            Set<Privilege> own = privileges(authid, "/vms/" + id).set();
            if (!own.equals(others)) {
                exceptions.put(id, own);
            }
        }
        return new View(this, authid, others, exceptions);
    }

    /** Sorted ids of the guests that an ACL path ({@code /vms/ID}) or a pool names. */
    private int[] guestsWithOwnRules() {
        int[] known = guestsWithOwnRules;
        if (known == null) {
            TreeSet<Integer> ids = new TreeSet<>();
            for (String path : byPath.keySet()) {
                if (path.startsWith("/vms/")) {
                    String rest = path.substring("/vms/".length());
                    if (!rest.isEmpty() && rest.length() < 10 && rest.chars().allMatch(c -> c >= '0' && c <= '9')) {
                        ids.add(Integer.parseInt(rest));
                    }
                }
            }
            for (Pool pool : config.pools().values()) {
                ids.addAll(pool.vms());
            }
            known = ids.stream().mapToInt(Integer::intValue).toArray();
            guestsWithOwnRules = known;
        }
        return known;
    }

    /** A caller's privileges under this user.cfg; guests answered from a map. */
    private static final class View implements PermissionView {
        private final AclEvaluator evaluator;
        private final String authid;
        private final Set<Privilege> others;
        private final Map<Integer, Set<Privilege>> exceptions;

        View(AclEvaluator evaluator, String authid, Set<Privilege> others, Map<Integer, Set<Privilege>> exceptions) {
            this.evaluator = evaluator;
            this.authid = authid;
            this.others = others;
            this.exceptions = exceptions;
        }

        @Override
        public Set<Privilege> privileges(String path) {
            return evaluator.privileges(authid, path).set();
        }

        @Override
        public Set<Privilege> guest(int vmid) {
            Set<Privilege> own = exceptions.get(vmid);
            return own != null ? own : others;
        }
    }

    /** Proxmox's {@code roles()}: the roles of a user or privilege-separated token on a path, with propagate flags. */
    public Map<String, Boolean> roles(String authid, String path) {
        if (authid.equals(AuthContext.ROOT)) {
            return Map.of("Administrator", true);
        }
        boolean token = authid.indexOf('!') >= 0;
        Set<String> groups = token ? Set.of() : config.groupsOf(authid);
        Map<String, Boolean> result = Map.of();
        List<String> levels = levels(path);
        for (int i = 0; i < levels.size(); i++) {
            PathEntries entries = byPath.get(levels.get(i));
            if (entries == null) {
                continue;
            }
            boolean last = i == levels.size() - 1;
            Map<String, Boolean> own = applicable(token ? entries.tokens.get(authid) : entries.users.get(authid), last, null);
            if (own != null) {
                result = own;
                continue;
            }
            Map<String, Boolean> fromGroups = null;
            for (Map.Entry<String, Map<String, Boolean>> group : entries.groups.entrySet()) {
                if (groups.contains(group.getKey())) {
                    fromGroups = applicable(group.getValue(), last, fromGroups);
                }
            }
            if (fromGroups != null) {
                result = fromGroups;
            }
        }
        Boolean noAccess = result.get(NO_ACCESS);
        return noAccess != null ? Map.of(NO_ACCESS, noAccess) : result;
    }

    private static Map<String, Boolean> applicable(Map<String, Boolean> granted, boolean last, Map<String, Boolean> into) {
        if (granted == null) {
            return into;
        }
        Map<String, Boolean> result = into;
        for (Map.Entry<String, Boolean> grant : granted.entrySet()) {
            if (last || grant.getValue()) {
                if (result == null) {
                    result = new HashMap<>();
                }
                result.put(grant.getKey(), grant.getValue());
            }
        }
        return result;
    }

    /** "/", "/vms", "/vms/100" for "/vms/100". */
    private static List<String> levels(String path) {
        List<String> levels = new ArrayList<>();
        levels.add("/");
        int from = 1;
        while (from < path.length()) {
            int slash = path.indexOf('/', from);
            int end = slash < 0 ? path.length() : slash;
            levels.add(path.substring(0, end));
            from = end + 1;
        }
        return levels;
    }

    /** Every node of the ACL tree: "/" and each prefix of each path that has entries, in tree order. */
    public List<String> aclTreePaths() {
        TreeSet<String> paths = new TreeSet<>(AclEntry::comparePaths);
        paths.add("/");
        for (String path : byPath.keySet()) {
            paths.addAll(levels(path));
        }
        return List.copyOf(paths);
    }

    private static final class PathEntries {
        final Map<String, Map<String, Boolean>> users = new HashMap<>();
        final Map<String, Map<String, Boolean>> groups = new HashMap<>();
        final Map<String, Map<String, Boolean>> tokens = new HashMap<>();
    }

    private static final class Caller {
        final ConcurrentHashMap<String, Privileges> byPath = new ConcurrentHashMap<>();
        volatile View view;
        private volatile Map<String, Map<String, Boolean>> poolRoles;

        Map<String, Map<String, Boolean>> poolRoles(AclEvaluator evaluator, String authid) {
            Map<String, Map<String, Boolean>> known = poolRoles;
            if (known == null) {
                known = evaluator.computePoolRoles(authid);
                poolRoles = known;
            }
            return known;
        }
    }

    private Map<String, Map<String, Boolean>> computePoolRoles(String authid) {
        Map<String, Map<String, Boolean>> result = new HashMap<>();
        for (Pool pool : config.pools().values()) {
            Map<String, Boolean> poolRoles = roles(authid, "/pool/" + pool.poolid());
            if (poolRoles.isEmpty()) {
                continue;
            }
            for (int vmid : pool.vms()) {
                result.computeIfAbsent("/vms/" + vmid, p -> new LinkedHashMap<>()).putAll(poolRoles);
            }
            for (String storage : pool.storage()) {
                result.computeIfAbsent("/storage/" + storage, p -> new LinkedHashMap<>()).putAll(poolRoles);
            }
        }
        return result;
    }
}
