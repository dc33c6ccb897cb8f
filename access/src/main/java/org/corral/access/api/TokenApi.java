package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.corral.access.AccessService;
import org.corral.access.config.ApiToken;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.User;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.NotFound;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** /access/users/{userid}/token: a user's API tokens. Users manage their own; others need User.Modify. */
public final class TokenApi implements ApiModule {
    private static final Logger log = LoggerFactory.getLogger(TokenApi.class);
    private static final String PERMISSIONS = "\nAllowed for the user itself, or with 'User.Modify' on /access/groups "
            + "or on a group the user is a member of.";

    private final AccessService access;

    public TokenApi(AccessService access) {
        this.access = requireNonNull(access, "access is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/access/users/{userid}/token")
                        .name("token_index")
                        .description("Get user API tokens." + PERMISSIONS)
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .returns(Schema.array(Schema.object().property("tokenid", Schema.string())))
                        .handler(this::index),
                ApiMethod.get("/access/users/{userid}/token/{tokenid}")
                        .name("read_token")
                        .description("Get specific API token information." + PERMISSIONS)
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .parameter("tokenid", Schemas.tokenSubid())
                        .returns(Schema.object())
                        .handler(this::read),
                ApiMethod.post("/access/users/{userid}/token/{tokenid}")
                        .name("generate_token")
                        .description("Generate a new API token for a specific user. NOTE: returns API token value, which needs "
                                + "to be stored as it cannot be retrieved afterwards!" + PERMISSIONS)
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .parameter("tokenid", Schemas.tokenSubid())
                        .parameter("expire", Schemas.tokenExpire())
                        .parameter("privsep", Schemas.tokenPrivsep())
                        .parameter("comment", Schemas.comment().description("A comment."))
                        .returns(Schema.object()
                                .property("info", Schema.object())
                                .property("value", Schema.string().description("API token value used for authentication."))
                                .property("full-tokenid", Schema.string().description("The full token id.")))
                        .handler(this::create),
                ApiMethod.put("/access/users/{userid}/token/{tokenid}")
                        .name("update_token_info")
                        .description("Update API token for a specific user. NOTE: when 'regenerate' is set, the returned token "
                                + "value needs to be stored as it cannot be retrieved afterwards!" + PERMISSIONS)
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .parameter("tokenid", Schemas.tokenSubid())
                        .parameter("expire", Schemas.tokenExpire())
                        .parameter("privsep", Schemas.tokenPrivsep())
                        .parameter("comment", Schemas.comment().description("A comment."))
                        .parameter("regenerate", Schema.bool().defaultValue(false)
                                .description("Regenerate the token's secret value. All users of the previous secret will lose access."))
                        .parameter("delete", Schema.string().format(Formats.PVE_CONFIGID + "-list").maxLength(4096).optional()
                                .description("A list of settings you want to delete."))
                        .returns(Schema.object())
                        .handler(this::update),
                ApiMethod.delete("/access/users/{userid}/token/{tokenid}")
                        .name("remove_token")
                        .description("Remove API token for a specific user." + PERMISSIONS)
                        .permission(Check.authenticated())
                        .parameter("userid", Schemas.userid())
                        .parameter("tokenid", Schemas.tokenSubid())
                        .handler(this::delete));
    }

    /** A token as the API shows it: expire, privsep and the comment if there is one. */
    static Map<String, Object> info(ApiToken token) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("expire", token.expire());
        info.put("privsep", token.privsep() ? 1 : 0);
        if (!token.comment().isEmpty()) {
            info.put("comment", token.comment());
        }
        return info;
    }

    private User user(String userid) {
        return access.users().user(userid).orElseThrow(() -> new NotFound("no such user ('" + userid + "')"));
    }

    private static NotFound noSuchToken(String userid, String name) {
        return new NotFound("no such token '" + name + "' for user '" + userid + "'");
    }

    private Object index(ApiRequest r) {
        String userid = r.string("userid");
        Guards.selfOrUserModify(access, r.auth(), userid);
        List<Map<String, Object>> result = new ArrayList<>();
        user(userid).tokens().values().forEach(token -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("tokenid", token.name());
            entry.putAll(info(token));
            result.add(entry);
        });
        return result;
    }

    private Object read(ApiRequest r) {
        String userid = r.string("userid");
        String name = r.string("tokenid");
        Guards.selfOrUserModify(access, r.auth(), userid);
        ApiToken token = user(userid).tokens().get(name);
        if (token == null) {
            throw noSuchToken(userid, name);
        }
        return info(token);
    }

    private Object create(ApiRequest r) {
        String userid = r.string("userid");
        String name = r.string("tokenid");
        Guards.selfOrUserModify(access, r.auth(), userid);
        String fullId = userid + "!" + name;
        if (!Schemas.isFullTokenId(fullId)) {
            throw new ParameterError("tokenid", "value '" + fullId + "' does not look like a valid token ID");
        }
        ApiToken token = new ApiToken(name, r.optionalLong("expire").orElse(0L), !r.has("privsep") || r.bool("privsep"),
                r.optionalString("comment").orElse(""));
        access.updateUsers(Optional.empty(), users -> {
            User user = users.user(userid).orElseThrow(() -> new NotFound("no such user ('" + userid + "')"));
            if (user.tokens().containsKey(name)) {
                throw new ParameterError("tokenid", "Token already exists.");
            }
            return users.withToken(userid, token);
        });
        String secret = UUID.randomUUID().toString();
        try {
            access.putTokenSecret(fullId, secret);
        } catch (RuntimeException e) {
            access.updateUsers(Optional.empty(), users -> users.token(userid, name).isPresent() ? users.withoutToken(userid, name) : users);
            throw e;
        }
        log.info("Created API token {}", fullId);
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("privsep", token.privsep() ? 1 : 0);
        if (r.has("expire")) {
            info.put("expire", token.expire());
        }
        if (!token.comment().isEmpty()) {
            info.put("comment", token.comment());
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("info", info);
        result.put("value", secret);
        result.put("full-tokenid", fullId);
        return result;
    }

    private Object update(ApiRequest r) {
        String userid = r.string("userid");
        String name = r.string("tokenid");
        Guards.selfOrUserModify(access, r.auth(), userid);
        List<String> delete = ProxmoxText.splitList(r.optionalString("delete").orElse(""));
        for (String key : delete) {
            if (!key.equals("comment")) {
                throw new ParameterError("delete", "unknown option '" + key + "'");
            }
        }
        AtomicReference<ApiToken> updated = new AtomicReference<>();
        access.updateUsers(Optional.empty(), users -> {
            User user = users.user(userid).orElseThrow(() -> new NotFound("no such user ('" + userid + "')"));
            ApiToken token = user.tokens().get(name);
            if (token == null) {
                throw noSuchToken(userid, name);
            }
            long expire = r.optionalLong("expire").orElse(token.expire());
            boolean privsep = r.has("privsep") ? r.bool("privsep") : token.privsep();
            String comment = r.optionalString("comment").orElse(token.comment());
            if (delete.contains("comment")) {
                comment = "";
            }
            ApiToken next = new ApiToken(name, expire, privsep, comment);
            updated.set(next);
            return users.withToken(userid, next);
        });
        Map<String, Object> result = info(updated.get());
        if (r.bool("regenerate")) {
            String secret = UUID.randomUUID().toString();
            String fullId = userid + "!" + name;
            access.putTokenSecret(fullId, secret);
            log.info("Regenerated the secret of API token {}", fullId);
            result.put("value", secret);
            result.put("full-tokenid", fullId);
        }
        return result;
    }

    private Object delete(ApiRequest r) {
        String userid = r.string("userid");
        String name = r.string("tokenid");
        Guards.selfOrUserModify(access, r.auth(), userid);
        if (user(userid).tokens().get(name) == null) {
            throw noSuchToken(userid, name);
        }
        String fullId = userid + "!" + name;
        // the secret goes first, so the token stops working even if the second write fails
        Optional<String> stored = access.removeTokenSecret(fullId);
        try {
            access.updateUsers(Optional.empty(), users -> {
                if (users.token(userid, name).isEmpty()) {
                    throw noSuchToken(userid, name);
                }
                return users.withoutToken(userid, name);
            });
        } catch (RuntimeException e) {
            if (access.users().token(userid, name).isPresent()) {
                stored.ifPresent(value -> access.restoreTokenSecret(fullId, value));
            }
            throw e;
        }
        log.info("Deleted API token {}", fullId);
        return null;
    }
}
