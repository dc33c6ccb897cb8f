package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.corral.access.AccessService;
import org.corral.access.TwoFactor;
import org.corral.access.Ids;
import org.corral.access.tfa.RealmTfa;
import org.corral.access.tfa.TfaConfig;
import org.corral.access.tfa.TfaEntry;
import org.corral.access.tfa.TfaUser;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.error.PermissionDenied;
import org.corral.core.schema.Schema;

/**
 * Second factors as Proxmox VE 7+ manages them: /access/tfa (every visible user's entries),
 * /access/tfa/{userid} (list, add), /access/tfa/{userid}/{id} (read, change, delete),
 * GET /access/users/{userid}/tfa and PUT /access/users/{userid}/unlock-tfa. Users manage their own; others need User.Modify (or
 * Sys.Audit to read) as for the user itself. Changes by anyone but root@pam need the caller's
 * current password.
 */
public final class TfaApi implements ApiModule {
    private static final Set<Privilege> READ = EnumSet.of(Privilege.USER_MODIFY, Privilege.SYS_AUDIT);
    private static final List<String> TYPES = List.of("totp", "u2f", "webauthn", "recovery", "yubico");

    private final AccessService access;

    public TfaApi(AccessService access) {
        this.access = requireNonNull(access, "access is null");
    }

    private static Schema entrySchema() {
        return Schema.object().description("TFA Entry.")
                .property("type", Schema.string().enumValues(TYPES.toArray(String[]::new)).description("TFA Entry Type."))
                .property("id", Schema.string().description("The id used to reference this entry."))
                .property("description", Schema.string().description("User chosen description for this entry."))
                .property("created", Schema.integer().description("Creation time of this entry as unix epoch."))
                .property("enable", Schema.bool().optional().description("Whether this TFA entry is currently enabled."));
    }

