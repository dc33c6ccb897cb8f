package org.corral.access;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.RealmConfig;
import org.corral.access.config.UserConfig;
import org.corral.access.config.AclPaths;
import org.corral.access.tfa.RealmTfa;
import org.corral.core.json.Json;
import tools.jackson.databind.node.ObjectNode;
import org.corral.core.access.AuthContext;
import org.corral.core.access.Privilege;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.error.Unauthorized;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The login of POST /access/ticket: checks the password with the user's realm (or accepts a valid
 * ticket of the same user, or of root@pam, to renew it), throttles failures, and answers the
 * ticket, CSRF token and capability map. A user with second factors (or in a realm that requires
 * one) first gets a half ticket with {@code NeedTFA} and the challenge, and then a ticket for the
 * response to it (or at once when {@code otp} is given). With {@code path} and {@code privs} the
 * password may also be a console ticket of the user for that path, as Proxmox's older console
 * proxies check them. POST /access/vncticket checks a console ticket and the privileges it is for.
 * Every failure is "authentication failure" to the client; the reason goes to the log only.
 */
public final class Authenticator {
    public static final String FAILURE = "authentication failure";
    private static final Logger log = LoggerFactory.getLogger(Authenticator.class);

    private final AccessService access;
    private final TicketIssuer tickets;
    private final ConsoleProxies consoles;

    public Authenticator(AccessService access, TicketIssuer tickets, ConsoleProxies consoles) {
        this.access = requireNonNull(access, "access is null");
        this.tickets = requireNonNull(tickets, "tickets is null");
        this.consoles = requireNonNull(consoles, "consoles is null");
    }

    /** What the client sent to POST /access/ticket. */
    public record Credentials(String username, Optional<String> realm, String password, Optional<String> otp,
            Optional<String> tfaChallenge, Optional<String> path, Optional<String> privs) {
        public Credentials {
            requireNonNull(username, "username is null");
            requireNonNull(realm, "realm is null");
            requireNonNull(password, "password is null");
            requireNonNull(otp, "otp is null");
            requireNonNull(tfaChallenge, "tfaChallenge is null");
            requireNonNull(path, "path is null");
            requireNonNull(privs, "privs is null");
        }
    }

    /**
     * Logs in: on success answers {@code username}, {@code ticket}, {@code CSRFPreventionToken},
     * {@code clustername} (for callers with Sys.Audit on /) and {@code cap}; with {@code path} and
     * {@code privs} it only checks the credentials and privileges and answers no ticket. Throws
     * {@link Unauthorized} after the throttle's delay on any failure.
     */
    public Map<String, Object> login(Credentials credentials, String clientAddress) {
        String given = credentials.realm().map(r -> credentials.username() + "@" + r).orElse(credentials.username());
        LoginThrottle throttle = access.throttle();
        String userid;
        try {
            userid = access.lookupUsername(given);
        } catch (AuthenticationException e) {
            log.warn("authentication failure; rhost={} user={} msg={}", clientAddress, given, e.getMessage());
            throttle.failed(given, clientAddress);
            throw new Unauthorized(FAILURE);
        }
        throttle.checkAllowed(userid, clientAddress);
        boolean verifyOnly = credentials.path().isPresent() || credentials.privs().isPresent();
        Optional<String> pending;
        try {
            pending = verify(userid, credentials, verifyOnly, clientAddress);
        } catch (AuthenticationException e) {
            log.warn("authentication failure; rhost={} user={} msg={}", clientAddress, userid, e.getMessage());
            throttle.failed(userid, clientAddress);
            throw new Unauthorized(e instanceof TwoFactor.Unverifiable ? e.getMessage() : FAILURE);
        }
        if (pending.isPresent()) {
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("username", userid);
            // first factor good: a half ticket that only the second step of this user accepts
            answer.put("ticket", tickets.issueTfa(pending.get(), userid));
            answer.put("CSRFPreventionToken", access.csrfTokens().issue(userid));
            answer.put("NeedTFA", 1);
            log.info("user '{}' passed the first factor, second factor required", userid);
            return answer;
        }
        throttle.succeeded(userid, clientAddress);
        log.info("successful auth for user '{}'", userid);
        return signedIn(access, tickets, userid, !verifyOnly);
    }

    /**
     * The answer to a login that succeeded, as Proxmox gives it: {@code username}, a full ticket and
     * CSRF token (unless {@code withTicket} is false: a check of credentials only), {@code clustername}
     * for who may audit {@code /}, and {@code cap}. Every way of signing in answers with this.
     */
    static Map<String, Object> signedIn(AccessService access, TicketIssuer tickets, String userid, boolean withTicket) {
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("username", userid);
        if (withTicket) {
            answer.put("ticket", tickets.issue(userid));
            answer.put("CSRFPreventionToken", access.csrfTokens().issue(userid));
        }
        Optional<String> cluster = access.settings().clusterName().get();
        if (cluster.isPresent() && access.privileges(userid, "/").set().contains(Privilege.SYS_AUDIT)) {
            answer.put("clustername", cluster.get());
        }
        answer.put("cap", access.capabilities(userid));
        return answer;
    }

