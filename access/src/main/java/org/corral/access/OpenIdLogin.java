package org.corral.access;

import static java.util.Objects.requireNonNull;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jwt.JWT;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.token.BearerAccessToken;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.Prompt;
import com.nimbusds.openid.connect.sdk.UserInfoRequest;
import com.nimbusds.openid.connect.sdk.UserInfoResponse;
import com.nimbusds.openid.connect.sdk.claims.ACR;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.corral.access.config.Group;
import org.corral.access.config.ProxmoxText;
import org.corral.access.config.RealmConfig;
import org.corral.access.config.User;
import org.corral.access.config.UserConfig;
import org.corral.access.realm.OpenIdRealm;
import org.corral.core.error.ApiException;
import org.corral.core.error.ParameterError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sign-in of {@code openid} realms: the authorization code flow with PKCE (S256). The auth URL
 * step keeps the state, nonce and code verifier on this node, once, for {@link #STATE_LIFETIME};
 * the login step takes them back (a state is good for one login only), redeems the code at the
 * provider's token endpoint with the verifier, checks the ID token (signature from the provider's
 * JWKS, issuer, audience, expiry, nonce), maps {@code username-claim} to {@code <claim>@<realm>}
 * and the {@code groups-claim} to groups {@code <group>-<realm>}, and answers a ticket as POST
 * /access/ticket does. The provider is believed through the node's outbound TLS trust.
 */
