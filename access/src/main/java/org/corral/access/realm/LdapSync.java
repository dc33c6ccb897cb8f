package org.corral.access.realm;

import com.unboundid.ldap.sdk.Attribute;
import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.corral.access.Ids;
import org.corral.access.config.AclEntry;
import org.corral.access.config.Group;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.RealmConfig;
import org.corral.access.config.User;
import org.corral.access.config.UserConfig;

/**
 * A sync of an LDAP or AD realm into user.cfg, as Proxmox's {@code /access/domains/{realm}/sync}:
 * users {@code name@realm} from the entries under base_dn with user_attr, groups
 * {@code name-realm} from the group entries under group_dn with their members. What vanished from
 * the directory loses its ACL entries, its properties or the whole entry, as remove-vanished says.
 */
public final class LdapSync {
    /** user.cfg fields sync_attributes may fill. */
    public static final Set<String> SYNC_FIELDS = Set.of("email", "firstname", "lastname", "comment", "keys");
    private static final List<String> DEFAULT_USER_CLASSES = List.of("inetorgperson", "posixaccount", "person", "user");
    private static final List<String> DEFAULT_GROUP_CLASSES = List.of("groupOfNames", "group", "univentionGroup", "ipausergroup");

    /** What to sync and how. */
    public record Options(String scope, Set<String> removeVanished, boolean enableNew) {
        public boolean users() {
            return scope.equals("users") || scope.equals("both");
        }

        public boolean groups() {
            return scope.equals("groups") || scope.equals("both");
        }
    }

    /** The directory's users (username to user.cfg fields) and groups (name to member usernames). */
    public record Directory(Map<String, Map<String, String>> users, Map<String, Set<String>> groups) {}

    private LdapSync() {}

    /** Reads users (and groups, if asked) from the directory. */
    public static Directory read(LdapRealm type, RealmConfig realm, Options options) throws LDAPException {
        try (LDAPConnection connection = type.connect(realm)) {
            type.bindService(connection, realm);
            Map<String, String> mapping = syncAttributes(realm.option("sync_attributes").orElse(""));
            String userAttr = realm.option("user_attr").orElse(realm.type().equals("ad") ? "sAMAccountName" : "uid");
            boolean caseSensitive = ProxmoxText.truthy(realm.option("case-sensitive").orElse("1"));
            Filter userFilter = Filter.createANDFilter(classFilter(realm.option("user_classes"), DEFAULT_USER_CLASSES),
                    Filter.createPresenceFilter(userAttr));
            userFilter = withExtra(userFilter, realm.option("filter"));
            List<String> attrs = new ArrayList<>(mapping.values());
            attrs.add(userAttr);
            Map<String, Map<String, String>> users = new TreeMap<>();
            Map<String, String> dnToUser = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (SearchResultEntry entry : connection.search(realm.option("base_dn").orElse(""), SearchScope.SUB, userFilter,
                    attrs.toArray(String[]::new)).getSearchEntries()) {
                String name = entry.getAttributeValue(userAttr);
                if (!caseSensitive) {
                    name = name.toLowerCase(Locale.ROOT);
                }
                if (Ids.user(name + "@" + realm.realm()).isEmpty()) {
                    continue;
                }
                Map<String, String> fields = new LinkedHashMap<>();
                mapping.forEach((field, attr) -> {
                    String value = entry.getAttributeValue(attr);
                    if (value != null) {
                        fields.put(field, value);
                    }
                });
                users.put(name, fields);
                dnToUser.put(entry.getParsedDN().toNormalizedString(), name);
            }
            Map<String, Set<String>> groups = new TreeMap<>();
            if (options.groups()) {
                Filter groupFilter = withExtra(classFilter(realm.option("group_classes"), DEFAULT_GROUP_CLASSES),
                        realm.option("group_filter"));
                Optional<String> nameAttr = realm.option("group_name_attr").filter(a -> !a.isBlank());
                List<String> groupAttrs = new ArrayList<>(List.of("member", "uniqueMember", "memberUid"));
                nameAttr.ifPresent(groupAttrs::add);
                String base = realm.option("group_dn").filter(d -> !d.isBlank()).orElse(realm.option("base_dn").orElse(""));
                for (SearchResultEntry entry : connection.search(base, SearchScope.SUB, groupFilter,
                        groupAttrs.toArray(String[]::new)).getSearchEntries()) {
                    String name = nameAttr.map(entry::getAttributeValue).orElse(null);
                    if (name == null) {
                        name = LdapRealm.firstRdnValue(entry.getDN());
                    }
                    name = name.replaceAll("[^A-Za-z0-9._-]", "_");
                    Set<String> members = new TreeSet<>();
                    for (String attr : List.of("member", "uniqueMember")) {
                        Attribute values = entry.getAttribute(attr);
                        if (values != null) {
                            for (String dn : values.getValues()) {
                                String user = dnToUser.get(normalized(dn));
                                if (user != null) {
                                    members.add(user);
                                }
                            }
                        }
                    }
                    groups.put(name, members);
                }
            }
            return new Directory(users, groups);
        }
    }

    private static String normalized(String dn) {
        try {
            return new DN(dn).toNormalizedString();
        } catch (LDAPException e) {
            return dn;
        }
    }

    private static Filter classFilter(Optional<String> configured, List<String> defaults) {
        List<String> classes = configured.map(ProxmoxText::splitList).filter(l -> !l.isEmpty()).orElse(defaults);
        return Filter.createORFilter(classes.stream().map(c -> Filter.createEqualityFilter("objectclass", c)).toList());
    }

