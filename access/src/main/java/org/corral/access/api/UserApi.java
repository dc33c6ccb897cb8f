package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.access.AccessService;
import org.corral.access.Ids;
import org.corral.access.Realm;
import org.corral.access.config.Group;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.RealmConfig;
import org.corral.access.config.User;
import org.corral.access.config.UserConfig;
import org.corral.access.tfa.TfaConfig;
import org.corral.access.tfa.TfaUser;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** /access/users: list, create, read, update and delete users. */
public final class UserApi implements ApiModule {
    private static final Logger log = LoggerFactory.getLogger(UserApi.class);
    private static final Set<Privilege> READ = EnumSet.of(Privilege.USER_MODIFY, Privilege.SYS_AUDIT);
    private static final Set<Privilege> MODIFY = EnumSet.of(Privilege.USER_MODIFY);

    private final AccessService access;

    public UserApi(AccessService access) {
        this.access = requireNonNull(access, "access is null");
    }

    private static ApiMethod userOptions(ApiMethod method) {
        return method
                .parameter("enable", Schema.bool().optional()
                        .description("Enable the account (default). You can set this to '0' to disable the account"))
                .parameter("expire", Schema.integer().minimum(0).optional()
                        .description("Account expiration date (seconds since epoch). '0' means no expiration date."))
                .parameter("firstname", Schema.string().maxLength(1024).optional().description("First name."))
                .parameter("lastname", Schema.string().maxLength(1024).optional().description("Last name."))
                .parameter("email", Schema.string().maxLength(254).pattern(Schemas.EMAIL_OPT).optional().description("E-mail address."))
                .parameter("comment", Schema.string().maxLength(2048).multiLine().optional().description("A comment."))
                .parameter("keys", Schema.string().pattern("[0-9a-zA-Z!=]{0,4096}").optional()
                        .description("Keys for two factor auth (yubico)."))
                .parameter("groups", Schema.string().format(Formats.PVE_GROUPID + "-list").maxLength(65536).optional()
                        .description("The groups the user is a member of."));
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/access/users")
                        .name("index")
                        .description("User index.\nThe returned list is restricted to users where you have 'User.Modify' or "
                                + "'Sys.Audit' permissions on '/access/groups' or on a group the user belongs too. But it always "
                                + "includes the current (authenticated) user.")
                        .permission(Check.authenticated())
                        .parameter("enabled", Schema.bool().optional().description("Optional filter for enable property."))
                        .parameter("full", Schema.bool().defaultValue(false).description("Include group and token information."))
                        .returns(Schema.array(Schema.object().property("userid", Schema.string())))
                        .handler(this::index),
                userOptions(ApiMethod.post("/access/users")
                        .name("create_user")
                        .description("Create new user.\nYou need 'Realm.AllocateUser' on '/access/realm/<realm>' on the realm of "
                                + "user <userid>, and 'User.Modify' permissions to '/access/groups/<group>' for any group specified "
                                + "(or 'User.Modify' on '/access/groups' if you pass no groups.")
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid()))
                        .parameter("password", Schema.string().minLength(8).maxLength(64).optional().secret()
                                .description("Initial password."))
                        .handler(this::create),
                ApiMethod.get("/access/users/{userid}")
                        .name("read_user")
                        .description("Get user configuration.\nRequires 'User.Modify' or 'Sys.Audit' on /access/groups or on "
                                + "a group the user is a member of.")
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .returns(Schema.object())
                        .handler(this::read),
                userOptions(ApiMethod.put("/access/users/{userid}")
                        .name("update_user")
                        .description("Update user configuration.\nRequires 'User.Modify' on /access/groups, or on a group the "
                                + "user is a member of and on every group passed.")
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid()))
                        .parameter("append", Schema.bool().optional()
                                .description("Add the user to the groups passed instead of replacing its groups. Requires 'groups'."))
                        .parameter("digest", Schemas.digest())
                        .handler(this::update),
                ApiMethod.delete("/access/users/{userid}")
                        .name("delete_user")
                        .description("Delete user.\nRequires 'Realm.AllocateUser' on the user's realm and 'User.Modify' on "
                                + "/access/groups or on a group the user is a member of.")
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .handler(this::delete));
    }

    private Object index(ApiRequest r) {
        AuthContext auth = r.auth();
        UserConfig users = access.users();
        boolean all = access.hasAny(auth, "/access/groups", READ);
        Set<String> allowed = new LinkedHashSet<>();
        if (!all) {
            for (Group group : users.groups().values()) {
                if (access.hasAny(auth, "/access/groups/" + group.groupid(), READ)) {
                    allowed.addAll(group.members());
                }
            }
        }
        String caller = AccessService.authid(auth);
        boolean full = r.bool("full");
        Optional<Boolean> enabled = r.has("enabled") ? Optional.of(r.bool("enabled")) : Optional.empty();
        List<Map<String, Object>> result = new ArrayList<>();
        TfaConfig tfaConfig = access.twoFactor().config();
        for (User user : users.users().values()) {
            if (!all && !user.userid().equals(caller) && !allowed.contains(user.userid())) {
                continue;
            }
            if (enabled.isPresent() && enabled.get() != user.enable()) {
                continue;
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("userid", user.userid());
            entry.putAll(details(user));
            if (full) {
                entry.put("groups", String.join(",", users.groupsOf(user.userid())));
                List<Map<String, Object>> tokens = new ArrayList<>();
                user.tokens().values().forEach(t -> {
                    Map<String, Object> token = new LinkedHashMap<>();
                    token.put("tokenid", t.name());
                    token.putAll(TokenApi.info(t));
                    tokens.add(token);
                });
                entry.put("tokens", tokens);
            }
            access.domains().realm(Ids.realmOf(user.userid())).ifPresent(realm -> entry.put("realm-type", realm.type()));
            TfaUser tfa = tfaConfig.user(user.userid());
            if (tfa.totpLocked()) {
                entry.put("totp-locked", 1);
            }
            tfa.tfaLockedUntil().ifPresent(until -> entry.put("tfa-locked-until", until));
            result.add(entry);
        }
        return result;
    }

    static Map<String, Object> details(User user) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("enable", user.enable() ? 1 : 0);
        entry.put("expire", user.expire());
        putText(entry, "firstname", user.firstname());
        putText(entry, "lastname", user.lastname());
        putText(entry, "email", user.email());
        putText(entry, "comment", user.comment());
        putText(entry, "keys", user.keys());
        return entry;
    }

    private static void putText(Map<String, Object> entry, String key, String value) {
        if (!value.isEmpty()) {
            entry.put(key, value);
        }
    }

    private Object create(ApiRequest r) {
        AuthContext auth = r.auth();
        String userid = r.string("userid");
        Guards.realmAllocateUser(access, auth, userid);
        Guards.userGroup(access, auth, userid, MODIFY, Guards.GroupsParam.CREATE, r.optionalString("groups"));
        Ids.UserId id = Ids.user(userid).orElseThrow();
        RealmConfig realm = access.domains().realm(id.realm())
                .orElseThrow(() -> new ParameterError("userid", "auth domain '" + id.realm() + "' does not exist"));
        Optional<Realm> type = access.realmOf(realm);
        Optional<String> password = r.optionalString("password");
        if (password.isPresent() && type.isEmpty()) {
            throw new ParameterError("password", "can't set password on auth type '" + realm.type() + "'");
        }
        List<String> groups = ProxmoxText.splitList(r.optionalString("groups").orElse(""));
        access.updateUsers(Optional.empty(), users -> {
            if (users.user(userid).isPresent()) {
                throw new Conflict("create user failed: user '" + userid + "' already exists");
            }
            checkGroups(users, groups);
            User user = apply(User.of(userid), r);
            Set<String> memberships = new LinkedHashSet<>(groups);
            return users.withUser(user).withMemberships(userid, memberships);
        });
        try {
            if (password.isPresent()) {
                type.get().storePassword(realm, id.name(), password.get());
            } else if (type.isPresent()) {
                // a hash left over from an earlier user of that name must not let anyone in
                type.get().deleteUser(realm, id.name());
            }
        } catch (RuntimeException e) {
            access.updateUsers(Optional.empty(), users -> users.withoutUser(userid));
            if (e instanceof UnsupportedOperationException) {
                throw new ParameterError("password", e.getMessage());
            }
            throw e;
        }
        log.info("Created user {}", userid);
        return null;
    }

    private static void checkGroups(UserConfig users, List<String> groups) {
        for (String group : groups) {
            if (users.group(group).isEmpty()) {
                throw new ParameterError("groups", "no such group '" + group + "'");
            }
        }
    }

    /** The options of a create or update call applied to a user. */
    private static User apply(User user, ApiRequest r) {
        User result = user;
        if (r.has("enable")) {
            result = result.withEnable(r.bool("enable"));
        }
        if (r.has("expire")) {
            result = result.withExpire(r.integer("expire"));
        }
        if (r.has("firstname")) {
            result = result.withFirstname(r.string("firstname"));
        }
        if (r.has("lastname")) {
            result = result.withLastname(r.string("lastname"));
        }
        if (r.has("email")) {
            result = result.withEmail(r.string("email"));
        }
        if (r.has("comment")) {
            result = result.withComment(r.string("comment"));
        }
        if (r.has("keys")) {
            result = result.withKeys(r.string("keys"));
        }
        return result;
    }

    private Object read(ApiRequest r) {
        String userid = r.string("userid");
        Guards.userGroup(access, r.auth(), userid, READ, Guards.GroupsParam.NONE, Optional.empty());
        UserConfig users = access.users();
        User user = users.user(userid).orElseThrow(() -> new NotFound("no such user ('" + userid + "')"));
        Map<String, Object> result = details(user);
        result.put("groups", List.copyOf(users.groupsOf(userid)));
        Map<String, Object> tokens = new LinkedHashMap<>();
        user.tokens().values().forEach(t -> tokens.put(t.name(), TokenApi.info(t)));
        result.put("tokens", tokens);
        result.put("digest", access.usersDigest());
        return result;
    }

    private Object update(ApiRequest r) {
        String userid = r.string("userid");
        boolean append = r.has("append") && r.bool("append");
        if (r.has("append") && !r.has("groups")) {
            throw new ParameterError("append", "parameter 'append' requires 'groups'");
        }
        Guards.userGroup(access, r.auth(), userid, MODIFY, Guards.GroupsParam.UPDATE, r.optionalString("groups"));
        List<String> groups = ProxmoxText.splitList(r.optionalString("groups").orElse(""));
        access.updateUsers(r.optionalString("digest"), users -> {
            User user = users.user(userid).orElseThrow(() -> new NotFound("no such user ('" + userid + "')"));
            checkGroups(users, groups);
            UserConfig next = users.withUser(apply(user, r));
            if (r.has("groups")) {
                Set<String> memberships = new LinkedHashSet<>(groups);
                if (append) {
                    memberships.addAll(users.groupsOf(userid));
                }
                next = next.withMemberships(userid, memberships);
            }
            return next;
        });
        return null;
    }

    private Object delete(ApiRequest r) {
        AuthContext auth = r.auth();
        String userid = r.string("userid");
        Guards.realmAllocateUser(access, auth, userid);
        Guards.userGroup(access, auth, userid, MODIFY, Guards.GroupsParam.NONE, Optional.empty());
        if (userid.equals(AuthContext.ROOT)) {
            throw new ParameterError("userid", "user '" + AuthContext.ROOT + "' can't be deleted");
        }
        Ids.UserId id = Ids.user(userid).orElseThrow();
        access.updateUsers(Optional.empty(), users -> {
            if (users.user(userid).isEmpty()) {
                throw new NotFound("delete user failed: no such user ('" + userid + "')");
            }
            return users.withoutUser(userid);
        });
        // the user is gone from user.cfg, so leftovers below can't be used; a failed cleanup is only logged
        try {
            access.domains().realm(id.realm()).ifPresent(realm ->
                    access.realmOf(realm).ifPresent(type -> type.deleteUser(realm, id.name())));
        } catch (RuntimeException e) {
            log.warn("Deleted user {} but not its password entry", userid, e);
        }
        try {
            access.removeTokenSecrets(userid);
        } catch (RuntimeException e) {
            log.warn("Deleted user {} but not its token secrets", userid, e);
        }
        try {
            // a user made again under the same name must not inherit the old second factors
            access.twoFactor().removeUser(userid);
        } catch (RuntimeException e) {
            log.warn("Deleted user {} but not its second factors", userid, e);
        }
        log.info("Deleted user {}", userid);
        return null;
    }
}