    private static Schema password() {
        return Schema.string().minLength(5).maxLength(64).optional().secret()
                .description("The current password of the user performing the change.");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/access/tfa")
                        .name("list_tfa")
                        .description("List TFA configurations of users.\nReturns all or just the logged-in user, depending on privileges.")
                        .permission(Check.authenticated())
                        .returns(Schema.array(Schema.object()
                                .property("userid", Schema.string().description("User this entry belongs to."))
                                .property("entries", Schema.array(entrySchema()))
                                .property("totp-locked", Schema.bool().optional()
                                        .description("True if the user is currently locked out of TOTP factors."))
                                .property("tfa-locked-until", Schema.integer().optional()
                                        .description("Contains a timestamp until when a user is locked out of 2nd factors."))))
                        .handler(this::listAll),
                ApiMethod.get("/access/tfa/{userid}")
                        .name("list_user_tfa")
                        .description("List TFA configurations of a user.")
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .returns(Schema.array(entrySchema()))
                        .handler(r -> {
                            String userid = readable(r);
                            return access.twoFactor().entries(userid);
                        }),
                ApiMethod.post("/access/tfa/{userid}")
                        .name("add_tfa_entry")
                        .description("Add a TFA entry for a user.\nYubico OTPs are stored after a check of their form only: "
                                + "verifying them needs the Yubico cloud. WebAuthn is registered in two calls: without 'value' it answers the "
                                + "'challenge' for the browser, then 'challenge' and the browser's answer as 'value' add it. U2F is not "
                                + "supported.")
                        .permission(Check.authenticated())
                        .noTokens()
                        .parameter("userid", Schemas.userid())
                        .parameter("type", Schema.string().enumValues(TYPES.toArray(String[]::new)).description("TFA Entry Type."))
                        .parameter("description", Schema.string().maxLength(255).optional()
                                .description("A description to distinguish multiple entries from one another"))
                        .parameter("totp", Schema.string().optional().secret().description("A totp URI."))
                        .parameter("value", Schema.string().optional().secret()
                                .description("The current value for the provided totp URI, or a Webauthn/U2F challenge response"))
                        .parameter("challenge", Schema.string().optional()
                                .description("When responding to a u2f challenge: the original challenge string"))
                        .parameter("password", password())
                        .returns(Schema.object()
                                .property("id", Schema.string().optional().description("The id of a newly added TFA entry."))
                                .property("challenge", Schema.string().optional().description("When adding u2f entries, this "
                                        + "contains a challenge the user must respond to in order to finish the registration."))
                                .property("recovery", Schema.array(Schema.string()).optional().description("When adding "
                                        + "recovery codes, this contains the list of codes to be displayed to the user")))
                        .handler(this::add),
                ApiMethod.get("/access/tfa/{userid}/{id}")
                        .name("get_tfa_entry")
                        .description("Fetch a requested TFA entry if present.")
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .parameter("id", Schema.string().description("A TFA entry id."))
                        .returns(entrySchema())
                        .handler(r -> {
                            String userid = readable(r);
                            String id = r.string("id");
                            return access.twoFactor().entry(userid, id).orElseThrow(() -> new NotFound("no such entry '" + id + "'"));
                        }),
                ApiMethod.put("/access/tfa/{userid}/{id}")
                        .name("update_tfa_entry")
                        .description("Add a TFA entry for a user.")
                        .permission(Check.authenticated())
                        .noTokens()
                        .parameter("userid", Schemas.userid())
                        .parameter("id", Schema.string().description("A TFA entry id."))
                        .parameter("description", Schema.string().maxLength(255).optional()
                                .description("A description to distinguish multiple entries from one another"))
                        .parameter("enable", Schema.bool().optional().description("Whether the entry should be enabled for login."))
                        .parameter("password", password())
                        .handler(r -> {
                            String userid = writable(r);
                            access.twoFactor().change(userid, r.string("id"), r.optionalString("description"),
                                    r.has("enable") ? Optional.of(r.bool("enable")) : Optional.empty());
                            return null;
                        }),
                ApiMethod.delete("/access/tfa/{userid}/{id}")
                        .name("delete_tfa")
                        .description("Delete a TFA entry by ID.")
                        .permission(Check.authenticated())
                        .noTokens()
                        .parameter("userid", Schemas.userid())
                        .parameter("id", Schema.string().description("A TFA entry id."))
                        .parameter("password", password())
                        .handler(r -> {
                            String userid = writable(r);
                            access.twoFactor().delete(userid, r.string("id"));
                            return null;
                        }),
                ApiMethod.get("/access/users/{userid}/tfa")
                        .name("read_user_tfa_type")
                        .description("Get user TFA types (Personal and Realm).")
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .parameter("multiple", Schema.bool().defaultValue(false).description("Request all entries as an array."))
                        .returns(Schema.object()
                                .property("realm", Schema.string().enumValues("oath", "yubico").optional()
                                        .description("The type of TFA the users realm has set, if any."))
                                .property("types", Schema.array(Schema.string()).optional()
                                        .description("Array of the user configured TFA types, if any (with 'multiple')."))
                                .property("user", Schema.string().optional()
                                        .description("The type of TFA the user has set, if any (without 'multiple'): oath for TOTP.")))
                        .handler(this::types),
                ApiMethod.put("/access/users/{userid}/unlock-tfa")
                        .name("unlock_tfa")
                        .description("Unlock a user's TFA authentication.")
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .returns(Schema.bool())
                        .handler(r -> {
                            String userid = r.string("userid");
                            Guards.userGroup(access, r.auth(), userid, EnumSet.of(Privilege.USER_MODIFY),
                                    Guards.GroupsParam.NONE, Optional.empty());
                            return access.twoFactor().unlock(userid);
                        }));
    }

    private boolean mayRead(AuthContext auth, String userid) {
        if (Guards.isSelf(auth, userid)) {
            return true;
        }
        try {
            Guards.userGroup(access, auth, userid, READ, Guards.GroupsParam.NONE, Optional.empty());
            return true;
        } catch (PermissionDenied e) {
            return false;
        }
    }

    private String readable(ApiRequest r) {
        String userid = r.string("userid");
        if (!mayRead(r.auth(), userid)) {
            throw Guards.denied();
        }
        if (access.users().user(userid).isEmpty()) {
            throw new NotFound("no such user ('" + userid + "')");
        }
        return userid;
    }

    /** Proxmox's root_permission_check: the user itself or User.Modify; root@pam's only by root@pam; the caller's password. */
    private String writable(ApiRequest r) {
        AuthContext auth = r.auth();
        String userid = r.string("userid");
        Guards.selfOrUserModify(access, auth, userid);
        if (access.users().user(userid).isEmpty()) {
            throw new NotFound("no such user ('" + userid + "')");
        }
        if (userid.equals(AuthContext.ROOT) && !auth.isRoot()) {
            throw Guards.denied();
        }
        if (!auth.isRoot()) {
            Guards.confirmPassword(access, auth, "password", r.optionalString("password"), "password is required to modify TFA data");
        }
        return userid;
    }

    private Object listAll(ApiRequest r) {
        TfaConfig config = access.twoFactor().config();
        List<Map<String, Object>> result = new ArrayList<>();
        for (String userid : config.users().keySet()) {
            if (!mayRead(r.auth(), userid) || access.users().user(userid).isEmpty()) {
                continue;
            }
            TfaUser user = config.user(userid);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("userid", userid);
            entry.put("entries", access.twoFactor().entries(userid));
            if (user.totpLocked()) {
                entry.put("totp-locked", 1);
            }
            user.tfaLockedUntil().ifPresent(until -> entry.put("tfa-locked-until", until));
            result.add(entry);
        }
        return result;
    }

    private Object types(ApiRequest r) {
        String userid = readable(r);
        Map<String, Object> answer = new LinkedHashMap<>();
        access.domains().realm(Ids.realmOf(userid)).flatMap(realm -> realm.option("tfa")).ifPresent(option -> {
            try {
                answer.put("realm", RealmTfa.parse(option).type());
            } catch (IllegalArgumentException e) {
                // an unreadable option is reported by the realm's own API, not here
            }
        });
        TfaUser user = access.twoFactor().config().user(userid);
        List<String> types = new ArrayList<>();
        user.entries().stream().filter(TfaEntry::enable).map(TfaEntry::type).distinct().forEach(types::add);
        user.recovery().ifPresent(recovery -> types.add("recovery"));
        if (r.bool("multiple")) {
            answer.put("types", types);
        } else if (types.contains("totp")) {
            answer.put("user", "oath");
        } else if (types.contains("u2f")) {
            answer.put("user", "u2f");
        }
        return answer;
    }

    private Object add(ApiRequest r) {
        String userid = writable(r);
        String type = r.string("type");
        String description = r.optionalString("description").orElse("");
        TwoFactor tfa = access.twoFactor();
        Map<String, Object> answer = new LinkedHashMap<>();
        switch (type) {
            case "totp" -> {
                String uri = r.optionalString("totp").orElseThrow(() -> new ParameterError("totp", "parameter is required for type totp"));
                String value = r.optionalString("value").orElseThrow(() -> new ParameterError("value", "parameter is required for type totp"));
                answer.put("id", tfa.addTotp(userid, description, uri, value));
            }
            case "recovery" -> {
                answer.put("id", "recovery");
                answer.put("recovery", tfa.addRecovery(userid));
            }
            case "yubico" -> {
                String value = r.optionalString("value").orElseThrow(() -> new ParameterError("value", "parameter is required for type yubico"));
                answer.put("id", tfa.addYubico(userid, description, value));
            }
            case "webauthn" -> {
                Optional<String> value = r.optionalString("value");
                if (value.isEmpty()) {
                    answer.put("challenge", tfa.startWebAuthn(userid));
                } else {
                    String challenge = r.optionalString("challenge")
                            .orElseThrow(() -> new ParameterError("challenge", "parameter is required with a WebAuthn 'value'"));
                    answer.put("id", tfa.finishWebAuthn(userid, description, challenge, value.get()));
                }
            }
            default -> throw new ParameterError("type", "TFA type '" + type + "' is not supported");
        }
        return answer;
    }
}
