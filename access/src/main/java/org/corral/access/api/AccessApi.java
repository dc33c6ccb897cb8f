package org.corral.access.api;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.OptionalInt;
import org.corral.access.AccessService;
import org.corral.access.Authenticator;
import org.corral.core.api.ApiMethod;
import org.corral.core.api.ApiModule;
import org.corral.core.api.ApiRequest;
import org.corral.core.api.Check;
import org.corral.core.error.ParameterError;
import org.corral.core.schema.Formats;
import org.corral.core.schema.Schema;

/** GET /access, the login (GET and POST /access/ticket) and the console ticket check (POST /access/vncticket). */
public final class AccessApi implements ApiModule {

    private final AccessService access;
    private final Authenticator authenticator;

    public AccessApi(AccessService access, Authenticator authenticator) {
        this.access = requireNonNull(access, "access is null");
        this.authenticator = requireNonNull(authenticator, "authenticator is null");
    }

    @Override
    public List<ApiMethod> methods() {
        return List.of(
                ApiMethod.get("/access")
                        .name("index")
                        .description("Directory index.")
                        .permission(Check.authenticated())
                        .directoryIndex("subdir"),
                ApiMethod.get("/access/ticket")
                        .name("get_ticket")
                        .description("Dummy. Useful for formatters which want to provide a login page.")
                        .permission(Check.anonymous())
                        .handler(r -> null),
                ApiMethod.post("/access/ticket")
                        .worksWithoutQuorum()
                        .name("create_ticket")
                        .description("Create or verify authentication ticket.\nYou need to pass valid credentials.")
                        .permission(Check.anonymous())
                        .noTokens()
                        .parameter("username", Schema.string().maxLength(64).description("User name"))
                        .parameter("realm", Schemas.realm().optional().description("You can optionally pass the realm using this "
                                + "parameter. Normally the realm is simply added to the username <username>@<realm>."))
                        .parameter("password", Schema.string().maxLength(4096).secret()
                                .description("The secret password. This can also be a valid ticket."))
                        .parameter("otp", Schema.string().maxLength(4096).optional().secret()
                                .description("One-time password for Two-factor authentication."))
                        .parameter("path", Schema.string().maxLength(64).optional()
                                .description("Verify ticket, and check if user have access 'privs' on 'path'"))
                        .parameter("privs", Schema.string().format(Formats.PVE_PRIV + "-list").maxLength(64).optional()
                                .description("Verify ticket, and check if user have access 'privs' on 'path'"))
                        .parameter("new-format", Schema.bool().defaultValue(true)
                                .description("This parameter is now ignored and assumed to be 1."))
                        .parameter("tfa-challenge", Schema.string().maxLength(8192).optional()
                                .description("The signed TFA challenge string the user wants to respond to."))
                        .returns(Schema.object()
                                .property("username", Schema.string())
                                .property("ticket", Schema.string().optional())
                                .property("CSRFPreventionToken", Schema.string().optional())
                                .property("clustername", Schema.string().optional())
                                .property("cap", Schema.object().description("The caller's privileges by path class, for the GUI.")))
                        .handler(this::createTicket),
                ApiMethod.post("/access/vncticket")
                        .worksWithoutQuorum()
                        .name("verify_vnc_ticket")
                        .description("verify VNC authentication ticket.\nYou need to pass valid credentials: the ticket of a "
                                + "console (termproxy, vncproxy) that this node opened, within a minute of its opening.")
                        .permission(Check.anonymous())
                        .parameter("authid", Schema.string().maxLength(64).description("UserId or token"))
                        .parameter("vncticket", Schema.string().maxLength(512).secret().description("The VNC ticket."))
                        .parameter("path", Schema.string().maxLength(64)
                                .description("Verify ticket, and check if user have access 'privs' on 'path'"))
                        .parameter("privs", Schema.string().format(Formats.PVE_PRIV + "-list").maxLength(64)
                                .description("Verify ticket, and check if user have access 'privs' on 'path'"))
                        .parameter("port", Schema.integer().optional().description("Verify that the ticket is valid for this port."))
                        .handler(r -> {
                            authenticator.verifyConsoleTicket(r.string("authid"), r.string("vncticket"), r.string("path"),
                                    r.string("privs"), r.optionalInt("port").map(OptionalInt::of).orElse(OptionalInt.empty()),
                                    r.auth().clientAddress());
                            return null;
                        }));
    }

    private Object createTicket(ApiRequest r) {
        if (r.has("path") != r.has("privs")) {
            String missing = r.has("path") ? "privs" : "path";
            throw new ParameterError(missing, "parameter '" + missing + "' is required with '"
                    + (r.has("path") ? "path" : "privs") + "'");
        }
        return authenticator.login(new Authenticator.Credentials(r.string("username"), r.optionalString("realm"),
                r.string("password"), r.optionalString("otp"), r.optionalString("tfa-challenge"),
                r.optionalString("path"), r.optionalString("privs")), r.auth().clientAddress());
    }
}
