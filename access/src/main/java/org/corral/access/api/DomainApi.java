package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.access.AccessService;
import org.corral.access.Realm;
import org.corral.access.Realms;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.RealmConfig;
import org.corral.access.tfa.RealmTfa;
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

/**
 * /access/domains: the authentication realms. The built-in pam and pve realms can be changed but
 * neither created nor deleted; other types are refused until their realm classes exist.
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
                .parameter("tfa", Schema.string().maxLength(128).optional().description("Use Two-factor authentication."));
    }

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
                        .parameter("type", Schema.string().enumValues("ad", "ldap", "openid", "pam", "pve").description("Realm type.")))
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
                        .handler(this::delete));
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
        access.updateDomains(Optional.empty(), domains -> {
            if (domains.realm(realm).isPresent()) {
                throw new Conflict("add auth server failed: domain '" + realm + "' already exists");
            }
            return domains.withRealm(apply(new RealmConfig(realm, type, Map.of()), r));
        });
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
        return result;
    }

    private Object read(ApiRequest r) {
        String realm = r.string("realm");
        RealmConfig config = access.domains().realm(realm).orElseThrow(() -> new NotFound("domain '" + realm + "' does not exist"));
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("type", config.type());
        config.options().forEach((key, value) -> {
            if (key.equals("default")) {
                result.put(key, ProxmoxText.truthy(value) ? 1 : 0);
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
        if (delete.isEmpty() && !r.has("comment") && !r.has("default") && !r.has("tfa")) {
            throw new ParameterError("delete", "no options specified");
        }
        checkTfa(r);
        access.updateDomains(r.optionalString("digest"), domains -> {
            RealmConfig config = domains.realm(realm)
                    .orElseThrow(() -> new NotFound("update auth server failed: domain '" + realm + "' does not exist"));
            Optional<Realm> type = access.realmOf(config);
            RealmConfig next = config;
            for (String key : delete) {
                boolean known = key.equals("comment") || type.map(t -> t.options().contains(key)).orElse(true);
                if (!known) {
                    throw new ParameterError("delete", "unknown option '" + key + "'");
                }
                next = next.without(key);
            }
            return domains.withRealm(apply(next, r));
        });
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
        return null;
    }
}
