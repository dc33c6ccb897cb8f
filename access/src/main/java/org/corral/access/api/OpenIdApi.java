package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.corral.access.AuthenticationException;
import org.corral.access.Authenticator;
import org.corral.access.OpenIdLogin;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.Unauthorized;
import org.corral.core.schema.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** /access/openid: the sign-in at an OpenID Connect provider, open to anyone as the login itself is. */
public final class OpenIdApi implements ApiModule {
    private static final Logger log = LoggerFactory.getLogger(OpenIdApi.class);

    private final OpenIdLogin openId;

    public OpenIdApi(OpenIdLogin openId) {
        this.openId = requireNonNull(openId, "openId is null");
    }

    private static Schema redirectUrl() {
        return Schema.string().maxLength(255)
                .description("Redirection Url. The client should set this to the used server url (location.origin).");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/access/openid")
                        .name("index")
                        .description("Directory index.")
                        .permission(Check.authenticated())
                        .directoryIndex("subdir"),
                ApiMethod.post("/access/openid/auth-url")
                        .name("auth_url")
                        .description("Get the OpenId Authorization Url for the specified realm.")
                        .permission(Check.anonymous())
                        .parameter("realm", Schemas.realm())
                        .parameter("redirect-url", redirectUrl())
                        .returns(Schema.string().description("Redirection URL."))
                        .handler(r -> openId.authUrl(r.string("realm"), r.string("redirect-url"))),
                ApiMethod.post("/access/openid/login")
                        .name("login")
                        .description(" Verify OpenID authorization code and create a ticket.")
                        .permission(Check.anonymous())
                        .parameter("code", Schema.string().maxLength(4096).secret().description("OpenId authorization code."))
                        .parameter("state", Schema.string().maxLength(1024).secret().description("OpenId state."))
                        .parameter("redirect-url", redirectUrl())
                        .returns(Schema.object()
                                .property("username", Schema.string())
                                .property("ticket", Schema.string())
                                .property("CSRFPreventionToken", Schema.string())
                                .property("clustername", Schema.string().optional())
                                .property("cap", Schema.object().description("The caller's privileges by path class, for the GUI.")))
                        .handler(this::login));
    }

    private Object login(ApiRequest r) {
        try {
            return openId.login(r.string("code"), r.string("state"), r.string("redirect-url"));
        } catch (AuthenticationException e) {
            log.warn("openid authentication failure; rhost={} msg={}", r.auth().clientAddress(), e.getMessage());
            // the state is the client's own business: say so; other reasons stay in the log, as Proxmox keeps them
            throw new Unauthorized(e.getMessage().contains("state") ? Authenticator.FAILURE + ": " + e.getMessage()
                    : Authenticator.FAILURE);
        }
    }
}