public final class OpenIdLogin {
    /** Claim names, as Proxmox's OpenId plugin allows them. */
    public static final String CLAIM_REGEX = "[A-Za-z0-9.\\-_]+";
    /** How long a state given out by auth-url can be used. */
    public static final java.time.Duration STATE_LIFETIME = java.time.Duration.ofMinutes(10);
    /** Pending sign-ins kept at most; auth-url is open to anyone, so this bounds the memory it takes. */
    static final int MAX_PENDING = 10_000;
    private static final int TIMEOUT_MILLIS = 10_000;
    private static final int CLOCK_SKEW_SECONDS = 30;
    private static final Set<JWSAlgorithm> SIGNATURES = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512, JWSAlgorithm.ES256, JWSAlgorithm.ES384,
            JWSAlgorithm.ES512, JWSAlgorithm.Ed25519, JWSAlgorithm.EdDSA);
    private static final Pattern GROUP_CHARS = Pattern.compile("[^A-Za-z0-9.\\-_]");
    private static final Pattern USER_TEXT = Pattern.compile("[^:\\p{Cntrl}]{1,256}");
    private static final Logger log = LoggerFactory.getLogger(OpenIdLogin.class);

    private final AccessService access;
    private final TicketIssuer tickets;
    private final SSLContext tls;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();

    /** What auth-url handed out and login needs back. */
    private record Pending(String realm, String redirectUrl, CodeVerifier verifier, Nonce nonce, Instant expires) {}

    public OpenIdLogin(AccessService access, TicketIssuer tickets, SSLContext tls) {
        this.access = requireNonNull(access, "access is null");
        this.tickets = requireNonNull(tickets, "tickets is null");
        this.tls = requireNonNull(tls, "tls is null");
    }

    /** Why {@code url} can't be an issuer or redirect URL, if it can't: an absolute http(s) URL with a host. */
    public static Optional<String> checkUrl(String url) {
        try {
            URI uri = new URI(url);
            if (!"https".equalsIgnoreCase(uri.getScheme()) && !"http".equalsIgnoreCase(uri.getScheme())) {
                return Optional.of("must be an http or https URL");
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                return Optional.of("URL has no host");
            }
            if (uri.getRawFragment() != null) {
                return Optional.of("URL must not have a fragment");
            }
            return Optional.empty();
        } catch (URISyntaxException e) {
            return Optional.of("invalid URL: " + e.getMessage());
        }
    }

    /** POST /access/openid/auth-url: the provider's authorization URL for a new sign-in into {@code realm}. */
    public String authUrl(String realmId, String redirectUrl) {
        RealmConfig realm = openIdRealm(realmId).orElseThrow(() -> new ParameterError("realm",
                access.domains().realm(realmId).isPresent() ? "realm '" + realmId + "' is not an OpenID realm"
                        : "authentication domain '" + realmId + "' does not exist"));
        checkUrl(redirectUrl).ifPresent(problem -> {
            throw new ParameterError("redirect-url", problem);
        });
        OIDCProviderMetadata provider;
        try {
            provider = discover(realm);
        } catch (AuthenticationException e) {
            throw new ApiException(502, "OpenID provider of realm '" + realmId + "': " + e.getMessage());
        }
        CodeVerifier verifier = new CodeVerifier();
        Nonce nonce = new Nonce();
        State state = new State(32);
        Scope scope = new Scope("openid");
        for (String s : realm.option("scopes").orElse("email profile").split("\\s+")) {
            if (!s.isEmpty()) {
                scope.add(s);
            }
        }
        AuthenticationRequest.Builder request = new AuthenticationRequest.Builder(ResponseType.CODE, scope,
                new ClientID(realm.option("client-id").orElseThrow()), URI.create(redirectUrl))
                .endpointURI(provider.getAuthorizationEndpointURI())
                .state(state)
                .nonce(nonce)
                .codeChallenge(verifier, CodeChallengeMethod.S256);
        realm.option("prompt").filter(p -> !p.isBlank()).ifPresent(p -> {
            try {
                request.prompt(Prompt.parse(p));
            } catch (ParseException e) {
                request.customParameter("prompt", p);
            }
        });
        realm.option("acr-values").filter(v -> !v.isBlank()).ifPresent(values -> {
            List<ACR> acrs = new ArrayList<>();
            for (String v : values.split("\\s+")) {
                acrs.add(new ACR(v));
            }
            request.acrValues(acrs);
        });
        remember(state.getValue(), new Pending(realmId, redirectUrl, verifier, nonce, access.clock().instant().plus(STATE_LIFETIME)));
        return request.build().toURI().toString();
    }

    private void remember(String state, Pending entry) {
        if (pending.size() >= MAX_PENDING) {
            Instant now = access.clock().instant();
            pending.values().removeIf(p -> p.expires().isBefore(now));
            if (pending.size() >= MAX_PENDING) {
                throw new ApiException(503, "too many OpenID sign-ins in progress, try again later");
            }
        }
        pending.put(state, entry);
    }

    /**
     * POST /access/openid/login: redeems the authorization code of the sign-in that {@code state}
     * names. Answers what POST /access/ticket answers; throws {@link AuthenticationException}
     * saying why the sign-in is refused.
     */
    public Map<String, Object> login(String code, String state, String redirectUrl) {
        Pending started = pending.remove(state);
        if (started == null) {
            throw new AuthenticationException("invalid OpenID state (unknown, altered or used already)");
        }
        if (started.expires().isBefore(access.clock().instant())) {
            throw new AuthenticationException("OpenID state expired");
        }
        if (!started.redirectUrl().equals(redirectUrl)) {
            throw new AuthenticationException("redirect-url differs from the one the sign-in started with");
        }
        RealmConfig realm = openIdRealm(started.realm())
                .orElseThrow(() -> new AuthenticationException("realm '" + started.realm() + "' is no longer an OpenID realm"));
        OIDCProviderMetadata provider = discover(realm);
        ClientID client = new ClientID(realm.option("client-id").orElseThrow());
        AuthorizationCodeGrant grant = new AuthorizationCodeGrant(new AuthorizationCode(code), URI.create(redirectUrl),
                started.verifier());
        // priv/ first; a domains.cfg taken over from Proxmox keeps the key inline
        Optional<String> key = access.clientKey(realm.realm()).or(() -> realm.option("client-key").filter(k -> !k.isEmpty()));
        TokenRequest request = key.isPresent()
                ? new TokenRequest(provider.getTokenEndpointURI(), new ClientSecretBasic(client, new Secret(key.get())), grant)
                : new TokenRequest(provider.getTokenEndpointURI(), client, grant);
        OIDCTokenResponse tokens;
        try {
            TokenResponse response = OIDCTokenResponseParser.parse(send(request.toHTTPRequest()));
            if (!response.indicatesSuccess()) {
                ErrorObject error = response.toErrorResponse().getErrorObject();
                throw new AuthenticationException("the provider refused the authorization code: " + error.getCode()
                        + (error.getDescription() == null ? "" : " (" + error.getDescription() + ")"));
            }
            tokens = (OIDCTokenResponse) response.toSuccessResponse();
        } catch (ParseException | ClassCastException e) {
            throw new AuthenticationException("invalid token response: " + e.getMessage());
        }
        JWT idToken = tokens.getOIDCTokens().getIDToken();
        if (idToken == null) {
            throw new AuthenticationException("the token response has no ID token");
        }
        Map<String, Object> claims = new LinkedHashMap<>(validate(realm, provider, client, idToken, started.nonce()).toJSONObject());
        boolean queryUserinfo = realm.option("query-userinfo").map(ProxmoxText::truthy).orElse(true);
        if (queryUserinfo && provider.getUserInfoEndpointURI() != null && tokens.getOIDCTokens().getBearerAccessToken() != null) {
            userinfo(provider, tokens.getOIDCTokens().getBearerAccessToken(), (String) claims.get("sub"))
                    .forEach(claims::putIfAbsent);
        }
        String userid = username(realm, claims);
        mapUser(realm, userid, claims);
        log.info("successful OpenID auth for user '{}'", userid);
        return Authenticator.signedIn(access, tickets, userid, true);
    }

    private Optional<RealmConfig> openIdRealm(String realmId) {
        return access.domains().realm(realmId).filter(r -> access.realmOf(r).orElse(null) instanceof OpenIdRealm);
    }

    /** The provider's metadata from {@code issuer-url}/.well-known/openid-configuration, whose issuer must be issuer-url. */
    private OIDCProviderMetadata discover(RealmConfig realm) {
        String issuer = realm.option("issuer-url").orElseThrow(() -> new AuthenticationException("realm has no issuer-url"));
        String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
        try {
            HTTPResponse response = send(new HTTPRequest(HTTPRequest.Method.GET, URI.create(base + "/.well-known/openid-configuration")));
            if (!response.indicatesSuccess()) {
                throw new AuthenticationException("discovery answered HTTP " + response.getStatusCode());
            }
            OIDCProviderMetadata metadata = OIDCProviderMetadata.parse(response.getBodyAsJSONObject());
            if (!metadata.getIssuer().getValue().equals(issuer)) {
                throw new AuthenticationException("the provider names issuer '" + metadata.getIssuer() + "', not '" + issuer + "'");
            }
            if (metadata.getTokenEndpointURI() == null || metadata.getJWKSetURI() == null) {
                throw new AuthenticationException("the provider has no token endpoint or no JWKS");
            }
            return metadata;
        } catch (ParseException | IllegalArgumentException e) {
            throw new AuthenticationException("invalid provider metadata: " + e.getMessage());
        }
    }

    private IDTokenClaimsSet validate(RealmConfig realm, OIDCProviderMetadata provider, ClientID client, JWT idToken, Nonce nonce) {
        if (!(idToken.getHeader().getAlgorithm() instanceof JWSAlgorithm alg) || !SIGNATURES.contains(alg)) {
            throw new AuthenticationException("ID token is not signed with a public key algorithm ("
                    + idToken.getHeader().getAlgorithm() + ")");
        }
        List<JWSAlgorithm> offered = provider.getIDTokenJWSAlgs();
        if (offered != null && !offered.contains(alg)) {
            throw new AuthenticationException("ID token algorithm " + alg + " is not one the provider announces");
        }
        JWKSet keys;
        try {
            HTTPResponse response = send(new HTTPRequest(HTTPRequest.Method.GET, provider.getJWKSetURI()));
            if (!response.indicatesSuccess()) {
                throw new AuthenticationException("JWKS answered HTTP " + response.getStatusCode());
            }
            keys = JWKSet.parse(response.getBody());
        } catch (java.text.ParseException e) {
            throw new AuthenticationException("invalid JWKS: " + e.getMessage());
        }
        IDTokenValidator validator = new IDTokenValidator(new Issuer(realm.option("issuer-url").orElseThrow()), client, alg, keys);
        validator.setMaxClockSkew(CLOCK_SKEW_SECONDS);
        try {
            return validator.validate(idToken, nonce);
        } catch (BadJOSEException | JOSEException e) {
            throw new AuthenticationException("invalid ID token: " + e.getMessage());
        }
    }

    /** The userinfo endpoint's claims; refused when they are about another subject. */
    private Map<String, Object> userinfo(OIDCProviderMetadata provider, BearerAccessToken token, String subject) {
        try {
            UserInfoResponse response = UserInfoResponse.parse(send(new UserInfoRequest(provider.getUserInfoEndpointURI(), token)
                    .toHTTPRequest()));
            if (!response.indicatesSuccess()) {
                throw new AuthenticationException("userinfo refused: " + response.toErrorResponse().getErrorObject().getCode());
            }
            var info = response.toSuccessResponse().getUserInfo();
            if (!info.getSubject().getValue().equals(subject)) {
                throw new AuthenticationException("userinfo is about another subject");
            }
            return info.toJSONObject();
        } catch (ParseException e) {
            throw new AuthenticationException("invalid userinfo response: " + e.getMessage());
        }
    }

    private HTTPResponse send(HTTPRequest request) {
        request.setSSLSocketFactory(tls.getSocketFactory());
        request.setConnectTimeout(TIMEOUT_MILLIS);
        request.setReadTimeout(TIMEOUT_MILLIS);
        request.setFollowRedirects(false);
        try {
            return request.send();
        } catch (IOException e) {
            URL url = request.getURL();
            throw new AuthenticationException("can't reach " + url.getHost() + ":" + url.getPort() + ": " + e.getMessage());
        }
    }

    /** {@code username-claim} (default {@code sub}; {@code subject} and {@code username} as Proxmox's older names) at the realm. */
    static String username(RealmConfig realm, Map<String, Object> claims) {
        String claim = realm.option("username-claim").orElse("sub");
        Object value = claims.get(claim);
        if (value == null && claim.equals("subject")) {
            value = claims.get("sub");
        } else if (value == null && claim.equals("username")) {
            value = claims.get("preferred_username");
        }
        if (!(value instanceof String name)) {
            throw new AuthenticationException(value == null ? "missing configured claim '" + claim + "'"
                    : "claim '" + claim + "' is not a string");
        }
        String userid = name + "@" + realm.realm();
        if (!Ids.isUser(userid)) {
            throw new AuthenticationException("claim '" + claim + "' gives an invalid user name '" + userid + "'");
        }
        return userid;
    }

    /** {@code <group>-<realm>} for each group of the claim that makes a valid group id (characters it can't have become X). */
    static Set<String> groups(RealmConfig realm, Map<String, Object> claims) {
        Optional<String> claim = realm.option("groups-claim").filter(c -> !c.isEmpty());
        if (claim.isEmpty() || !claims.containsKey(claim.get())) {
            return Set.of();
        }
        if (!(claims.get(claim.get()) instanceof Collection<?> values)) {
            log.warn("OpenID groups claim '{}' of realm {} is not a list; groups are not updated", claim.get(), realm.realm());
            return Set.of();
        }
        Set<String> result = new LinkedHashSet<>();
        for (Object value : values) {
            if (value instanceof String name && !name.isEmpty()) {
                String group = GROUP_CHARS.matcher(name).replaceAll("X") + "-" + realm.realm();
                if (Ids.isGroup(group)) {
                    result.add(group);
                }
            }
        }
        return result;
    }

    /** Creates the user with autocreate (else refuses one that does not exist or is disabled) and maps its groups. */
    private void mapUser(RealmConfig realm, String userid, Map<String, Object> claims) {
        boolean autocreate = realm.option("autocreate").map(ProxmoxText::truthy).orElse(false);
        boolean groupsAutocreate = realm.option("groups-autocreate").map(ProxmoxText::truthy).orElse(false);
        boolean overwrite = realm.option("groups-overwrite").map(ProxmoxText::truthy).orElse(false);
        Set<String> groups = groups(realm, claims);
        boolean groupsGiven = realm.option("groups-claim").filter(c -> !c.isEmpty()).map(claims::get)
                .filter(v -> v instanceof Collection<?>).isPresent();
        if (!autocreate && access.users().user(userid).isEmpty()) {
            throw new AuthenticationException("user '" + userid + "' does not exist and the realm does not create users");
        }
        access.updateUsers(Optional.empty(), users -> {
            UserConfig next = users;
            if (next.user(userid).isEmpty()) {
                if (!autocreate) {
                    throw new AuthenticationException("user '" + userid + "' does not exist");
                }
                User user = User.of(userid);
                user = text(claims, "email").map(user::withEmail).orElse(user);
                user = text(claims, "given_name").map(user::withFirstname).orElse(user);
                user = text(claims, "family_name").map(user::withLastname).orElse(user);
                next = next.withUser(user);
                log.info("created OpenID user '{}'", userid);
            } else if (!next.user(userid).get().activeAt(access.nowSeconds())) {
                throw new AuthenticationException("user '" + userid + "' is disabled or expired");
            }
            if (!groupsGiven) {
                return next;
            }
            Set<String> memberships = new LinkedHashSet<>(overwrite ? Set.of() : next.groupsOf(userid));
            for (String group : groups) {
                if (next.group(group).isEmpty() && groupsAutocreate) {
                    next = next.withGroup(Group.of(group));
                }
                if (next.group(group).isPresent()) {
                    memberships.add(group);
                }
            }
            return next.withMemberships(userid, memberships);
        });
    }

    private static Optional<String> text(Map<String, Object> claims, String name) {
        return claims.get(name) instanceof String value && USER_TEXT.matcher(value).matches() ? Optional.of(value) : Optional.empty();
    }
}
