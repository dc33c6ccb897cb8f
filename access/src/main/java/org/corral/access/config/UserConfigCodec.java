package org.corral.access.config;

import static org.corral.access.config.ProxmoxText.field;
import static org.corral.access.config.ProxmoxText.truthy;
import static org.corral.core.config.ConfigWriter.field;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.access.Ids;
import static org.corral.core.config.ConfigWriter.field;

import org.corral.core.access.AuthContext;
import org.corral.core.config.ConfigWriter;
import org.corral.core.access.Privilege;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes user.cfg in Proxmox VE's format. Parsing follows Proxmox's rules line by line
 * (invalid lines and entries are skipped with a warning, as Proxmox does); writing produces the
 * exact text Proxmox writes, so a file Proxmox wrote reads and writes back byte for byte.
 */
public final class UserConfigCodec {
    private static final Logger log = LoggerFactory.getLogger(UserConfigCodec.class);
    private static final Pattern DIGITS = Pattern.compile("[0-9]+");
    private static final Pattern GROUP_REF = Pattern.compile("@(\\S+)");

    private UserConfigCodec() {}

    public static UserConfig parse(String text) {
        Map<String, User> users = new LinkedHashMap<>();
        Map<String, Group> groups = new LinkedHashMap<>();
        Map<String, EnumSet<Privilege>> roles = new LinkedHashMap<>();
        Map<String, Pool> pools = new LinkedHashMap<>();
        Map<Integer, String> vmPools = new HashMap<>();
        List<AclEntry> acl = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            List<String> f = ProxmoxText.splitFields(line);
            switch (field(f, 0)) {
                case "user" -> parseUser(f, users);
                case "group" -> parseGroup(f, groups);
                case "role" -> parseRole(f, roles);
                case "acl" -> parseAcl(f, users, groups, roles, acl);
                case "pool" -> parsePool(f, pools, vmPools);
                case "token" -> parseToken(f, users);
                default -> log.warn("user config - ignore config line: {}", line);
            }
        }
        Map<String, Role> roleMap = new LinkedHashMap<>();
        roles.forEach((id, privileges) -> roleMap.put(id, new Role(id, privileges)));
        return new UserConfig(users, groups, roleMap, pools, acl);
    }

    private static void parseUser(List<String> f, Map<String, User> users) {
        String userid = field(f, 1);
        if (!Ids.isUser(userid)) {
            log.warn("user config - ignore user '{}' - invalid user name", userid);
            return;
        }
        String expire = field(f, 3).isEmpty() ? "0" : field(f, 3);
        if (!DIGITS.matcher(expire).matches() || expire.length() > 18) {
            log.warn("user config - ignore user '{}' - (illegal characters in expire '{}')", userid, expire);
            return;
        }
        users.put(userid, new User(userid, truthy(field(f, 2)), Long.parseLong(expire), text(field(f, 4)),
                text(field(f, 5)), field(f, 6), text(field(f, 7)), truthy(field(f, 8)) ? field(f, 8) : "", new TreeMap<>()));
    }

    private static void parseGroup(List<String> f, Map<String, Group> groups) {
        String groupid = field(f, 1);
        if (!Ids.isGroup(groupid)) {
            log.warn("user config - ignore group '{}' - invalid characters in group name", groupid);
            return;
        }
        Group group = groups.getOrDefault(groupid, Group.of(groupid));
        if (truthy(field(f, 3))) {
            group = group.withComment(ProxmoxText.decode(field(f, 3)));
        }
        List<String> members = new ArrayList<>(group.members());
        for (String member : ProxmoxText.splitList(field(f, 2))) {
            if (Ids.isUser(member)) {
                members.add(member);
            } else {
                log.warn("user config - ignore invalid group member '{}'", member);
            }
        }
        groups.put(groupid, group.withMembers(members));
    }

    private static void parseRole(List<String> f, Map<String, EnumSet<Privilege>> roles) {
        String roleid = field(f, 1);
        if (!Ids.isRole(roleid)) {
            log.warn("user config - ignore role '{}' - invalid characters in role name", roleid);
            return;
        }
        if (BuiltinRoles.isBuiltin(roleid)) {
            log.warn("user config - ignore role '{}' - built-in roles can't be changed", roleid);
            return;
        }
        EnumSet<Privilege> privileges = roles.computeIfAbsent(roleid, r -> EnumSet.noneOf(Privilege.class));
        for (String name : ProxmoxText.splitList(field(f, 2))) {
            Optional<Privilege> privilege = Privilege.byName(name);
            if (privilege.isPresent()) {
                privileges.add(privilege.get());
            } else {
                log.warn("user config - ignore invalid privilege '{}'", name);
            }
        }
    }

    private static void parseAcl(List<String> f, Map<String, User> users, Map<String, Group> groups,
            Map<String, EnumSet<Privilege>> roles, List<AclEntry> acl) {
        boolean propagate = truthy(field(f, 1));
        Optional<String> path = AclPaths.normalize(field(f, 2));
        if (path.isEmpty()) {
            log.warn("user config - ignore invalid path in acl '{}'", field(f, 2));
            return;
        }
        for (String roleid : ProxmoxText.splitList(field(f, 4))) {
            if (!Ids.isRole(roleid) || !BuiltinRoles.isBuiltin(roleid) && !roles.containsKey(roleid)) {
                log.warn("user config - ignore invalid acl role '{}'", roleid);
                continue;
            }
            for (String ug : ProxmoxText.splitList(field(f, 3))) {
                Matcher group = GROUP_REF.matcher(ug);
                if (group.matches() && Ids.isGroup(group.group(1))) {
                    if (!groups.containsKey(group.group(1))) {
                        log.warn("user config - ignore invalid acl group '{}'", group.group(1));
                    }
                    acl.add(new AclEntry(path.get(), AclEntry.Kind.GROUP, group.group(1), roleid, propagate));
                } else if (Ids.isUser(ug)) {
                    if (!users.containsKey(ug)) {
                        log.warn("user config - ignore invalid acl member '{}'", ug);
                    }
                    acl.add(new AclEntry(path.get(), AclEntry.Kind.USER, ug, roleid, propagate));
                } else if (Ids.token(ug).filter(t -> users.containsKey(t.userid())
                        && users.get(t.userid()).tokens().containsKey(t.name())).isPresent()) {
                    acl.add(new AclEntry(path.get(), AclEntry.Kind.TOKEN, ug, roleid, propagate));
                } else {
                    log.warn("user config - invalid user/group/token '{}' in acl", ug);
                }
            }
        }
    }

    private static void parsePool(List<String> f, Map<String, Pool> pools, Map<Integer, String> vmPools) {
        String poolid = field(f, 1);
        if (!Ids.isPool(poolid)) {
            log.warn("user config - ignore pool '{}' - invalid characters in pool name", poolid);
            return;
        }
        Pool pool = pools.getOrDefault(poolid, Pool.of(poolid));
        // nested pools need their parents
        for (Optional<String> parent = pool.parent(); parent.isPresent(); parent = Pool.of(parent.get()).parent()) {
            pools.putIfAbsent(parent.get(), Pool.of(parent.get()));
        }
        if (truthy(field(f, 2))) {
            pool = pool.withComment(ProxmoxText.decode(field(f, 2)));
        }
        SortedSet<Integer> vms = new TreeSet<>(pool.vms());
        for (String vmid : ProxmoxText.splitList(field(f, 3))) {
            if (!DIGITS.matcher(vmid).matches() || vmid.length() > 10 || Long.parseLong(vmid) > Integer.MAX_VALUE) {
                log.warn("user config - ignore invalid vmid '{}' in pool '{}'", vmid, poolid);
                continue;
            }
            int id = Integer.parseInt(vmid);
            if (vmPools.containsKey(id)) {
                log.warn("user config - ignore duplicate vmid '{}' in pool '{}'", vmid, poolid);
                continue;
            }
            vms.add(id);
            vmPools.put(id, poolid);
        }
        SortedSet<String> storage = new TreeSet<>(pool.storage());
        for (String storeid : ProxmoxText.splitList(field(f, 4))) {
            if (Ids.isStorage(storeid)) {
                storage.add(storeid);
            } else {
                log.warn("user config - ignore invalid storage '{}' in pool '{}'", storeid, poolid);
            }
        }
        pools.put(poolid, pool.withVms(vms).withStorage(storage));
    }

    private static void parseToken(List<String> f, Map<String, User> users) {
        Optional<Ids.TokenId> tokenid = Ids.token(field(f, 1));
        if (tokenid.isEmpty()) {
            log.warn("user config - ignore invalid tokenid '{}'", field(f, 1));
            return;
        }
        String expire = field(f, 2).isEmpty() ? "0" : field(f, 2);
        if (!DIGITS.matcher(expire).matches() || expire.length() > 18) {
            log.warn("user config - ignore token '{}' - (illegal characters in expire '{}')", field(f, 1), expire);
            return;
        }
        User user = users.get(tokenid.get().userid());
        if (user == null) {
            log.warn("user config - ignore token '{}' - user does not exist", field(f, 1));
            return;
        }
        users.put(user.userid(), user.withToken(new ApiToken(tokenid.get().name(), Long.parseLong(expire),
                truthy(field(f, 3)), text(field(f, 4)))));
    }

    private static String text(String field) {
        return truthy(field) ? ProxmoxText.decode(field) : "";
    }

    private static String encoded(String text) {
        return truthy(text) ? ProxmoxText.encode(text) : "";
    }

    /** The file text; a value with a control character or a ':' is a ParameterError naming it. */
    public static String write(UserConfig config) {
        ConfigWriter out = new ConfigWriter();
        for (User user : config.users().values()) {
            out.fields(':', true, field("type", "user"), field("userid", user.userid()), field("enable", user.enable() ? "1" : "0"),
                    field("expire", Long.toString(user.expire())), field("firstname", encoded(user.firstname())),
                    field("lastname", encoded(user.lastname())), field("email", user.email()),
                    field("comment", encoded(user.comment())), field("keys", user.keys()));
            for (ApiToken token : user.tokens().values()) {
                out.fields(':', true, field("type", "token"), field("tokenid", token.fullId(user.userid())),
                        field("expire", Long.toString(token.expire())), field("privsep", token.privsep() ? "1" : "0"),
                        field("comment", encoded(token.comment())));
            }
        }
        out.blank();
        for (Group group : config.groups().values()) {
            out.fields(':', true, field("type", "group"), field("groupid", group.groupid()),
                    field("users", String.join(",", group.members())), field("comment", encoded(group.comment())));
        }
        out.blank();
        for (Pool pool : config.pools().values()) {
            out.fields(':', true, field("type", "pool"), field("poolid", pool.poolid()), field("comment", encoded(pool.comment())),
                    field("vms", String.join(",", pool.vms().stream().map(String::valueOf).toList())),
                    field("storage", String.join(",", pool.storage())));
        }
        out.blank();
        for (Role role : config.customRoles().values()) {
            out.fields(':', true, field("type", "role"), field("roleid", role.roleid()),
                    field("privs", String.join(",", role.privileges().stream().map(Privilege::proxmoxName)
                            .sorted(ProxmoxText.BYTE_ORDER).toList())));
        }
        out.blank();
        writeAcl(config.acl(), out);
        return out.text();
    }

    private static void writeAcl(List<AclEntry> acl, ConfigWriter out) {
        int i = 0;
        while (i < acl.size()) {
            String path = acl.get(i).path();
            // member -> role -> propagate, for this path
            Map<String, SortedMap<String, Boolean>> members = new LinkedHashMap<>();
            for (; i < acl.size() && acl.get(i).path().equals(path); i++) {
                AclEntry entry = acl.get(i);
                // root@pam holds every privilege anyway; Proxmox never stores its entries
                if (entry.kind() == AclEntry.Kind.USER && entry.ugid().equals(AuthContext.ROOT)) {
                    continue;
                }
                String member = entry.kind() == AclEntry.Kind.GROUP ? "@" + entry.ugid() : entry.ugid();
                members.computeIfAbsent(member, m -> new TreeMap<>(ProxmoxText.BYTE_ORDER)).put(entry.roleid(), entry.propagate());
            }
            List<SortedMap<String, SortedSet<String>>> byPropagate = List.of(
                    new TreeMap<>(ProxmoxText.BYTE_ORDER), new TreeMap<>(ProxmoxText.BYTE_ORDER));
            members.forEach((member, roles) -> {
                for (int propagate = 0; propagate <= 1; propagate++) {
                    boolean wanted = propagate == 1;
                    List<String> list = roles.entrySet().stream().filter(e -> e.getValue() == wanted).map(Map.Entry::getKey).toList();
                    if (!list.isEmpty()) {
                        byPropagate.get(propagate).computeIfAbsent(String.join(",", list),
                                k -> new TreeSet<>(ProxmoxText.BYTE_ORDER)).add(member);
                    }
                }
            });
            for (int propagate = 0; propagate <= 1; propagate++) {
                for (Map.Entry<String, SortedSet<String>> line : byPropagate.get(propagate).entrySet()) {
                    out.fields(':', true, field("type", "acl"), field("propagate", Integer.toString(propagate)), field("path", path),
                            field("users", String.join(",", line.getValue())), field("roles", line.getKey()));
                }
            }
        }
    }
}
