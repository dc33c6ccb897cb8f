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
import org.corral.access.api.OpenIdApi;
import org.corral.access.api.PasswordApi;
import org.corral.access.api.PermissionsApi;
import org.corral.access.api.PoolApi;
import org.corral.access.api.RoleApi;
import org.corral.access.api.TfaApi;
import org.corral.access.api.TokenApi;
import org.corral.access.api.UserApi;
import org.corral.core.access.AuthContext;
import org.corral.core.access.PermissionChecker;
import org.corral.core.access.PermissionView;
import org.corral.core.access.Privilege;
import org.corral.core.api.ApiModule;
import org.corral.core.config.ConfigStore;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.task.TaskManager;

/**
 * Access control of a Corral cluster: users, groups, roles, ACLs, pools, realms, tickets and API
 * tokens, kept in the config store in Proxmox VE's file formats. The HTTPS layer authenticates
 * requests through {@link #requestCredentials}, which cannot sign tickets, and hands this object
 * to the API dispatcher as its {@link PermissionChecker}.
 */
public final class AccessControl implements PermissionChecker, AutoCloseable {
    private final AccessFiles files;
    private final AccessService service;
    private final TicketIssuer tickets;
    private final RequestCredentials credentials;
    private final OpenIdLogin openId;
    private final List<ApiModule> modules;

    public AccessControl(ConfigStore store, Clock clock, AccessSettings settings) {
        this(store, clock, settings, Optional.empty());
    }

    /** With the node's task manager, for the methods that run as worker tasks (realm sync); no consoles. */
    public AccessControl(ConfigStore store, Clock clock, AccessSettings settings, Optional<TaskManager> tasks) {
        this(store, clock, settings, tasks, new ConsoleProxies(clock));
    }

    /** With the node's consoles too, whose tickets POST /access/vncticket checks. */
    public AccessControl(ConfigStore store, Clock clock, AccessSettings settings, Optional<TaskManager> tasks,
            ConsoleProxies consoles) {
        requireNonNull(store, "store is null");
        requireNonNull(clock, "clock is null");
        requireNonNull(settings, "settings is null");
        this.files = new AccessFiles(store, settings.watchStore());
        this.service = new AccessService(files, clock, settings, new PasswordHasher(settings.argon2()), tasks);
        this.tickets = new TicketIssuer(new TicketKeyRotation(files, clock)::signingKey, clock);
        this.credentials = new RequestCredentials(service);
        Authenticator authenticator = new Authenticator(service, tickets, requireNonNull(consoles, "consoles is null"));
        this.openId = new OpenIdLogin(service, tickets, settings.outboundTls());
        this.modules = List.of(new AccessApi(service, authenticator), new PasswordApi(service),
                new PermissionsApi(service), new UserApi(service), new TokenApi(service), new GroupApi(service),
                new RoleApi(service), new AclApi(service), new DomainApi(service), new PoolApi(service), new TfaApi(service),
                new OpenIdApi(openId));
    }

    /**
     * Prepares the access files of a new cluster: domains.cfg with the pam and pve realms, user.cfg
     * with root@pam and admin@pve (Administrator on /), admin's password in priv/shadow.cfg (the
     * given one or 20 random characters), and the CSRF key; the first login makes the ticket signing
     * key. Does nothing when user.cfg exists. Returns the generated password, to be shown once;
     * empty when a password was given or the cluster was initialized already.
     */
    public static Optional<String> initialize(ConfigStore store, Optional<String> adminPassword) {
        return Bootstrap.initialize(store, adminPassword, new PasswordHasher());
    }

    /** The access API: /access/... and /pools/... */
    public List<ApiModule> apiModules() {
        return modules;
    }

    /** The OpenID sign-in behind /access/openid (tests read its refusal reasons, which the API keeps to the log). */
    OpenIdLogin openIdLogin() {
        return openId;
    }

    /** What the API methods use; for other modules that need users, pools or realms. */
    public AccessService service() {
        return service;
    }

    /** How requests prove their caller; holds no ticket signing key, unlike this object. */
    public RequestCredentials requestCredentials() {
        return credentials;
    }

    /** The caller of a ticket; see {@link RequestCredentials#ticket}. */
    public Optional<AuthContext> authenticateTicket(String ticket, String clientAddress) {
        return credentials.ticket(ticket, clientAddress);
    }

    /** Whether the {@code CSRFPreventionToken} header is valid for the ticket's user. */
    public boolean verifyCsrf(String token, String userid) {
        return credentials.csrf(token, userid);
    }

    /** The caller of an API token; see {@link RequestCredentials#apiToken}. */
    public AuthContext authenticateToken(String value, String clientAddress) {
        return credentials.apiToken(value, clientAddress);
    }

    /** A ticket for a user, for trusted local callers (the CLI on the node, a console proxy). */
    public String issueTicket(String userid) {
        return tickets.issue(userid);
    }

    /** The CSRF prevention token that goes with a ticket of {@code userid}. */
    public String issueCsrfToken(String userid) {
        return service.csrfTokens().issue(userid);
    }

    @Override
    public Set<Privilege> privileges(AuthContext auth, String path) {
        return service.privileges(auth, path);
    }

    @Override
    public PermissionView view(AuthContext auth) {
        return service.view(auth);
    }

    /** Stops watching the config store. */
    @Override
    public void close() {
        files.close();
    }
}
