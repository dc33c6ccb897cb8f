package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import org.corral.access.config.ApiToken;
import org.corral.access.config.User;
import org.corral.access.config.UserConfig;
import org.corral.core.access.AuthContext;
import org.corral.core.error.Unauthorized;

/**
 * What the HTTPS layer checks on every request: a {@code PVEAuthCookie} ticket (with public keys
 * only), the {@code CSRFPreventionToken} that goes with it, or an API token. Holds nothing that can
 * sign a ticket.
 */
public final class RequestCredentials {
    private final AccessService service;

    RequestCredentials(AccessService service) {
        this.service = requireNonNull(service, "service is null");
    }

    /**
     * The caller of a {@code PVEAuthCookie} ticket: empty when the signature does not hold, the
     * ticket expired, or its user no longer exists, is disabled or expired.
     */
    public Optional<AuthContext> ticket(String ticket, String clientAddress) {
        requireNonNull(clientAddress, "clientAddress is null");
        Optional<TicketVerifier.Verified> verified = service.ticketVerifier().verify(ticket);
        if (verified.isEmpty() || !service.active(service.users(), verified.get().userid(), Optional.empty())) {
            return Optional.empty();
        }
        return Optional.of(AuthContext.user(verified.get().userid(), clientAddress));
    }

    /** Whether the {@code CSRFPreventionToken} header is valid for the ticket's user. */
    public boolean csrf(String token, String userid) {
        return service.csrfTokens().verify(token, userid);
    }

    /**
     * The caller of an {@code Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET} header; takes
     * the text after {@code PVEAPIToken=}. Throws {@link Unauthorized} saying why it is refused.
     */
    public AuthContext apiToken(String value, String clientAddress) {
        requireNonNull(clientAddress, "clientAddress is null");
        if (value == null || value.isEmpty()) {
            throw new Unauthorized("no API token specified");
        }
        int eq = value.lastIndexOf('=');
        if (eq < 0) {
            throw new Unauthorized("no tokenid specified");
        }
        String tokenid = value.substring(0, eq);
        String secret = value.substring(eq + 1);
        Ids.TokenId id = Ids.token(tokenid).orElseThrow(() ->
                new Unauthorized("'" + tokenid + "' is not a valid token ID - not able to split into user and token parts"));
        UserConfig users = service.users();
        User user = users.user(id.userid()).orElseThrow(() -> new Unauthorized("no such user ('" + id.userid() + "')"));
        long now = service.nowSeconds();
        if (!user.enable()) {
            throw new Unauthorized("user '" + id.userid() + "' is disabled");
        }
        if (!user.activeAt(now)) {
            throw new Unauthorized("user '" + id.userid() + "' access expired");
        }
        ApiToken token = user.tokens().get(id.name());
        if (token == null) {
            throw new Unauthorized("no such token '" + id.name() + "' for user '" + id.userid() + "'");
        }
        if (token.expiredAt(now)) {
            throw new Unauthorized("token '" + id.name() + "' access expired");
        }
        if (!service.tokenSecrets().verify(tokenid, secret)) {
            throw new Unauthorized("invalid token value!");
        }
        return new AuthContext(id.userid(), Optional.of(tokenid), clientAddress);
    }
}