    /**
     * POST /access/vncticket: passes when {@code ticket} is a console ticket of {@code authid} (a
     * user or a full token id) for {@code path}, and of {@code port} when given, that has not
     * expired, and {@code authid} holds every one of {@code privs} on {@code path}. Otherwise
     * throws {@link Unauthorized} "authentication failure", the reason going to the log only.
     */
    public void verifyConsoleTicket(String authid, String ticket, String path, String privs, OptionalInt port,
            String clientAddress) {
        try {
            Optional<String> normalized = AclPaths.normalize(path);
            if (normalized.isEmpty()) {
                throw new AuthenticationException("invalid path - " + path);
            }
            if (!consoles.verify(ticket, authid, normalized.get(), port)) {
                throw new AuthenticationException("invalid vnc ticket");
            }
            checkPrivileges(authid, normalized, Optional.of(privs));
        } catch (AuthenticationException e) {
            log.warn("authentication failure; rhost={} user={} msg={}", clientAddress, authid, e.getMessage());
            throw new Unauthorized(FAILURE);
        }
        log.info("successful auth for user '{}'", authid);
    }

    /** Checks the credentials; answers the challenge JSON when a second factor is still owed. */
    private Optional<String> verify(String userid, Credentials credentials, boolean verifyOnly, String clientAddress) {
        Ids.UserId id = Ids.user(userid).orElseThrow(() -> new AuthenticationException("invalid user name"));
        UserConfig users = access.users();
        if (users.user(userid).isEmpty()) {
            throw new AuthenticationException("no such user ('" + userid + "')");
        }
        if (!access.active(users, userid, Optional.empty())) {
            throw new AuthenticationException("user '" + userid + "' is disabled or expired");
        }
        RealmConfig realm = access.domains().realm(id.realm())
                .orElseThrow(() -> new AuthenticationException("auth domain '" + id.realm() + "' does not exist"));
        Optional<RealmTfa> realmTfa;
        try {
            realmTfa = RealmTfa.of(realm.option("tfa"));
        } catch (IllegalArgumentException e) {
            // a realm whose second factor can't be read lets nobody in without one
            throw new AuthenticationException("invalid tfa option of realm '" + id.realm() + "': " + e.getMessage());
        }
        TwoFactor twoFactor = access.twoFactor();
        if (credentials.tfaChallenge().isPresent()) {
            // the second step: the password field carries the response to the challenge in the half ticket
            String challenge = access.ticketVerifier().verifyTfa(credentials.tfaChallenge().get(), userid)
                    .orElseThrow(() -> new AuthenticationException("invalid or expired tfa-challenge"));
            twoFactor.verify(userid, Json.read(challenge), credentials.password(), realmTfa);
        } else {
            Optional<TicketVerifier.Verified> ticket = access.ticketVerifier().verify(credentials.password());
            boolean renewal = ticket.isPresent() && (ticket.get().userid().equals(userid)
                    || !verifyOnly && ticket.get().userid().equals(AuthContext.ROOT))
                    && access.active(users, ticket.get().userid(), Optional.empty());
            boolean consoleTicket = verifyOnly && credentials.path().flatMap(AclPaths::normalize)
                    .filter(path -> consoles.verify(credentials.password(), userid, path, OptionalInt.empty())).isPresent();
            if (!renewal && !consoleTicket) {
                Realm type = access.realmOf(realm)
                        .orElseThrow(() -> new AuthenticationException("realm type '" + realm.type() + "' is not supported"));
                type.authenticate(realm, id.name(), credentials.password(), clientAddress);
                Optional<String> otp = credentials.otp().filter(o -> !o.isEmpty());
                Optional<ObjectNode> challenge = twoFactor.challenge(userid, realmTfa);
                if (challenge.isEmpty() && otp.isPresent()) {
                    throw new AuthenticationException("no such challenge");
                }
                if (challenge.isPresent() && otp.isPresent()) {
                    twoFactor.verify(userid, challenge.get(), otp.get(), realmTfa);
                } else if (challenge.isPresent()) {
                    if (verifyOnly) {
                        throw new AuthenticationException("a second factor is required");
                    }
                    return Optional.of(Json.write(challenge.get()));
                }
            }
        }
        if (verifyOnly) {
            checkPrivileges(userid, credentials.path(), credentials.privs());
        }
        return Optional.empty();
    }

    private void checkPrivileges(String userid, Optional<String> path, Optional<String> privs) {
        Optional<String> normalized = path.flatMap(AclPaths::normalize);
        List<String> names = ProxmoxText.splitList(privs.orElse(""));
        if (normalized.isEmpty() || names.isEmpty()) {
            throw new AuthenticationException("no permission (" + path.orElse("") + ", " + privs.orElse("") + ")");
        }
        var held = access.privileges(userid, normalized.get()).set();
        for (String name : names) {
            Optional<Privilege> privilege = Privilege.byName(name);
            if (privilege.isEmpty() || !held.contains(privilege.get())) {
                throw new AuthenticationException("no permission (" + path.get() + ", " + privs.get() + ")");
            }
        }
    }
}
