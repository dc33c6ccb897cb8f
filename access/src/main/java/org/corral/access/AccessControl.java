package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.corral.access.api.AccessApi;
import org.corral.access.api.AclApi;
import org.corral.access.api.DomainApi;
import org.corral.access.api.GroupApi;
import org.corral.access.api.PasswordApi;
import org.corral.access.api.PermissionsApi;
import org.corral.access.api.PoolApi;
import org.corral.access.api.RoleApi;
import org.corral.access.api.TokenApi;
import org.corral.access.api.UserApi;
import org.corral.access.config.ApiToken;
import org.corral.access.config.User;
import org.corral.access.config.UserConfig;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionChecker;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiModule;
import org.corral.core.config.ConfigStore;
import org.corral.core.error.Unauthorized;

/**
 * Access control of a Corral cluster: users, groups, roles, ACLs, pools, realms, tickets and API
 * tokens, kept in the config store in Proxmox VE's file formats. The HTTPS layer authenticates
 * requests through {@link #authenticateTicket}, {@link #verifyCsrf} and {@link #authenticateToken},
 * and hands this object to the API dispatcher as its {@link PermissionChecker}.
 */
public final class AccessControl implements PermissionChecker, AutoCloseable {
    private final AccessFiles files;
    private final AccessService service;
    private final List<ApiModule> modules;

    public AccessControl(ConfigStore store, Clock clock, AccessSettings settings) {
        requireNonNull(store, "store is null");
        requireNonNull(clock, "clock is null");
        requireNonNull(settings, "settings is null");
        this.files = new AccessFiles(store, settings.watchStore());
        this.service = new AccessService(files, clock, settings, new PasswordHasher(settings.argon2()));
        Authenticator authenticator = new Authenticator(service);
        this.modules = List.of(new AccessApi(service, authenticator), new PasswordApi(service),
                new PermissionsApi(service), new UserApi(service), new TokenApi(service), new GroupApi(service),
                new RoleApi(service), new AclApi(service), new DomainApi(service), new PoolApi(service));
    }

    /**
     * Prepares the access files of a new cluster: domains.cfg with the pam and pve realms, user.cfg
     * with root@pam and admin@pve (Administrator on /), admin's password in priv/shadow.cfg (the
     * given one or 20 random characters), and the ticket and CSRF keys. Does nothing when user.cfg
     * exists. Returns the generated password, to be shown once; empty when a password was given or
     * the cluster was initialized already.
     */
    public static Optional<String> initialize(ConfigStore store, Optional<String> adminPassword) {
        return Bootstrap.initialize(store, adminPassword, new PasswordHasher());
    }

    /** The access API: /access/... and /pools/... */
    public List<ApiModule> apiModules() {
        return modules;
    }

    /** What the API methods use; for other modules that need users, pools or realms. */
    public AccessService service() {
        return service;
    }

    /**
     * The caller of a {@code PVEAuthCookie} ticket: empty when the signature does not hold, the
     * ticket expired, or its user no longer exists, is disabled or expired.
     */
    public Optional<AuthContext> authenticateTicket(String ticket, String clientAddress) {
        requireNonNull(clientAddress, "clientAddress is null");
        Optional<Tickets.Verified> verified = service.tickets().verify(ticket);
        if (verified.isEmpty() || !service.active(service.users(), verified.get().userid(), Optional.empty())) {
            return Optional.empty();
        }
        return Optional.of(AuthContext.user(verified.get().userid(), clientAddress));
    }

    /** Whether the {@code CSRFPreventionToken} header is valid for the ticket's user. */
    public boolean verifyCsrf(String token, String userid) {
        return service.tickets().verifyCsrf(token, userid);
    }

    /**
     * The caller of an {@code Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET} header; takes
     * the text after {@code PVEAPIToken=}. Throws {@link Unauthorized} saying why it is refused.
     */
    public AuthContext authenticateToken(String value, String clientAddress) {
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

    /** A ticket for a user, for trusted local callers (the CLI on the node, a console proxy). */
    public String issueTicket(String userid) {
        return service.tickets().issue(userid);
    }

    /** The CSRF prevention token that goes with a ticket of {@code userid}. */
    public String issueCsrfToken(String userid) {
        return service.tickets().csrfToken(userid);
    }

    @Override
    public Set<Privilege> privileges(AuthContext auth, String path) {
        return service.privileges(auth, path);
    }

    /** Stops watching the config store. */
    @Override
    public void close() {
        files.close();
    }
}