    private static Filter withExtra(Filter filter, Optional<String> extra) throws LDAPException {
        Optional<String> text = extra.filter(f -> !f.isBlank());
        return text.isPresent() ? Filter.createANDFilter(filter, Filter.create(text.get())) : filter;
    }

    /** sync_attributes: "field=attr,field=attr"; a bad pair is an IllegalArgumentException naming it. */
    public static Map<String, String> syncAttributes(String text) {
        Map<String, String> result = new LinkedHashMap<>();
        for (String pair : text.split(",")) {
            String p = pair.strip();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            if (eq <= 0 || eq == p.length() - 1) {
                throw new IllegalArgumentException("invalid attribute mapping '" + p + "'");
            }
            String field = p.substring(0, eq).strip();
            if (!SYNC_FIELDS.contains(field)) {
                throw new IllegalArgumentException("unknown user field '" + field + "'");
            }
            result.put(field, p.substring(eq + 1).strip());
        }
        return result;
    }

    /** user.cfg after the sync; every change is described to {@code log}. */
    public static UserConfig apply(UserConfig config, String realm, Directory directory, Options options,
            Consumer<String> log) {
        UserConfig next = config;
        String suffix = "@" + realm;
        if (options.users()) {
            for (var e : directory.users().entrySet()) {
                String userid = e.getKey() + suffix;
                Optional<User> existing = next.user(userid);
                User user = existing.orElseGet(() -> User.of(userid).withEnable(options.enableNew()));
                if (existing.isPresent() && options.removeVanished().contains("properties")) {
                    user = new User(userid, user.enable(), user.expire(), "", "", "", "", "", user.tokens());
                }
                for (var field : e.getValue().entrySet()) {
                    user = switch (field.getKey()) {
                        case "email" -> user.withEmail(field.getValue());
                        case "firstname" -> user.withFirstname(field.getValue());
                        case "lastname" -> user.withLastname(field.getValue());
                        case "comment" -> user.withComment(field.getValue());
                        default -> user.withKeys(field.getValue());
                    };
                }
                if (existing.isEmpty()) {
                    log.accept("adding user '" + userid + "'");
                } else if (!existing.get().equals(user)) {
                    log.accept("updating user '" + userid + "'");
                }
                next = next.withUser(user);
            }
            for (String userid : List.copyOf(next.users().keySet())) {
                if (userid.endsWith(suffix) && !directory.users().containsKey(userid.substring(0, userid.length() - suffix.length()))) {
                    next = removeVanished(next, userid, false, options, log);
                }
            }
        }
        if (options.groups()) {
            String groupSuffix = "-" + realm;
            for (var e : directory.groups().entrySet()) {
                String groupid = e.getKey() + groupSuffix;
                Set<String> members = new TreeSet<>();
                for (String member : e.getValue()) {
                    if (next.user(member + suffix).isPresent()) {
                        members.add(member + suffix);
                    }
                }
                Optional<Group> existing = next.group(groupid);
                Group group = existing.orElseGet(() -> Group.of(groupid));
                if (existing.isPresent() && options.removeVanished().contains("properties")) {
                    group = group.withComment("");
                }
                group = group.withMembers(members);
                if (existing.isEmpty()) {
                    log.accept("adding group '" + groupid + "' with members " + members);
                } else if (!existing.get().equals(group)) {
                    log.accept("updating group '" + groupid + "', members " + members);
                }
                next = next.withGroup(group);
            }
            for (String groupid : List.copyOf(next.groups().keySet())) {
                if (groupid.endsWith(groupSuffix)
                        && !directory.groups().containsKey(groupid.substring(0, groupid.length() - groupSuffix.length()))) {
                    next = removeVanished(next, groupid, true, options, log);
                }
            }
        }
        return next;
    }

    private static UserConfig removeVanished(UserConfig config, String id, boolean group, Options options,
            Consumer<String> log) {
        String what = group ? "group" : "user";
        Set<String> remove = options.removeVanished();
        if (remove.contains("entry")) {
            log.accept("removing " + what + " '" + id + "'");
            return group ? config.withoutGroup(id) : config.withoutUser(id);
        }
        UserConfig next = config;
        if (remove.contains("acl")) {
            AclEntry.Kind kind = group ? AclEntry.Kind.GROUP : AclEntry.Kind.USER;
            var kept = next.acl().stream().filter(e -> !(e.kind() == kind && e.ugid().equals(id))).toList();
            if (kept.size() != next.acl().size()) {
                log.accept("removing ACL entries of vanished " + what + " '" + id + "'");
                next = next.withAcl(kept);
            }
        }
        if (remove.contains("properties")) {
            if (group) {
                Group g = next.group(id).orElseThrow();
                if (!g.comment().isEmpty()) {
                    log.accept("removing properties of vanished group '" + id + "'");
                    next = next.withGroup(g.withComment(""));
                }
            } else {
                User u = next.user(id).orElseThrow();
                User cleared = new User(id, u.enable(), u.expire(), "", "", "", "", "", u.tokens());
                if (!cleared.equals(u)) {
                    log.accept("removing properties of vanished user '" + id + "'");
                    next = next.withUser(cleared);
                }
            }
        }
        return next;
    }

    /** remove-vanished: "none" or a ';' list of acl, properties, entry. */
    public static Set<String> parseRemoveVanished(String text) {
        if (text.isEmpty() || text.equals("none")) {
            return Set.of();
        }
        Set<String> result = new TreeSet<>();
        for (String part : text.split(";")) {
            if (!Set.of("acl", "properties", "entry").contains(part)) {
                throw new IllegalArgumentException("invalid value '" + part + "'");
            }
            result.add(part);
        }
        return result;
    }
}
