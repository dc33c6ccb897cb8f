package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import com.unboundid.ldap.sdk.DN;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPException;
import org.corral.access.AccessService;
import org.corral.access.OpenIdLogin;
import org.corral.access.Realm;
import org.corral.access.Realms;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.RealmConfig;
import org.corral.access.config.UserConfig;
import org.corral.access.realm.LdapRealm;
import org.corral.access.realm.LdapSync;
import org.corral.access.tfa.RealmTfa;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.Conflict;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.task.TaskManager;
import org.corral.core.task.Upid;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;

/**
 * /access/domains: the authentication realms. The built-in pam and pve realms can be changed but
 * neither created nor deleted. Secrets (an LDAP bind password, an OpenID client key) go to priv/ only.
 */
public final class DomainApi implements ApiModule {
    private static final Set<String> BUILTIN = Set.of("pam", "pve");

    private final AccessService access;

    public DomainApi(AccessService access) {
        this.access = requireNonNull(access, "access is null");
    }

    private static ApiMethod options(ApiMethod method) {
        return method
                .parameter("comment", Schema.string().maxLength(4096).multiLine().optional()
                        .description("Description. The GUI shows this text when you select a domain (Realm) on the login window."))
                .parameter("default", Schema.bool().optional().description("Use this as default realm"))
                .parameter("tfa", Schema.string().maxLength(128).optional().description("Use Two-factor authentication."))
                .parameter("server1", Schema.string().maxLength(256).pattern(ADDRESS).optional()
                        .description("Server IP address (or DNS name)"))
                .parameter("server2", Schema.string().maxLength(256).pattern(ADDRESS).optional()
                        .description("Fallback Server IP address (or DNS name)"))
                .parameter("port", Schema.integer().minimum(1).maximum(65535).optional().description("Server port."))
                .parameter("base_dn", Schema.string().maxLength(256).optional().description("LDAP base domain name"))
                .parameter("bind_dn", Schema.string().maxLength(256).optional().description("LDAP bind domain name"))
                .parameter("password", Schema.string().optional().secret()
                        .description("LDAP bind password. Will be stored in '/etc/pve/priv/realm/<REALM>.pw'."))
                .parameter("user_attr", Schema.string().maxLength(256).pattern("\\S{2,}").optional()
                        .description("LDAP user attribute name"))
                .parameter("domain", Schema.string().maxLength(256).pattern("\\S+").optional().description("AD domain name"))
                .parameter("mode", Schema.string().enumValues("ldap", "ldaps", "ldap+starttls").optional()
                        .defaultValue("ldap").description("LDAP protocol mode."))
                .parameter("secure", Schema.bool().optional()
                        .description("Use secure LDAPS protocol. DEPRECATED: use 'mode' instead."))
                .parameter("sslversion", Schema.string().enumValues("tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3").optional()
                        .description("LDAPS TLS/SSL version. It's not recommended to use version older than 1.2!"))
                .parameter("verify", Schema.bool().optional().defaultValue(0).description("Verify the server's SSL certificate"))
                .parameter("capath", Schema.string().maxLength(4096).optional().defaultValue("/etc/ssl/certs")
                        .description("Path to the CA certificate store"))
                .parameter("cert", Schema.string().maxLength(4096).optional().description("Path to the client certificate"))
                .parameter("certkey", Schema.string().maxLength(4096).optional().description("Path to the client certificate key"))
                .parameter("filter", Schema.string().maxLength(2048).optional().description("LDAP filter for user sync."))
                .parameter("group_dn", Schema.string().maxLength(256).optional()
                        .description("LDAP base domain name for group sync. If not set, the base_dn will be used."))
                .parameter("group_filter", Schema.string().maxLength(2048).optional().description("LDAP filter for group sync."))
                .parameter("group_name_attr", Schema.string().maxLength(256).pattern(SIMPLE_ATTR).optional()
                        .description("LDAP attribute representing a groups name. If not set or found, the first value of the DN "
                                + "will be used as name."))
                .parameter("group_classes", Schema.string().maxLength(4096).pattern(SIMPLE_ATTR_LIST).optional()
                        .defaultValue("groupOfNames, group, univentionGroup, ipausergroup").description("The objectclasses for groups."))
                .parameter("user_classes", Schema.string().maxLength(4096).pattern(SIMPLE_ATTR_LIST).optional()
                        .defaultValue("inetorgperson, posixaccount, person, user").description("The objectclasses for users."))
                .parameter("sync-defaults-options", Schema.string().maxLength(4096).optional()
                        .typeText("[enable-new=<1|0>] [,full=<1|0>] [,purge=<1|0>] [,remove-vanished=([acl];[properties];[entry])|none] "
                                + "[,scope=<users|groups|both>]")
                        .description("The default options for behavior of synchronizations."))
                .parameter("sync_attributes", Schema.string().maxLength(4096).pattern("\\w+=[^,]+(,\\s*\\w+=[^,]+)*").optional()
                        .description("Comma separated list of key=value pairs for specifying which LDAP attributes map to which "
                                + "PVE user field. For example, to map the LDAP attribute 'mail' to PVEs 'email', write "
                                + "'email=mail'. By default, each PVE user field is represented  by an LDAP attribute of the same name."))
                .parameter("case-sensitive", Schema.bool().optional().defaultValue(1).description("username is case-sensitive"))
                .parameter("check-connection", Schema.bool().optional().defaultValue(0)
                        .description("Check bind connection to the server."))
                .parameter("issuer-url", Schema.string().maxLength(256).optional().description("OpenID Issuer Url"))
                .parameter("client-id", Schema.string().maxLength(256).optional().description("OpenID Client ID"))
                .parameter("client-key", Schema.string().maxLength(256).optional().secret()
                        .description("OpenID Client Key. Will be stored in '/etc/pve/priv/openid/<REALM>.key'."))
                .parameter("autocreate", Schema.bool().optional().defaultValue(0)
                        .description("Automatically create users if they do not exist."))
                .parameter("scopes", Schema.string().maxLength(1024).optional()
                        .defaultValue("email profile").description("Specifies the scopes (user details) that should be "
                                + "authorized and returned, for example 'email' or 'profile'."))
                .parameter("prompt", Schema.string().pattern("(?:none|login|consent|select_account|\\S+)").optional()
                        .description("Specifies whether the Authorization Server prompts the End-User for reauthentication "
                                + "and consent."))
                .parameter("acr-values", Schema.string().pattern("^[^\\x00-\\x1F\\x7F <>#\"]*$").optional()
                        .description("Specifies the Authentication Context Class Reference values that theAuthorization "
                                + "Server is being requested to use for the Auth Request."))
                .parameter("groups-claim", Schema.string().maxLength(256).pattern(OpenIdLogin.CLAIM_REGEX).optional()
                        .description("OpenID claim used to retrieve groups with."))
                .parameter("groups-autocreate", Schema.bool().optional().defaultValue(0)
                        .description("Automatically create groups if they do not exist."))
                .parameter("groups-overwrite", Schema.bool().optional().defaultValue(0)
                        .description("All groups will be overwritten for the user on login."))
                .parameter("query-userinfo", Schema.bool().optional().defaultValue(1)
                        .description("Enables querying the userinfo endpoint for claims values."));
    }

    private static final String ADDRESS = "[A-Za-z0-9.:\\[\\]_-]+";
    private static final String SIMPLE_ATTR = "[a-zA-Z0-9][a-zA-Z0-9-]*";
    private static final String SIMPLE_ATTR_LIST = "[a-zA-Z0-9][a-zA-Z0-9-]*(\\s*[,; ]\\s*[a-zA-Z0-9][a-zA-Z0-9-]*)*";
    /** Options of the realm section taken from the parameters as they are. */
    private static final List<String> TEXT_OPTIONS = List.of("server1", "server2", "base_dn", "bind_dn", "user_attr", "domain",
            "mode", "sslversion", "capath", "cert", "certkey", "filter", "group_dn", "group_filter", "group_name_attr",
            "group_classes", "user_classes", "sync-defaults-options", "sync_attributes", "issuer-url", "client-id", "username-claim",
            "scopes", "prompt", "acr-values", "groups-claim");
    private static final List<String> BOOL_OPTIONS = List.of("secure", "verify", "case-sensitive", "autocreate", "groups-autocreate",
            "groups-overwrite", "query-userinfo");
    private static final List<String> DN_OPTIONS = List.of("base_dn", "bind_dn", "group_dn");

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/access/domains")
                        .name("index")
                        .description("Authentication domain index.\nAnyone can access that, because we need that list for "
                                + "the login box (before the user is authenticated).")
                        .permission(Check.anonymous())
                        .returns(Schema.array(Schema.object().property("realm", Schema.string()).property("type", Schema.string())))
                        .handler(this::index),
                options(ApiMethod.post("/access/domains")
                        .name("create")
                        .description("Add an authentication server.")
                        .permission(Check.path("/access/realm", Privilege.REALM_ALLOCATE))
                        .parameter("realm", Schemas.realm())
                        .parameter("type", Schema.string().enumValues("ad", "ldap", "openid", "pam", "pve").description("Realm type."))
                        .parameter("username-claim", Schema.string().maxLength(256).optional()
                                .description("OpenID claim used to generate the unique username.")))
                        .handler(this::create),
                ApiMethod.get("/access/domains/{realm}")
                        .name("read")
                        .description("Get auth server configuration.")
                        .permission(Check.pathAny("/access/realm", Privilege.REALM_ALLOCATE, Privilege.SYS_AUDIT))
                        .parameter("realm", Schemas.realm())
                        .returns(Schema.object())
                        .handler(this::read),
                options(ApiMethod.put("/access/domains/{realm}")
                        .name("update")
                        .description("Update authentication server settings.")
                        .permission(Check.path("/access/realm", Privilege.REALM_ALLOCATE))
                        .parameter("realm", Schemas.realm()))
                        .parameter("delete", Schema.string().format(Formats.PVE_CONFIGID + "-list").maxLength(4096).optional()
                                .description("A list of settings you want to delete."))
                        .parameter("digest", Schemas.digest())
                        .handler(this::update),
                ApiMethod.delete("/access/domains/{realm}")
                        .name("delete")
                        .description("Delete an authentication server.")
                        .permission(Check.path("/access/realm", Privilege.REALM_ALLOCATE))
                        .parameter("realm", Schemas.realm())
                        .handler(this::delete),
                ApiMethod.post("/access/domains/{realm}/sync")
                        .name("sync")
                        .description("Syncs users and/or groups from the configured LDAP to user.cfg. NOTE: Synced groups will "
                                + "have the name 'name-$realm', so make sure those groups do not exist to prevent overwriting.")
                        .permission(Check.path("/access/realm/{realm}", Privilege.REALM_ALLOCATE_USER))
                        .parameter("realm", Schemas.realm())
                        .parameter("scope", Schema.string().enumValues("users", "groups", "both").optional()
                                .description("Select what to sync."))
                        .parameter("remove-vanished", Schema.string().maxLength(128)
                                .pattern("(?:(?:(?:acl|properties|entry);)*(?:acl|properties|entry))|none").optional()
                                .defaultValue("none")
                                .description("A semicolon-separated list of things to remove when they or the user vanishes "
                                        + "during a sync. The following values are possible: 'entry' removes the user/group when "
                                        + "not returned from the sync. 'properties' removes the set properties on existing "
                                        + "user/group that do not appear in the source (even custom ones). 'acl' removes acls "
                                        + "when the user/group is not returned from the sync. Instead of a list it also can be "
                                        + "'none' (the default)."))
                        .parameter("enable-new", Schema.bool().optional().defaultValue(1)
                                .description("Enable newly synced users immediately."))
                        .parameter("dry-run", Schema.bool().optional().defaultValue(0)
                                .description("If set, does not write anything."))
                        .parameter("full", Schema.bool().optional()
                                .description("DEPRECATED: use 'remove-vanished' instead. If set, uses the LDAP Directory as "
                                        + "source of truth, deleting users or groups not returned from the sync and removing "
                                        + "all locally modified properties of synced users. If not set, only syncs information "
                                        + "which is present in the synced data, and does not delete or modify anything else."))
                        .parameter("purge", Schema.bool().optional()
                                .description("DEPRECATED: use 'remove-vanished' instead. Remove ACLs for users or groups which "
                                        + "were removed from the config during a sync."))
                        .returns(Schema.string().description("Worker Task-UPID"))
                        .handler(this::sync));
    }

    private Object index(ApiRequest r) {
        List<Map<String, Object>> result = new ArrayList<>();
        for (RealmConfig realm : access.domains().realms().values()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("realm", realm.realm());
            entry.put("type", realm.type());
            if (ProxmoxText.truthy(realm.comment())) {
                entry.put("comment", realm.comment());
            }
            if (realm.isDefault()) {
                entry.put("default", 1);
            }
            realm.option("tfa").flatMap(DomainApi::tfaType).ifPresent(type -> entry.put("tfa", type));
            result.add(entry);
        }
        return result;
    }

    private static Optional<String> tfaType(String tfa) {
        try {
            return Optional.of(RealmTfa.parse(tfa).type());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The realm's tfa option, checked as Proxmox's pve-tfa-config format. */
    private static void checkTfa(ApiRequest r) {
        if (r.has("tfa")) {
            try {
                RealmTfa.parse(r.string("tfa"));
            } catch (IllegalArgumentException e) {
                throw new ParameterError("tfa", e.getMessage());
            }
        }
    }

    private Object create(ApiRequest r) {
        String realm = r.string("realm");
        String type = r.string("type");
        if (BUILTIN.contains(realm)) {
            throw new ParameterError("realm", "unable to use reserved name '" + realm + "'");
        }
        if (BUILTIN.contains(type)) {
            throw new ParameterError("type", "unable to create builtin type '" + type + "'");
        }
        if (access.realms().get(type).isEmpty()) {
            throw new ParameterError("type", Realms.PROXMOX_TYPES.contains(type)
                    ? "realm type '" + type + "' is not supported yet" : "unknown realm type '" + type + "'");
        }
        checkTfa(r);
        Realm impl = access.realms().get(type).orElseThrow();
        checkOptions(r, impl);
        RealmConfig created = apply(new RealmConfig(realm, type, Map.of()), r);
        checkRequired(created, impl);
        checkConnection(r, impl, created, r.optionalString("password"));
        access.updateDomains(Optional.empty(), domains -> {
            if (domains.realm(realm).isPresent()) {
                throw new Conflict("add auth server failed: domain '" + realm + "' already exists");
            }
            return domains.withRealm(created);
        });
        if (r.has("password")) {
            access.setBindPassword(realm, Optional.of(r.string("password")));
        }
        if (r.has("client-key")) {
            access.setClientKey(realm, Optional.of(r.string("client-key")));
        }
        return null;
    }

    private static RealmConfig apply(RealmConfig realm, ApiRequest r) {
        RealmConfig result = realm;
        if (r.has("comment")) {
            result = result.with("comment", r.string("comment"));
        }
        if (r.has("default")) {
            result = r.bool("default") ? result.with("default", "1") : result.without("default");
        }
        if (r.has("tfa")) {
            result = result.with("tfa", r.string("tfa"));
        }
        for (String key : TEXT_OPTIONS) {
            if (r.has(key)) {
                result = result.with(key, r.string(key));
            }
        }
        for (String key : BOOL_OPTIONS) {
            if (r.has(key)) {
                result = result.with(key, r.bool(key) ? "1" : "0");
            }
        }
        if (r.has("port")) {
            result = result.with("port", Long.toString(r.integer("port")));
        }
        return result;
    }

    /** Refuses options the realm type does not have and values that can't be used, naming every bad parameter. */
    private static void checkOptions(ApiRequest r, Realm type) {
        Map<String, String> errors = new LinkedHashMap<>();
        List<String> given = new ArrayList<>(TEXT_OPTIONS);
        given.addAll(BOOL_OPTIONS);
        given.add("port");
        for (String key : given) {
            if (r.has(key) && !type.options().contains(key)) {
                errors.put(key, "unexpected property for realm type '" + type.type() + "'");
            }
        }
        if (r.has("tfa") && !type.options().contains("tfa")) {
            errors.put("tfa", "unexpected property for realm type '" + type.type() + "'");
        }
        if (r.has("client-key") && !type.keepsClientKey()) {
            errors.put("client-key", "unexpected property for realm type '" + type.type() + "'");
        } else if (r.has("client-key") && (r.string("client-key").indexOf('\n') >= 0 || r.string("client-key").indexOf('\0') >= 0)) {
            errors.put("client-key", "must not contain line breaks or NUL characters");
        }
        if (r.has("issuer-url")) {
            OpenIdLogin.checkUrl(r.string("issuer-url")).ifPresent(problem -> errors.putIfAbsent("issuer-url", problem));
        }
        if (r.has("username-claim") && !r.string("username-claim").matches(OpenIdLogin.CLAIM_REGEX)) {
            errors.putIfAbsent("username-claim", "value does not match the regex pattern");
        }
        if (r.has("password") && !type.keepsBindPassword()) {
            errors.put("password", "unexpected property for realm type '" + type.type() + "'");
        } else if (r.has("password") && (r.string("password").indexOf('\n') >= 0 || r.string("password").indexOf('\0') >= 0)) {
            errors.put("password", "must not contain line breaks or NUL characters");
        }
        for (String key : DN_OPTIONS) {
            // AD also takes user@domain as the bind name
            boolean principal = key.equals("bind_dn") && type.type().equals("ad") && r.has(key) && r.string(key).contains("@");
            if (r.has(key) && !r.string(key).isEmpty() && !principal && !DN.isValidDN(r.string(key))) {
                errors.putIfAbsent(key, "invalid DN '" + r.string(key) + "'");
            }
        }
        for (String key : List.of("filter", "group_filter")) {
            if (r.has(key) && !r.string(key).isBlank()) {
                try {
                    Filter.create(r.string(key));
                } catch (LDAPException e) {
                    errors.putIfAbsent(key, "invalid LDAP filter: " + e.getMessage());
                }
            }
        }
        if (r.has("sync_attributes")) {
            try {
                LdapSync.syncAttributes(r.string("sync_attributes"));
            } catch (IllegalArgumentException e) {
                errors.putIfAbsent("sync_attributes", e.getMessage());
            }
        }
        if (r.has("sync-defaults-options")) {
            try {
                syncDefaults(r.string("sync-defaults-options"));
            } catch (IllegalArgumentException e) {
                errors.putIfAbsent("sync-defaults-options", e.getMessage());
            }
        }
        for (String key : List.of("capath", "cert", "certkey")) {
            if (r.has(key) && !r.string(key).startsWith("/")) {
                errors.putIfAbsent(key, "must be an absolute path");
            }
        }
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
    }

    /** With check-connection set, refuses a realm whose servers can't be reached or refuse the bind. */
    private static void checkConnection(ApiRequest r, Realm type, RealmConfig config, Optional<String> password) {
        if (!r.has("check-connection") || !r.bool("check-connection")) {
            return;
        }
        if (!(type instanceof LdapRealm ldap)) {
            throw new ParameterError("check-connection", "unexpected property for realm type '" + type.type() + "'");
        }
        try {
            ldap.checkConnection(config, password);
        } catch (LDAPException e) {
            throw new ParameterError("check-connection", "connection check failed: " + e.getMessage());
        }
    }

    private static void checkRequired(RealmConfig config, Realm type) {
        Map<String, String> errors = new LinkedHashMap<>();
        for (String key : type.requiredOptions()) {
            if (config.option(key).filter(v -> !v.isEmpty()).isEmpty()) {
                errors.put(key, "property is missing and it is not optional");
            }
        }
        if (config.option("cert").isPresent() != config.option("certkey").isPresent()) {
            errors.put(config.option("cert").isPresent() ? "certkey" : "cert", "a client certificate needs both cert and certkey");
        }
        if (!errors.isEmpty()) {
            throw new ParameterError(errors);
        }
    }

    /** sync-defaults-options as key to value; a bad key or value is an IllegalArgumentException. */
    static Map<String, String> syncDefaults(String text) {
        Map<String, String> result = new LinkedHashMap<>();
        for (String raw : text.split(",")) {
            String part = raw.strip();
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("invalid format - value without key '" + part + "'");
            }
            String key = part.substring(0, eq);
            String value = part.substring(eq + 1);
            switch (key) {
                case "enable-new", "full", "purge" -> {
                    if (!Set.of("0", "1").contains(value)) {
                        throw new IllegalArgumentException(key + ": type check ('boolean') failed - got '" + value + "'");
                    }
                }
                case "scope" -> {
                    if (!Set.of("users", "groups", "both").contains(value)) {
                        throw new IllegalArgumentException("scope: value '" + value + "' does not have a value in the enumeration "
                                + "'users, groups, both'");
                    }
                }
                case "remove-vanished" -> LdapSync.parseRemoveVanished(value);
                default -> throw new IllegalArgumentException("invalid key '" + key + "'");
            }
            if (result.put(key, value) != null) {
                throw new IllegalArgumentException("duplicate key '" + key + "'");
            }
        }
        return result;
    }

    private Object read(ApiRequest r) {
        String realm = r.string("realm");
        RealmConfig config = access.domains().realm(realm).orElseThrow(() -> new NotFound("domain '" + realm + "' does not exist"));
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("type", config.type());
        config.options().forEach((key, value) -> {
            if (key.equals("client-key") || key.equals("password")) {
                // a domains.cfg written by Proxmox may hold a client key inline: it is never shown
                return;
            }
            if (key.equals("default") || BOOL_OPTIONS.contains(key)) {
                result.put(key, ProxmoxText.truthy(value) ? 1 : 0);
            } else if (key.equals("port") && value.matches("\\d{1,5}")) {
                result.put(key, Integer.parseInt(value));
            } else if (!value.isEmpty()) {
                result.put(key, value);
            }
        });
        result.put("digest", access.domainsDigest());
        return result;
    }

    private Object update(ApiRequest r) {
        String realm = r.string("realm");
        List<String> delete = ProxmoxText.splitList(r.optionalString("delete").orElse(""));
        boolean anyOption = r.has("comment") || r.has("default") || r.has("tfa") || r.has("password") || r.has("port")
                || r.has("client-key")
                || TEXT_OPTIONS.stream().anyMatch(r::has) || BOOL_OPTIONS.stream().anyMatch(r::has);
        if (delete.isEmpty() && !anyOption) {
            throw new ParameterError("delete", "no options specified");
        }
        checkTfa(r);
        if (delete.contains("password") && r.has("password")) {
            throw new ParameterError("delete", "can't set and delete 'password' at the same time");
        }
        if (delete.contains("client-key") && r.has("client-key")) {
            throw new ParameterError("delete", "can't set and delete 'client-key' at the same time");
        }
        if (delete.contains("username-claim")) {
            throw new ParameterError("delete", "can't delete fixed option 'username-claim'");
        }
        RealmConfig current = access.domains().realm(realm)
                .orElseThrow(() -> new NotFound("update auth server failed: domain '" + realm + "' does not exist"));
        access.realmOf(current).ifPresent(type -> checkOptions(r, type));
        if (r.has("check-connection") && r.bool("check-connection")) {
            RealmConfig next = current;
            for (String key : delete) {
                next = next.without(key);
            }
            Optional<String> password = r.has("password") ? r.optionalString("password")
                    : delete.contains("password") ? Optional.empty() : access.bindPassword(realm);
            checkConnection(r, access.realmOf(current).orElseThrow(), apply(next, r), password);
        }
        access.updateDomains(r.optionalString("digest"), domains -> {
            RealmConfig config = domains.realm(realm)
                    .orElseThrow(() -> new NotFound("update auth server failed: domain '" + realm + "' does not exist"));
            Optional<Realm> type = access.realmOf(config);
            RealmConfig next = config;
            for (String key : delete) {
                if (key.equals("password") && type.filter(Realm::keepsBindPassword).isPresent()
                        || key.equals("client-key") && type.filter(Realm::keepsClientKey).isPresent()) {
                    continue;
                }
                boolean known = key.equals("comment") || type.map(t -> t.options().contains(key)).orElse(true);
                if (!known) {
                    throw new ParameterError("delete", "unknown option '" + key + "'");
                }
                next = next.without(key);
            }
            // a new client key replaces one that a domains.cfg from Proxmox held inline
            RealmConfig result = r.has("client-key") || delete.contains("client-key") ? apply(next, r).without("client-key")
                    : apply(next, r);
            type.ifPresent(t -> checkRequired(result, t));
            return domains.withRealm(result);
        });
        if (r.has("password")) {
            access.setBindPassword(realm, Optional.of(r.string("password")));
        } else if (delete.contains("password")) {
            access.setBindPassword(realm, Optional.empty());
        }
        if (r.has("client-key")) {
            access.setClientKey(realm, Optional.of(r.string("client-key")));
        } else if (delete.contains("client-key")) {
            access.setClientKey(realm, Optional.empty());
        }
        return null;
    }

    private Object delete(ApiRequest r) {
        String realm = r.string("realm");
        if (BUILTIN.contains(realm)) {
            throw new ParameterError("realm", "can't delete built-in realm '" + realm + "'");
        }
        access.updateDomains(Optional.empty(), domains -> {
            if (domains.realm(realm).isEmpty()) {
                throw new NotFound("delete auth server failed: authentication domain '" + realm + "' does not exist");
            }
            return domains.withoutRealm(realm);
        });
        access.setBindPassword(realm, Optional.empty());
        access.setClientKey(realm, Optional.empty());
        return null;
    }

    private Object sync(ApiRequest r) {
        String realmId = r.string("realm");
        if (!r.can("/access/groups", Privilege.USER_MODIFY)) {
            throw new PermissionDenied("Permission check failed (/access/groups, User.Modify)");
        }
        RealmConfig realm = access.domains().realm(realmId)
                .orElseThrow(() -> new ParameterError("realm", "auth domain '" + realmId + "' does not exist"));
        if (!(access.realmOf(realm).orElse(null) instanceof LdapRealm type)) {
            throw new ParameterError("realm", "Cannot sync realm type '" + realm.type() + "'! Only LDAP and AD realms can be synced.");
        }
        Map<String, String> defaults;
        try {
            defaults = syncDefaults(realm.option("sync-defaults-options").orElse(""));
        } catch (IllegalArgumentException e) {
            throw new ParameterError("sync-defaults-options", e.getMessage());
        }
        String scope = r.optionalString("scope").or(() -> Optional.ofNullable(defaults.get("scope")))
                .orElseThrow(() -> new ParameterError("scope", "no sync scope set"));
        String removeText = r.optionalString("remove-vanished").orElse(defaults.getOrDefault("remove-vanished", "none"));
        Set<String> remove;
        try {
            remove = new TreeSet<>(LdapSync.parseRemoveVanished(removeText));
        } catch (IllegalArgumentException e) {
            throw new ParameterError("remove-vanished", e.getMessage());
        }
        // the deprecated flags, as Proxmox maps them when remove-vanished is not given
        if (!r.has("remove-vanished") && !defaults.containsKey("remove-vanished")) {
            boolean full = r.has("full") ? r.bool("full") : "1".equals(defaults.get("full"));
            boolean purge = r.has("purge") ? r.bool("purge") : "1".equals(defaults.get("purge"));
            if (full) {
                remove.addAll(List.of("entry", "properties"));
            }
            if (purge) {
                remove.add("acl");
            }
        }
        boolean enableNew = r.has("enable-new") ? r.bool("enable-new") : !"0".equals(defaults.get("enable-new"));
        boolean dryRun = r.has("dry-run") && r.bool("dry-run");
        LdapSync.Options options = new LdapSync.Options(scope, remove, enableNew);
        TaskManager tasks = access.tasks().orElseThrow(() -> new IllegalStateException("this node runs no worker tasks"));
        Upid upid = tasks.start(dryRun ? "auth-realm-sync-test" : "auth-realm-sync", realmId, r.auth().authid(), ctx -> {
            ctx.log("starting sync for realm " + realmId);
            LdapSync.Directory directory = LdapSync.read(type, realm, options);
            ctx.log("got data from server, updating " + (options.users() && options.groups() ? "users and groups"
                    : options.users() ? "users" : "groups"));
            if (dryRun) {
                LdapSync.apply(access.users(), realmId, directory, options, ctx::log);
                ctx.log("NOTE: Dry run, no changes were made");
            } else {
                // the change may run more than once on concurrent writes: log the run that was written
                List<String> lines = new ArrayList<>();
                access.updateUsers(Optional.empty(), users -> {
                    lines.clear();
                    UserConfig next = LdapSync.apply(users, realmId, directory, options, lines::add);
                    return next;
                });
                lines.forEach(ctx::log);
                ctx.log("successfully updated " + (options.users() && options.groups() ? "users and groups"
                        : options.users() ? "users" : "groups") + " configuration");
            }
        });
        return upid.toString();
    }
}
